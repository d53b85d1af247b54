// Text generation on the GPU with a KV cache: decoder, sampling, adapters from PEFT files.
export { createDecoder, type Decoder, type DecoderOptions } from './decoder';
export { createDecoderBase, type DecoderBaseOptions } from './base';
export { defaultStopIds, type GenerateOptions, type GenerationStats, type StopReason, type TokenInfo } from './generate';
export { argmax, candidates, checkSampling, sampleToken, type Candidates, type SamplingOptions } from './sampling';
export { checkDecoderLora, decoderLoraFromPeft, layoutOfAdapter, type DecoderLora } from './lora-source';
export { planDecoderMemory, type DecoderMemory } from './memory';
