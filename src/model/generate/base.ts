/**
 * Base weights for a decoder when no training graph holds them: the same `createBaseWeights` the
 * graph uses (any base precision, the LM head in vocabulary chunks), streamed in one tensor at a time.
 * When a training graph exists, pass its `graph.base` to createDecoder instead: one copy on the GPU.
 */
import type { TensorLoader } from '../../io/model-source/types';
import type { Engine } from '../../engine/context';
import type { WeightFormat } from '../../reference/quant/packed';
import type { ModelConfig } from '../../config/model-config';
import { createBaseWeights, type BaseWeights } from '../graph/base-weights';
import { graphDims, maxBindingBytes } from '../graph/dims';

export interface DecoderBaseOptions {
  /** Streams the tensors in; without it only the allocation happens (a memory plan). */
  load?: TensorLoader;
  /** Storage of the linear layers (default f32). */
  format?: WeightFormat;
  doubleQuant?: boolean;
  /** LM-head rows per chunk (default 4096, as RunConfig). */
  vocabChunk?: number;
  /** The largest binding to size pieces for (default: the engine's device). */
  maxBindingBytes?: number;
}

export function createDecoderBase(engine: Engine, model: ModelConfig, o: DecoderBaseOptions): Promise<BaseWeights> {
  const dims = graphDims(model, 1, 1, o.vocabChunk ?? 4096, o.maxBindingBytes ?? maxBindingBytes(engine.gpu.limits));
  return createBaseWeights(engine, model, o.format ?? 'f32', o.doubleQuant ?? false, dims, o.load);
}
