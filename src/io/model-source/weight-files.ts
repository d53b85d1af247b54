/**
 * The weights of a model in Hugging Face layout: `model.safetensors`, or shards listed by
 * `model.safetensors.index.json`. Finds the weight files (with specific messages for what people
 * commonly have instead: .bin, GGUF, an adapter folder, a missing shard), builds the tensor index
 * from the headers only, and checks it against config.json before anything is allocated.
 */
import { BadFileError } from '../../core/errors';
import type { Dtype } from '../safetensors/dtypes';
import type { SafetensorsFile } from '../safetensors/reader';
import type { ModelConfig } from '../../config/model-config';
import { moduleShape, modulePath } from '../../config/lora-targets';
import { headNormNames, layerNormNames } from '../../config/architecture-features';
import { isPlainFileName, type ModelFiles, type ReadPurpose } from './types';

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

export interface WeightFiles {
  /** Weight files in index order (or the single file). */
  files: string[];
  /** Tensor -> file from the index; null for a single file. */
  weightMap: Map<string, string> | null;
}

export interface TensorEntry {
  file: string;
  dtype: Dtype;
  shape: number[];
  /** Bytes in the file. */
  bytes: number;
}

export type TensorIndex = Map<string, TensorEntry>;

function parseJson(files: ModelFiles, file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BadFileError(files.describe(file), `is not valid JSON (${(e as Error).message})`);
  }
}

/** Which files hold the weights; throws the message that fits what the folder has instead. */
export async function findWeightFiles(files: ModelFiles): Promise<WeightFiles> {
  const indexText = await files.text(INDEX_FILE);
  if (indexText !== null) return parseIndex(files, parseJson(files, INDEX_FILE, indexText));
  if (await files.has(SINGLE_FILE)) return { files: [SINGLE_FILE], weightMap: null };
  const names = (await files.list()) ?? (await probe(files, ['adapter_model.safetensors', 'pytorch_model.bin', 'consolidated.safetensors']));
  const where = files.location;
  if (names.includes('adapter_model.safetensors') || names.includes('adapter_config.json')) {
    throw new BadFileError(where, 'holds a LoRA adapter (adapter_model.safetensors), not a base model; load its base model (base_model_name_or_path in adapter_config.json), then import the adapter');
  }
  const shards = names.filter((n) => /^model-\d+-of-\d+\.safetensors$/.test(n));
  if (shards.length > 0) {
    throw new BadFileError(files.describe(INDEX_FILE), `file is missing: the weights are sharded (${shards.join(', ')}) and the index that maps tensors to shards is needed too`);
  }
  if (names.some((n) => n.endsWith('.bin') || n.endsWith('.pt') || n.endsWith('.pth'))) {
    throw new BadFileError(where, 'has only PyTorch pickle weights (*.bin / *.pth); the studio reads safetensors: use a repo revision with model.safetensors, or convert with transformers (save_pretrained(..., safe_serialization=True))');
  }
  if (names.some((n) => n.endsWith('.gguf'))) {
    throw new BadFileError(where, 'has GGUF weights (for llama.cpp); the studio needs the original Hugging Face model (config.json + model.safetensors)');
  }
  if (names.includes('consolidated.safetensors')) {
    throw new BadFileError(where, 'has only consolidated.safetensors (Mistral\'s own format); use the Transformers files of the repo (model.safetensors or model-0000x-of-0000y.safetensors with their index)');
  }
  throw new BadFileError(files.describe(SINGLE_FILE), `file is missing: no model weights in ${where} (expected ${SINGLE_FILE}, or ${INDEX_FILE} with its shards)`);
}

async function probe(files: ModelFiles, names: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const n of names) if (await files.has(n)) out.push(n);
  return out;
}

async function parseIndex(files: ModelFiles, json: unknown): Promise<WeightFiles> {
  const file = files.describe(INDEX_FILE);
  const wm = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) throw new BadFileError(file, 'has no "weight_map" object (tensor name -> shard file)');
  const weightMap = new Map<string, string>();
  const order: string[] = [];
  for (const [tensor, shard] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof shard !== 'string' || !isPlainFileName(shard) || !shard.endsWith('.safetensors')) {
      throw new BadFileError(file, `maps tensor "${tensor}" to ${JSON.stringify(shard)}, which is not a .safetensors file name in the model folder`);
    }
    weightMap.set(tensor, shard);
    if (!order.includes(shard)) order.push(shard);
  }
  if (weightMap.size === 0) throw new BadFileError(file, 'lists no tensors ("weight_map" is empty)');
  const missing: string[] = [];
  for (const s of order) if (!(await files.has(s))) missing.push(s);
  if (missing.length > 0) {
    throw new BadFileError(
      files.describe(missing[0]),
      `file is missing: ${missing.length === 1 ? 'a shard' : `${missing.length} shards (${missing.join(', ')})`} of this sharded checkpoint; ` +
        `${INDEX_FILE} lists ${order.length} shards (${order.join(', ')}): get every one of them`,
    );
  }
  return { files: order, weightMap };
}

