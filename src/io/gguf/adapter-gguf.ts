/**
 * A PEFT LoRA adapter as the GGUF llama.cpp loads next to its base model (llama-adapter.cpp):
 * general.type "adapter", adapter.type "lora", adapter.lora.alpha, and per adapted module
 * `<base tensor>.lora_a` with dims [in, r] (PEFT's lora_A (r, in), same bytes) and
 * `<base tensor>.lora_b` with dims [r, out] (lora_B (out, r)). For the `llama` architecture lora_B's
 * rows are permuted as the base q/k weights are (./tensor-names.ts).
 *
 * llama.cpp scales each module by alpha / r with the module's own r (alpha / r = 1 when alpha is 0).
 * PEFT's scale can differ per module (rank_pattern / alpha_pattern, rsLoRA's alpha / sqrt(r)); the
 * difference is folded into lora_B (B * scale_peft / scale_llama), so B A x scale is exactly PEFT's.
 */
import type { PeftAdapter } from '../../config/adapter';
import type { ModelConfig } from '../../config/model-config';
import { loraScaling } from '../../config/lora-config';
import { GGML_QUANTIZATION_VERSION, LLAMA_FILE_TYPE } from './constants';
import { ggufArchitecture } from './architecture';
import { GgufExportError } from './errors';
import { kv, type GgufKv } from './metadata';
import { encodeTensor } from './quantize';
import { ggufModuleWeight, permuteQkRows, qkPermuteHeads } from './tensor-names';
import type { GgufExportType } from './tensor-types';
import { GgufStream, type GgufTensorInfo } from './writer';
import type { ByteSink } from '../safetensors/stream';

export interface AdapterGgufInput {
  /** The base model's config (the architecture and, for `llama`, the heads to permute over). */
  config: ModelConfig;
  adapter: PeftAdapter;
  /** general.name */
  name: string;
  /** f32 (default) or f16; adapters are small, quantized types are refused. */
  type?: GgufExportType;
}

interface AdapterTensor extends GgufTensorInfo {
  values: () => Float32Array;
}

/** The scale llama.cpp will apply to a module of rank r. */
export const llamaCppLoraScale = (alpha: number, r: number) => (alpha ? alpha / r : 1);

function plan(input: AdapterGgufInput): { metadata: GgufKv[]; tensors: AdapterTensor[] } {
  const { config: c, adapter: a } = input;
  const type = input.type ?? 'f32';
  if (type !== 'f32' && type !== 'f16') throw new GgufExportError(`gguf: an adapter is written f32 or f16 (it is small); got ${type}`);
  const wtype = type === 'f32' ? 'F32' : 'F16';
  const arch = ggufArchitecture(c);
  if (a.tensors.length === 0) throw new GgufExportError('gguf: the adapter has no LoRA tensors');
  if (a.config.useDora || a.tensors.some((t) => t.M)) {
    throw new GgufExportError('gguf: a DoRA adapter cannot be written as a llama.cpp LoRA adapter (llama.cpp applies no magnitude); merge it into the model and export the merged model instead');
  }
  const alpha = a.config.alpha;
  const tensors: AdapterTensor[] = [];
  for (const t of a.tensors) {
    if (t.module === 'lm_head' && c.tieWordEmbeddings) {
      throw new GgufExportError('gguf: the adapter adapts lm_head, but the base model ties it to the embeddings, so its GGUF has no output.weight ' +
        'for llama.cpp to apply a LoRA to; export the merged model instead (--what merged)');
    }
    const base = ggufModuleWeight(t.path, arch);
    const factor = loraScaling(t.r, t.alpha, a.config.useRslora) / llamaCppLoraScale(alpha, t.r);
    const heads = qkPermuteHeads(`${t.path}.weight`, c, arch);
    tensors.push({ name: `${base}.lora_a`, type: wtype, dims: [t.inFeatures, t.r], values: () => t.A });
    tensors.push({
      name: `${base}.lora_b`, type: wtype, dims: [t.r, t.outFeatures],
      values: () => {
        const B = factor === 1 ? t.B : t.B.map((v) => v * factor);
        return heads === null ? B : permuteQkRows(B, t.outFeatures, t.r, heads);
      },
    });
  }
  const metadata: GgufKv[] = [
    kv.str('general.architecture', arch),
    kv.str('general.type', 'adapter'),
    kv.str('general.name', input.name),
    kv.u32('general.file_type', LLAMA_FILE_TYPE[wtype]),
    kv.u32('general.quantization_version', GGML_QUANTIZATION_VERSION),
    kv.str('adapter.type', 'lora'),
    kv.f32('adapter.lora.alpha', alpha),
  ];
  return { metadata, tensors };
}

/** Stream the adapter GGUF to the sink; returns its size. */
export async function writeAdapterGguf(input: AdapterGgufInput, sink: ByteSink): Promise<{ totalBytes: number; tensors: number }> {
  const { metadata, tensors } = plan(input);
  const stream = new GgufStream(metadata, tensors, sink);
  await stream.start();
  for (const t of tensors) await stream.write(t.name, encodeTensor(t.type, t.values()));
  stream.end();
  return { totalBytes: stream.layout.totalBytes, tensors: tensors.length };
}
