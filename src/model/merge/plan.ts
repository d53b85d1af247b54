/**
 * What a merge will write, decided and checked before any tensor is read: the output tensors (the
 * base checkpoint's, in its order, in the chosen dtype), the low-rank terms each linear layer gets
 * from the adapters, and the config.json to write next to it. Every mismatch between an adapter and
 * the base model is reported here, naming the adapter, the module and both shapes.
 *
 * Combining several adapters (weights w_i, scalings s_i = alpha_i / r_i or alpha_i / sqrt(r_i)):
 *   'cat'    W' = W + sum_i w_i s_i B_i A_i, exactly: PEFT's add_weighted_adapter with
 *            combination_type "cat" (and "svd" before its rank truncation). The default.
 *   'linear' PEFT's combination_type "linear": A = sum_i sqrt(w_i s_i) A_i, B = sum_i sqrt(w_i s_i) B_i,
 *            W' = W + B A, which includes the cross terms B_i A_j; needs equal ranks and w_i >= 0.
 * With one adapter both are W + w s B A.
 *
 * A tied LM head (tie_word_embeddings) with an lm_head adapter is untied, as PEFT requires before
 * merging into tied weights: the embedding is written unchanged, lm_head.weight = embedding + delta
 * is written as a tensor of its own, and config.json gets tie_word_embeddings false (otherwise
 * transformers would tie the head back to the embedding on load and drop the merged delta).
 */
import { BadFileError } from '../../core/errors';
import type { PeftAdapter } from '../../config/adapter';
import type { Dtype } from '../../io/safetensors/dtypes';
import { parseModelConfig, type ModelConfig } from '../../config/model-config';
import { loraScaling } from '../../config/lora-config';
import { moduleShape } from '../../config/lora-targets';
import type { DeltaTerm, MergeDtype } from './delta';
import { safetensorsLayout, type TensorEntry } from '../../io/safetensors/stream';
import { expectedShape } from './shapes';

export type Combination = 'cat' | 'linear';

export interface BaseTensor {
  name: string;
  /** Needed only for tensors whose shape config.json does not imply. */
  shape?: readonly number[];
  /** The stored dtype, when known: only float tensors can be merged and written. */
  dtype?: Dtype;
}

export interface MergeBaseInfo {
  /** config.json: its text (written back as is when nothing in it changes) or the parsed object. */
  configJson: string | Record<string, unknown>;
  /** Every tensor of the base checkpoint (all shards), in the order to write them. */
  tensors: readonly (string | BaseTensor)[];
}

export interface WeightedAdapter {
  adapter: PeftAdapter;
  /** Its weight in the combination (1 for a plain merge). */
  weight: number;
  /** For messages (default "adapter 1", "adapter 2" ...). */
  name?: string;
}

export interface MergePlanOptions {
  /** Output dtype (default BF16, like most current checkpoints). */
  dtype?: MergeDtype;
  combination?: Combination;
}

export interface MergeStep {
  entry: TensorEntry;
  /** The base tensor read for it (the embedding, for an untied head). */
  source: string;
  /** rows, cols of the weight (cols = 1 for a vector) */
  rows: number;
  cols: number;
  terms: DeltaTerm[];
}

export interface MergePlan {
  model: ModelConfig;
  /** The config.json to write. */
  configJson: string;
  steps: MergeStep[];
  untiedHead: boolean;
  /** Module paths that receive a delta. */
  mergedModules: string[];
  /** Bytes of the model.safetensors to be written. */
  totalBytes: number;
  metadata: Record<string, string>;
}

const FLOAT_DTYPES = new Set<Dtype>(['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2']);
const TORCH_DTYPE: Record<MergeDtype, string> = { BF16: 'bfloat16', F16: 'float16', F32: 'float32' };
const HEAD = 'lm_head.weight';
const ROTARY_BUFFER = /(^|\.)rotary_emb\.inv_freq$/;
const EMBED = 'model.embed_tokens.weight';

