/**
 * A whole model as a GGUF llama.cpp loads: the architecture's hyper-parameters, the tokenizer,
 * and every tensor under its llama.cpp name, converted (q/k permutation, Gemma norms) and encoded
 * (./tensor-types.ts) one at a time as it streams to the sink. The tensors come from a loader by
 * Hugging Face name: a base model's (src/io/model-source) or a merge's (src/model/export).
 */
import type { ModelConfig } from '../../config/model-config';
import type { TensorLoader } from '../model-source/types';
import type { ByteSink } from '../safetensors/stream';
import { GGML_QUANTIZATION_VERSION } from './constants';
import { architectureMetadata, llama3RopeFactors } from './architecture';
import { GgufExportError } from './errors';
import { kv, type GgufKv } from './metadata';
import { encodeTensor } from './quantize';
import { ggufTensorName, toGgufValues, type GgufArch } from './tensor-names';
import { llamaFileType, tensorTypeFor, type GgufExportType } from './tensor-types';
import { tokenizerMetadata, type TokenizerInputs } from './tokenizer-metadata';
import { GgufStream, type GgufTensorInfo } from './writer';

export interface HfTensor {
  /** Hugging Face name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string;
  /** Hugging Face shape: [out, in] for a weight, [n] for a vector. */
  shape: readonly number[];
}

export interface ModelGgufInput {
  config: ModelConfig;
  /** general.name: the model's repo id or folder name. */
  name: string;
  tokenizer: TokenizerInputs;
  /** Every tensor to write (a base checkpoint's, or a merge's), in order. */
  tensors: readonly HfTensor[];
  load: TensorLoader;
  type: GgufExportType;
}

export interface GgufProgress {
  done: number;
  total: number;
  tensor: string;
  bytes: number;
  totalBytes: number;
}

export interface PlannedTensor extends GgufTensorInfo {
  /** The Hugging Face tensor it comes from; null for one made here (rope_freqs). */
  source: HfTensor | null;
}

export interface ModelGgufPlan {
  arch: GgufArch;
  metadata: GgufKv[];
  tensors: PlannedTensor[];
  warnings: string[];
}

/** Everything about the file decided before any tensor is read. */
export function planModelGguf(input: Omit<ModelGgufInput, 'load'>): ModelGgufPlan {
  const c = input.config;
  const a = architectureMetadata(c);
  const tok = tokenizerMetadata(input.tokenizer, c);
  const warnings = [...a.warnings, ...tok.warnings];
  const hasHead = input.tensors.some((t) => t.name === 'lm_head.weight');
  const tensors: PlannedTensor[] = [];
  for (const t of input.tensors) {
    const name = ggufTensorName(t.name, a.arch);
    if (name === null) continue;
    const dims = [...t.shape].reverse();
    const isHead = name === 'output.weight' || (name === 'token_embd.weight' && !hasHead);
    const choice = tensorTypeFor(name, dims, input.type, isHead, c.numLayers);
    if (choice.fallback) warnings.push(choice.fallback);
    tensors.push({ name, type: choice.type, dims, source: t });
  }
  if (!tensors.some((t) => t.name === 'token_embd.weight')) throw new GgufExportError('gguf: the model has no model.embed_tokens.weight');
  if (!hasHead && !c.tieWordEmbeddings) throw new GgufExportError('gguf: the model has no lm_head.weight and its embeddings are not tied');
  if (hasHead && a.arch === 'gemma2') {
    throw new GgufExportError('gguf: llama.cpp\'s gemma2 always uses the token embedding as its output head, so a separate lm_head.weight (an lm_head LoRA merged into a tied head) would be ignored; train without the head target');
  }
  const ropeFactors = llama3RopeFactors(c);
  if (ropeFactors) tensors.push({ name: 'rope_freqs.weight', type: 'F32', dims: [ropeFactors.length], source: null });
  tensors.sort((x, y) => tensorOrder(x.name) - tensorOrder(y.name) || blockOf(x.name) - blockOf(y.name));

  const metadata: GgufKv[] = [
    ...a.metadata.slice(0, 1), // general.architecture first, as llama.cpp's tools write it
    kv.str('general.type', 'model'),
    kv.str('general.name', input.name),
    kv.u32('general.file_type', llamaFileType(input.type)),
    kv.u32('general.quantization_version', GGML_QUANTIZATION_VERSION),
    ...a.metadata.slice(1),
    ...tok.metadata,
  ];
  return { arch: a.arch, metadata, tensors, warnings };
}

/** token_embd, rope_freqs, the blocks in order, then output_norm and output. */
function tensorOrder(name: string): number {
  if (name.startsWith('token_embd')) return 0;
  if (name.startsWith('rope_freqs')) return 1;
  if (name.startsWith('blk.')) return 2;
  return name.startsWith('output_norm') ? 3 : 4;
}
const blockOf = (name: string) => (name.startsWith('blk.') ? Number(name.split('.')[1]) : 0);

/** Plan, then stream every tensor to the sink; returns the plan (warnings, types) and the size. */
export async function writeModelGguf(
  input: ModelGgufInput, sink: ByteSink, opts: { onProgress?: (p: GgufProgress) => void; signal?: AbortSignal } = {},
): Promise<ModelGgufPlan & { totalBytes: number }> {
  const plan = planModelGguf(input);
  const stream = new GgufStream(plan.metadata, plan.tensors, sink);
  await stream.start();
  for (const [i, t] of plan.tensors.entries()) {
    opts.signal?.throwIfAborted();
    let values: Float32Array;
    if (t.source === null) values = llama3RopeFactors(input.config)!;
    else {
      const raw = await input.load(t.source.name);
      const n = t.source.shape.reduce((x, y) => x * y, 1);
      if (raw.length !== n) throw new GgufExportError(`gguf: tensor "${t.source.name}" has ${raw.length} values, its shape [${t.source.shape.join(', ')}] needs ${n}`);
      values = toGgufValues(t.source.name, raw, t.source.shape, input.config, plan.arch);
    }
    await stream.write(t.name, encodeTensor(t.type, values));
    opts.onProgress?.({ done: i + 1, total: plan.tensors.length, tensor: t.name, bytes: stream.bytesWritten, totalBytes: stream.layout.totalBytes });
  }
  stream.end();
  return { ...plan, totalBytes: stream.layout.totalBytes };
}