/** Opens every weight file's header and lists its tensors; cross-checks the index against the shards. */
export async function buildTensorIndex(
  files: ModelFiles, weights: WeightFiles, open: (file: string, purpose: ReadPurpose) => Promise<SafetensorsFile>,
): Promise<TensorIndex> {
  const index: TensorIndex = new Map();
  for (const f of weights.files) {
    const st = await open(f, 'header');
    for (const [name, t] of st.tensors) {
      const mapped = weights.weightMap?.get(name);
      if (weights.weightMap && mapped !== f) continue; // not this shard's per the index (duplicates happen in the wild)
      index.set(name, { file: f, dtype: t.dtype, shape: t.shape, bytes: t.end - t.begin });
    }
  }
  if (weights.weightMap) {
    for (const [tensor, shard] of weights.weightMap) {
      if (!index.has(tensor)) throw new BadFileError(files.describe(shard), `has no tensor "${tensor}", though ${INDEX_FILE} says it does; the shard is incomplete or from another checkpoint`);
    }
  }
  return index;
}

/** Every tensor the training graph reads, with its shape ([out, in] for linears). */
export function expectedTensors(c: ModelConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const C = c.hiddenSize;
  m.set('model.embed_tokens.weight', [c.vocabSize, C]);
  for (let l = 0; l < c.numLayers; l++) {
    for (const n of layerNormNames(c)) m.set(`model.layers.${l}.${n}`, [C]);
    for (const n of headNormNames(c)) m.set(`model.layers.${l}.${n}`, [c.headDim]);
    for (const mod of ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const) {
      const s = moduleShape(mod, c);
      m.set(`${modulePath(mod, l)}.weight`, [s.out, s.in]);
      if (c.attentionBias && (mod === 'q_proj' || mod === 'k_proj' || mod === 'v_proj')) m.set(`${modulePath(mod, l)}.bias`, [s.out]);
    }
  }
  m.set('model.norm.weight', [C]);
  if (!c.tieWordEmbeddings) m.set('lm_head.weight', [c.vocabSize, C]);
  return m;
}

const FLOAT_DTYPES: ReadonlySet<Dtype> = new Set(['F32', 'F16', 'BF16', 'F64']);
const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Shape and dtype of one tensor against what the config implies; null when it fits. */
export function tensorProblem(name: string, t: TensorEntry, want: readonly number[] | undefined): string | null {
  if (!FLOAT_DTYPES.has(t.dtype)) {
    return `tensor "${name}" is ${t.dtype}: a quantized checkpoint (GPTQ, AWQ, bitsandbytes, FP8) cannot be trained here; load the original 16-bit model (the studio quantizes it to NF4 or int8 itself)`;
  }
  if (!want) return null;
  // Linears must be [out, in] exactly (a transposed matrix has the same size); other tensors may be stored flat.
  const ok = t.shape.length === 2 && want.length === 2 ? t.shape[0] === want[0] && t.shape[1] === want[1] : numel(t.shape) === numel(want);
  return ok ? null : `tensor "${name}" has shape [${t.shape.join(', ')}] but config.json implies [${want.join(', ')}]`;
}

/** Every tensor the graph needs is present, float, and of the shape config.json implies. */
export function checkTensors(files: ModelFiles, config: ModelConfig, index: TensorIndex): void {
  const missing: string[] = [];
  for (const [name, want] of expectedTensors(config)) {
    const t = index.get(name);
    if (!t) {
      missing.push(name);
      continue;
    }
    const problem = tensorProblem(name, t, want);
    if (problem) throw new BadFileError(files.describe(t.file), problem);
  }
  if (missing.length === 0) return;
  const more = missing.length > 1 ? ` (and ${missing.length - 1} more)` : '';
  const hint = missing[0] === 'lm_head.weight'
    ? 'config.json says tie_word_embeddings: false, yet there is no separate head'
    : [...index.keys()].some((n) => n.startsWith('layers.') || n.startsWith('embed_tokens'))
      ? 'the tensor names lack the "model." prefix of a ...ForCausalLM checkpoint'
      : `it does not match config.json (${config.architecture ?? config.modelType}, ${config.numLayers} layers); is the checkpoint complete and from this model?`;
  throw new BadFileError(files.location, `the weights lack tensor "${missing[0]}"${more}: ${hint}`);
}
