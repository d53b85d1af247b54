/**
 * The architecture llama.cpp loads a model as, and the `<arch>.*` hyper-parameters it reads
 * (each model's load_arch_hparams in llama.cpp's src/models/), from a ModelConfig. What llama.cpp
 * derives instead of reading (Gemma's attention scale from head_dim) is checked here, so a model
 * llama.cpp would compute differently is refused by name rather than exported wrong; Gemma's
 * local/global layer pattern and local RoPE base are written (attention.sliding_window_pattern,
 * rope.freq_base_swa) and older llama.cpp builds that assume 1 global in 6 (2 for Gemma 2) and
 * base 10000 get a warning when the model differs.
 *
 *   Llama, Mistral -> llama (q/k rows permuted, see ./tensor-names.ts)   Qwen2 -> qwen2
 *   Qwen3 -> qwen3   Gemma 2 -> gemma2   Gemma 3 text -> gemma3
 */
import type { ModelConfig } from '../../config/model-config';
import { layerWindow } from '../../config/architecture-features';
import { kv, type GgufKv } from './metadata';
import type { GgufArch } from './tensor-names';
import { GgufExportError } from './errors';

export { GgufExportError } from './errors';

export function ggufArchitecture(c: Pick<ModelConfig, 'modelType'>): GgufArch {
  switch (c.modelType) {
    case 'llama':
    case 'mistral':
      return 'llama';
    case 'qwen2':
      return 'qwen2';
    case 'qwen3':
      return 'qwen3';
    case 'gemma2':
      return 'gemma2';
    case 'gemma3_text':
      return 'gemma3';
    default:
      throw new GgufExportError(`gguf: model_type "${c.modelType}" has no llama.cpp architecture here (supported: llama, mistral, qwen2, qwen3, gemma2, gemma3_text)`);
  }
}

/** What llama.cpp would compute differently: refused (thrown) when it changes every output, returned as warnings when mild. */
function checkLlamaCppSemantics(c: ModelConfig, arch: GgufArch): string[] {
  const refuse = (msg: string) => {
    throw new GgufExportError(`gguf: ${msg}`);
  };
  const warnings: string[] = [];
  if (arch === 'gemma2' || arch === 'gemma3') {
    // llama.cpp scales scores by 1/sqrt(head_dim) (hidden/heads for the 27B models), not query_pre_attn_scalar.
    const q = c.queryPreAttnScalar ?? c.headDim;
    if (q !== c.headDim && q !== c.hiddenSize / c.numHeads) {
      refuse(`query_pre_attn_scalar ${q} differs from head_dim ${c.headDim}; llama.cpp derives the attention scale from head_dim, so the exported model would compute differently`);
    }
    if (arch === 'gemma3' && c.attnLogitSoftcap) refuse('Gemma 3 with attn_logit_softcapping: llama.cpp\'s gemma3 applies none');
    const pattern = arch === 'gemma2' ? 2 : 6; // what llama.cpp assumes without attention.sliding_window_pattern
    if (Array.from({ length: c.numLayers }, (_, l) => (layerWindow(c, l) !== null) !== l % pattern < pattern - 1).some(Boolean)) {
      warnings.push(`the local/global layer pattern differs from ${arch}'s usual 1 global in ${pattern}; it is written as ${arch}.attention.sliding_window_pattern, which llama.cpp builds older than 2025 ignore`);
    }
    if (arch === 'gemma3' && c.localRopeTheta !== undefined && c.localRopeTheta !== 10000) {
      warnings.push(`rope_local_base_freq ${c.localRopeTheta} is written as gemma3.rope.freq_base_swa, which llama.cpp builds older than 2025 ignore (they use 10000)`);
    }
  }
  if ((arch === 'llama' || arch === 'qwen2' || arch === 'qwen3') && c.slidingWindow) {
    warnings.push(`sliding_window ${c.slidingWindow}: llama.cpp's ${arch} attends over the whole context, so outputs differ past ${c.slidingWindow} tokens`);
  }
  if (c.ropeScaling?.type === 'llama3' && arch !== 'llama') refuse(`rope_scaling llama3 on ${arch}: llama.cpp reads it (as rope_freqs) only for the llama architecture`);
  return warnings;
}

export interface ArchitectureMetadata {
  arch: GgufArch;
  metadata: GgufKv[];
  /** Differences llama.cpp will make that are worth telling (not errors). */
  warnings: string[];
}

/** general.architecture and every `<arch>.*` key llama.cpp reads for this model. */
export function architectureMetadata(c: ModelConfig): ArchitectureMetadata {
  const arch = ggufArchitecture(c);
  const warnings = checkLlamaCppSemantics(c, arch);
  const p = (k: string) => `${arch}.${k}`;
  const m: GgufKv[] = [
    kv.str('general.architecture', arch),
    kv.u32(p('vocab_size'), c.vocabSize),
    kv.u32(p('context_length'), c.maxPositionEmbeddings),
    kv.u32(p('embedding_length'), c.hiddenSize),
    kv.u32(p('block_count'), c.numLayers),
    kv.u32(p('feed_forward_length'), c.intermediateSize),
    kv.u32(p('attention.head_count'), c.numHeads),
    kv.u32(p('attention.head_count_kv'), c.numKvHeads),
    kv.u32(p('attention.key_length'), c.headDim),
    kv.u32(p('attention.value_length'), c.headDim),
    kv.f32(p('attention.layer_norm_rms_epsilon'), c.rmsNormEps),
    kv.f32(p('rope.freq_base'), c.ropeTheta),
    kv.u32(p('rope.dimension_count'), c.headDim),
  ];
  if (c.ropeScaling?.type === 'linear') {
    m.push(kv.str(p('rope.scaling.type'), 'linear'), kv.f32(p('rope.scaling.factor'), c.ropeScaling.factor));
  }
  if (arch === 'gemma2' || arch === 'gemma3') {
    if (c.slidingWindow) {
      m.push(kv.u32(p('attention.sliding_window'), c.slidingWindow));
      m.push(kv.bools(p('attention.sliding_window_pattern'), Array.from({ length: c.numLayers }, (_, l) => layerWindow(c, l) !== null)));
    }
    if (c.localRopeTheta !== undefined) m.push(kv.f32(p('rope.freq_base_swa'), c.localRopeTheta));
    if (c.attnLogitSoftcap) m.push(kv.f32(p('attn_logit_softcapping'), c.attnLogitSoftcap));
    if (c.finalLogitSoftcap) m.push(kv.f32(p('final_logit_softcapping'), c.finalLogitSoftcap));
  }
  return { arch, metadata: m, warnings };
}

/**
 * Llama 3.1's rope_scaling as llama.cpp takes it: a `rope_freqs.weight` tensor of head_dim/2 factors
 * that divide each RoPE frequency (the converter's generate_extra_tensors), or null when the model
 * has no llama3 scaling. factor_i = 1 for short wavelengths, `factor` for long ones, a smooth ramp
 * between: 1 / ((1 - s) / factor + s), s = (old_context / wavelength - low) / (high - low).
 */
export function llama3RopeFactors(c: ModelConfig): Float32Array | null {
  const s = c.ropeScaling;
  if (s?.type !== 'llama3') return null;
  const dim = c.headDim;
  const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  const out = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) {
    const freq = 1 / c.ropeTheta ** ((2 * i) / dim);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = s.factor;
    else {
      const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      out[i] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return out;
}