export function planMerge(base: MergeBaseInfo, adapters: readonly WeightedAdapter[], opts: MergePlanOptions = {}): MergePlan {
  const dtype = opts.dtype ?? 'BF16';
  const combination = opts.combination ?? 'cat';
  if (!['BF16', 'F16', 'F32'].includes(dtype)) throw new RangeError(`merge: dtype must be BF16, F16 or F32, got ${String(dtype)}`);
  if (combination !== 'cat' && combination !== 'linear') throw new RangeError(`merge: combination must be "cat" or "linear", got ${String(combination)}`);
  const { json, text } = readConfig(base.configJson);
  const model = parseModelConfig(json);
  if (adapters.length === 0) throw new RangeError('merge: no adapter to merge');
  const named = adapters.map((a, i) => ({ ...a, name: a.name ?? `adapter ${i + 1}` }));
  for (const a of named) {
    if (!Number.isFinite(a.weight)) throw new RangeError(`merge: the weight of ${a.name} is ${a.weight}; give a finite number`);
    if (combination === 'linear' && a.weight < 0) {
      throw new RangeError(`merge: ${a.name} has weight ${a.weight}; the "linear" combination scales A and B by sqrt(weight), so weights must be >= 0 (use "cat" for negative weights)`);
    }
    if (a.adapter.tensors.length === 0) throw new RangeError(`merge: ${a.name} has no LoRA tensors`);
  }

  // Old Llama checkpoints saved RoPE's inv_freq; transformers recomputes it and ignores the tensor.
  const tensors = base.tensors.map((t) => (typeof t === 'string' ? { name: t } : t)).filter((t) => !ROTARY_BUFFER.test(t.name));
  const byName = new Map<string, BaseTensor>();
  for (const t of tensors) {
    if (byName.has(t.name)) throw new RangeError(`merge: the base model lists tensor "${t.name}" twice`);
    if (t.dtype && !FLOAT_DTYPES.has(t.dtype)) throw new RangeError(`merge: base tensor "${t.name}" is ${t.dtype}, not a float tensor; only float checkpoints can be merged`);
    byName.set(t.name, t);
  }
  const shapeOf = (t: BaseTensor): number[] => {
    const s = t.shape ? [...t.shape] : expectedShape(t.name, model);
    if (!s) throw new RangeError(`merge: the shape of base tensor "${t.name}" is unknown (config.json does not imply it); pass it with the tensor list`);
    return s;
  };

  const hasHead = byName.has(HEAD);
  const terms = moduleTerms(model, named, combination);
  const untiedHead = terms.has('lm_head') && model.tieWordEmbeddings;
  for (const [path, t] of terms) {
    const wName = path === 'lm_head' && !hasHead && model.tieWordEmbeddings ? EMBED : `${path}.weight`;
    const bt = byName.get(wName);
    const { adapterName, out, inF } = t.origin;
    if (!bt) {
      throw new RangeError(`merge: ${adapterName} adapts "${path}", but the base model has no tensor "${wName}" ` +
        `(it has ${model.numLayers} layers); is the adapter for another base model?`);
    }
    const s = shapeOf(bt);
    if (s.length !== 2 || s[0] !== out || s[1] !== inF) {
      throw new RangeError(`merge: ${adapterName} adapts "${path}" with lora_B [${out}, r] x lora_A [r, ${inF}], an update of shape [${out}, ${inF}], ` +
        `but the base tensor "${wName}" has shape [${s.join(', ')}]; is the adapter for another base model?`);
    }
  }

  const steps: MergeStep[] = tensors.map((t) => {
    const shape = shapeOf(t);
    const path = t.name.endsWith('.weight') ? t.name.slice(0, -'.weight'.length) : '';
    const mt = terms.get(path);
    const rows = shape[0] ?? 1;
    const cols = shape.slice(1).reduce((a, b) => a * b, 1);
    return { entry: { name: t.name, dtype, shape }, source: t.name, rows, cols, terms: mt?.terms ?? [] };
  });
  if (terms.has('lm_head') && !hasHead) {
    if (!model.tieWordEmbeddings) throw new RangeError(`merge: the adapters adapt lm_head but the base model lists no "${HEAD}" and its embeddings are not tied`);
    steps.push({ entry: { name: HEAD, dtype, shape: [model.vocabSize, model.hiddenSize] }, source: EMBED, rows: model.vocabSize, cols: model.hiddenSize, terms: terms.get('lm_head')!.terms });
  }
  const metadata = { format: 'pt' };
  return {
    model,
    configJson: outputConfig(json, text, untiedHead, TORCH_DTYPE[dtype]),
    steps,
    untiedHead,
    mergedModules: [...terms.keys()],
    totalBytes: safetensorsLayout(steps.map((s) => s.entry), metadata).totalBytes,
    metadata,
  };
}

interface ModuleTerms {
  terms: DeltaTerm[];
  /** The first adapter with this module, for messages. */
  origin: { adapterName: string; out: number; inF: number };
}

