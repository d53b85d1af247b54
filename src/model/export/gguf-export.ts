/**
 * GGUF exports of a base model, of a LoRA adapter for it, or of the two merged, each with its
 * Ollama Modelfile; the CLI (`gguf`) and the studio call this with their own byte sink (a file, a
 * download stream). Formats are src/io/gguf's; this file adds only the merge, which is the model
 * layer's (src/model/merge): merged tensors are computed one at a time (W + scale x B A, summed in
 * float64, rounded once to f32) and encoded as they stream, so the merged model is never whole in
 * memory.
 */
import type { PeftAdapter } from '../../config/adapter';
import type { ModelSource } from '../../io/model-source/model';
import type { TensorLoader } from '../../io/model-source/types';
import type { ByteSink } from '../../io/safetensors/stream';
import { GgufExportError } from '../../io/gguf/errors';
import { writeAdapterGguf } from '../../io/gguf/adapter-gguf';
import { writeModelGguf, type GgufProgress, type HfTensor } from '../../io/gguf/model-gguf';
import { ollamaModelfile } from '../../io/gguf/modelfile';
import { ggufSourceInputs } from '../../io/gguf/source-inputs';
import type { GgufExportType } from '../../io/gguf/tensor-types';
import { mergeLinear } from '../merge/delta';
import { planMerge, type MergePlan } from '../merge/plan';

export const GGUF_WHAT = ['base', 'adapter', 'merged'] as const;
export type GgufWhat = (typeof GGUF_WHAT)[number];

export interface GgufExportOptions {
  model: ModelSource;
  /** Required for `adapter` and `merged`. */
  adapter?: PeftAdapter;
  what: GgufWhat;
  type: GgufExportType;
  sink: ByteSink;
  /** The exported file's name, as the Modelfile refers to it (same folder). */
  fileName: string;
  /** For `adapter`: the base model's GGUF the Modelfile's FROM names (default base-f16.gguf). */
  baseFileName?: string;
  onProgress?: (p: GgufProgress) => void;
  signal?: AbortSignal;
}

export interface GgufExportResult {
  totalBytes: number;
  /** The Ollama Modelfile to write next to the file. */
  modelfile: string;
  /** What llama.cpp will do differently, and type fallbacks. */
  warnings: string[];
}

/** The merged tensors of a plan, by name, as f32 (one at a time). */
export function mergedLoader(plan: MergePlan, load: TensorLoader): { tensors: HfTensor[]; load: TensorLoader } {
  const steps = new Map(plan.steps.map((s) => [s.entry.name, s]));
  return {
    tensors: plan.steps.map((s) => ({ name: s.entry.name, shape: s.entry.shape })),
    async load(name) {
      const step = steps.get(name);
      if (!step) throw new GgufExportError(`gguf: the merge has no tensor "${name}"`);
      const W = await load(step.source);
      if (step.terms.length === 0) return W;
      const out = new Float32Array(W.length);
      mergeLinear(out, 'F32', W, step.rows, step.cols, step.terms);
      return out;
    },
  };
}

export async function exportGguf(o: GgufExportOptions): Promise<GgufExportResult> {
  if ((o.what === 'adapter' || o.what === 'merged') && !o.adapter) {
    throw new GgufExportError(`gguf: --what ${o.what} needs an adapter (--adapter <dir> with adapter_model.safetensors and adapter_config.json)`);
  }
  const inputs = await ggufSourceInputs(o.model);
  const config = o.model.config;
  const modelfileOf = (from: string, adapter?: string) =>
    ollamaModelfile({ from: `./${from}`, adapter: adapter && `./${adapter}`, tokenizer: inputs.modelTokenizer, generationConfig: inputs.generationConfig });

  if (o.what === 'adapter') {
    const r = await writeAdapterGguf({ config, adapter: o.adapter!, name: `${inputs.name} LoRA`, type: o.type }, o.sink);
    const base = o.baseFileName ?? 'base-f16.gguf';
    const note = `# The base model in GGUF: npm run cli -- gguf --model <base dir> --what base --type f16 --out ${base}\n`;
    return { totalBytes: r.totalBytes, modelfile: note + modelfileOf(base, o.fileName), warnings: [] };
  }
  let tensors = inputs.tensors;
  let load = o.model.loader();
  let name = inputs.name;
  if (o.what === 'merged') {
    const index = await o.model.tensorIndex();
    const plan = planMerge(
      { configJson: o.model.configJson, tensors: [...index].map(([n, t]) => ({ name: n, shape: t.shape, dtype: t.dtype })) },
      [{ adapter: o.adapter!, weight: 1, name: 'the adapter' }],
      { dtype: 'F32' },
    );
    ({ tensors, load } = mergedLoader(plan, load));
    name = `${inputs.name} (merged LoRA)`;
  }
  const r = await writeModelGguf({ config, name, tokenizer: inputs.tokenizer, tensors, load, type: o.type }, o.sink, { onProgress: o.onProgress, signal: o.signal });
  return { totalBytes: r.totalBytes, modelfile: modelfileOf(o.fileName), warnings: r.warnings };
}
