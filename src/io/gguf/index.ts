// GGUF for llama.cpp and Ollama: the streaming writer, llama.cpp's names and encodings, tokenizer
// metadata, adapter and model files, the Ollama Modelfile, and a small reader. Browser-safe.
export { BLOCK, GGUF_DEFAULT_ALIGNMENT, GGUF_VERSION, GgmlType, GgufValueType, LLAMA_FILE_TYPE, TokenType, tensorBytes, type WrittenGgmlType } from './constants';
export { GgufExportError } from './errors';
export { kv, type GgufKv, type GgufValue } from './metadata';
export { GgufStream, ggufLayout, writeGgufToBytes, type ByteSink, type GgufLayout, type GgufTensorInfo } from './writer';
export { readGguf, type GgufFile, type GgufReadTensor, type GgufReadValue } from './reader';
export { dequantize, encodeF16, encodeTensor, quantizeQ4_0, quantizeQ5_0, quantizeQ8_0 } from './quantize';
export { dequantizeQ4_K, dequantizeQ6_K, nearestInt, quantizeQ4_K, quantizeQ6_K, QK_K } from './quantize-k';
export { architectureMetadata, ggufArchitecture, llama3RopeFactors } from './architecture';
export { fromGgufValues, ggufModuleWeight, ggufTensorName, permuteQkRows, qkPermuteHeads, toGgufValues, type GgufArch } from './tensor-names';
export { GGUF_EXPORT_TYPES, isGgufExportType, llamaFileType, parseGgufExportType, tensorTypeFor, useMoreBits, type GgufExportType } from './tensor-types';
export { detectPreTokenizer, hfPreTokenizer, type PreTokenizerName } from './pre-tokenizers';
export { tokenizerMetadata, type TokenizerInputs, type TokenizerMetadata } from './tokenizer-metadata';
export { planModelGguf, writeModelGguf, type GgufProgress, type HfTensor, type ModelGgufInput, type ModelGgufPlan } from './model-gguf';
export { llamaCppLoraScale, writeAdapterGguf, type AdapterGgufInput } from './adapter-gguf';
export { ollamaModelfile, translateChatTemplate, type ModelfileInput } from './modelfile';