/** The low-rank terms of every adapted module path. */
function moduleTerms(model: ModelConfig, adapters: readonly (WeightedAdapter & { name: string })[], combination: Combination): Map<string, ModuleTerms> {
  const out = new Map<string, ModuleTerms>();
  const members = new Map<string, { a: WeightedAdapter & { name: string }; t: PeftAdapter['tensors'][number] }[]>();
  for (const a of adapters) {
    const seen = new Set<string>();
    for (const t of a.adapter.tensors) {
      if (seen.has(t.path)) throw new RangeError(`merge: ${a.name} has module "${t.path}" twice`);
      seen.add(t.path);
      if (t.A.length !== t.r * t.inFeatures || t.B.length !== t.outFeatures * t.r) {
        throw new RangeError(`merge: ${a.name} module "${t.path}": lora_A has ${t.A.length} values and lora_B ${t.B.length}, which do not fit r = ${t.r}, [out=${t.outFeatures}, in=${t.inFeatures}]`);
      }
      const s = moduleShape(t.module, model);
      if (s.out !== t.outFeatures || s.in !== t.inFeatures) {
        throw new RangeError(`merge: ${a.name} adapts "${t.path}" with an update of shape [${t.outFeatures}, ${t.inFeatures}], but this model's ${t.module} ` +
          `is [${s.out}, ${s.in}]; is the adapter for another base model?`);
      }
      const list = members.get(t.path) ?? [];
      list.push({ a, t });
      members.set(t.path, list);
    }
  }
  for (const [path, list] of members) {
    const origin = { adapterName: list[0].a.name, out: list[0].t.outFeatures, inF: list[0].t.inFeatures };
    const scale = (m: (typeof list)[number]) => m.a.weight * loraScaling(m.t.r, m.t.alpha, m.a.adapter.config.useRslora);
    const dora = list.find((m) => m.t.M);
    if (dora) {
      // DoRA's merge renormalizes each row; a sum with other adapters, or a weight, has no PEFT meaning.
      if (list.length > 1 || dora.a.weight !== 1) {
        throw new RangeError(`merge: ${dora.a.name} is a DoRA adapter; it merges alone at weight 1 ("${path}" ${list.length > 1 ? 'has other adapters too' : `has weight ${dora.a.weight}`})`);
      }
      if (dora.t.M!.length !== dora.t.outFeatures) throw new RangeError(`merge: ${dora.a.name} module "${path}": the DoRA magnitude has ${dora.t.M!.length} values, expected ${dora.t.outFeatures}`);
      out.set(path, { origin, terms: [{ A: dora.t.A, B: dora.t.B, r: dora.t.r, coef: scale(dora), magnitude: dora.t.M }] });
      continue;
    }
    if (combination === 'cat') {
      out.set(path, { origin, terms: list.map((m) => ({ A: m.t.A, B: m.t.B, r: m.t.r, coef: scale(m) })).filter((t) => t.coef !== 0) });
      continue;
    }
    const r = list[0].t.r;
    const other = list.find((m) => m.t.r !== r);
    if (other) {
      throw new RangeError(`merge: the "linear" combination needs equal ranks, but "${path}" has r = ${r} in ${list[0].a.name} and r = ${other.t.r} in ${other.a.name}; use "cat"`);
    }
    const A = new Float32Array(list[0].t.A.length);
    const B = new Float32Array(list[0].t.B.length);
    for (const m of list) {
      const f = Math.sqrt(scale(m));
      for (let i = 0; i < A.length; i++) A[i] += f * m.t.A[i];
      for (let i = 0; i < B.length; i++) B[i] += f * m.t.B[i];
    }
    out.set(path, { origin, terms: [{ A, B, r, coef: 1 }] });
  }
  return out;
}

function readConfig(c: string | Record<string, unknown>): { json: Record<string, unknown>; text: string | null } {
  if (typeof c !== 'string') return { json: c, text: null };
  let json: unknown;
  try {
    json = JSON.parse(c);
  } catch (e) {
    throw new BadFileError('config.json', `is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new BadFileError('config.json', 'is not a JSON object');
  return { json: json as Record<string, unknown>, text: c };
}

/**
 * The base config.json with only what the merge changes: tie_word_embeddings false when the head
 * was untied, and torch_dtype (or transformers v5's dtype) naming the written dtype where present.
 * The original text is kept when nothing changes.
 */
function outputConfig(json: Record<string, unknown>, text: string | null, untie: boolean, torchDtype: string): string {
  const changes: Record<string, unknown> = {};
  if (untie) changes.tie_word_embeddings = false;
  for (const key of ['torch_dtype', 'dtype']) if (key in json && json[key] !== torchDtype) changes[key] = torchDtype;
  if (text !== null && Object.keys(changes).length === 0) return text;
  return JSON.stringify({ ...json, ...changes }, null, 2) + '\n';
}
