/**
 * Complete downloads of a finetune, as zips that the Hugging Face libraries load as they are:
 *
 * - merged (`writeMergedBundle`): the merged weights (model.safetensors, or shards of at most 2 GB
 *   with model.safetensors.index.json, as transformers' save_pretrained writes them), config.json,
 *   generation_config.json (the base model's, or one made from config.json's token ids), the base
 *   model's tokenizer files (tokenizer.json, tokenizer_config.json with its chat template,
 *   special_tokens_map.json, and chat_template.jinja / tokenizer.model where the model has them) and a
 *   model card README.md; `AutoModelForCausalLM.from_pretrained(folder)` loads the unzipped folder.
 * - adapter (`writeAdapterBundle`): adapter_model.safetensors, adapter_config.json and the card
 *   (library_name: peft), for `PeftModel.from_pretrained(base, folder)`.
 *
 * The zip streams to a byte sink (./src/io/zip): each shard is merged tensor by tensor as it is
 * written (src/model/merge), so neither the model nor the archive is ever whole in memory.
 */
import { BadFileError } from '../../core/errors';
import { modelCard, type ModelCardInput } from '../../io/model-card';
import type { ModelSource } from '../../io/model-source/model';
import type { ModelFiles } from '../../io/model-source/types';
import type { ByteSink } from '../../io/safetensors/stream';
import { safetensorsLayout } from '../../io/safetensors/stream';
import { ZipStream, type ZipEntryInfo } from '../../io/zip/zip-stream';
import { planMerge, writeMerge, type MergeDtype, type MergeStep, type WeightedAdapter } from '../merge';

/** transformers' max_shard_size "2GB": shards of at most 2 x 10^9 bytes of tensor data. */
export const MAX_SHARD_BYTES = 2_000_000_000;

/** The base model's files a bundle carries over when it has them (tokenizer and chat template). */
export const TOKENIZER_FILES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja', 'chat_template.json',
  'tokenizer.model', 'added_tokens.json', 'vocab.json', 'merges.txt',
] as const;

export interface BundleProgress {
  /** What is being written now. */
  file: string;
  bytes: number;
  totalBytes: number;
}

export interface BundleResult {
  /** Every file of the zip, in order, with its size. */
  files: ZipEntryInfo[];
  /** Bytes of the zip. */
  totalBytes: number;
}

type CardFields = Omit<ModelCardInput, 'kind' | 'files' | 'merge'>;

export interface MergedBundleOptions {
  model: ModelSource;
  adapters: readonly WeightedAdapter[];
  dtype: MergeDtype;
  /** The card's text fields (title, base model, run, note, LoRA config). */
  card: CardFields;
  sink: ByteSink;
  /** Largest shard, in bytes of tensor data (default MAX_SHARD_BYTES; tests lower it). */
  maxShardBytes?: number;
  onProgress?: (p: BundleProgress) => void;
  signal?: AbortSignal;
}

/** Consecutive tensors grouped into shards of at most `max` data bytes (a larger tensor is a shard alone). */
export function shardSteps(steps: readonly MergeStep[], max: number): { steps: MergeStep[]; dataBytes: number }[] {
  const sizes = safetensorsLayout(steps.map((s) => s.entry)).sizes;
  const shards: { steps: MergeStep[]; dataBytes: number }[] = [];
  steps.forEach((s, i) => {
    const last = shards[shards.length - 1];
    if (last && last.dataBytes + sizes[i] <= max) {
      last.steps.push(s);
      last.dataBytes += sizes[i];
    } else {
      shards.push({ steps: [s], dataBytes: sizes[i] });
    }
  });
  return shards;
}

/** model.safetensors, or model-0000i-of-0000n.safetensors as transformers names shards. */
export const shardName = (i: number, n: number) => (n === 1 ? 'model.safetensors' : `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`);

/** The base model's generation_config.json, or one from config.json's token ids (as transformers derives it). */
export async function generationConfigText(files: ModelFiles, configJson: Record<string, unknown>): Promise<string> {
  const own = await files.text('generation_config.json');
  if (own !== null) {
    try {
      JSON.parse(own);
      return own;
    } catch {
      // unreadable: replaced by the one derived from config.json below
    }
  }
  const ids = Object.fromEntries(['bos_token_id', 'eos_token_id', 'pad_token_id'].filter((k) => configJson[k] !== undefined && configJson[k] !== null).map((k) => [k, configJson[k]]));
  return `${JSON.stringify({ _from_model_config: true, ...ids }, null, 2)}\n`;
}

/** The tokenizer files the base model has, as bytes (tokenizer.json is required). */
export async function tokenizerFiles(files: ModelFiles): Promise<{ name: string; bytes: Uint8Array }[]> {
  const listed = await files.list();
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const name of TOKENIZER_FILES) {
    if (listed ? !listed.includes(name) : !(await files.has(name))) continue;
    if (name !== 'tokenizer.model') {
      // Text through text(): a server may send it compressed, so its size is not the byte count.
      const text = await files.text(name);
      if (text !== null) out.push({ name, bytes: new TextEncoder().encode(text) });
      continue;
    }
    const src = await files.bytes(name, 'all');
    try {
      out.push({ name, bytes: (await src.read(0, src.size)).slice() });
    } finally {
      await src.close?.();
    }
  }
  if (!out.some((f) => f.name === 'tokenizer.json')) {
    throw new BadFileError(files.describe('tokenizer.json'), 'file is missing: a bundle needs the base model\'s tokenizer to load on its own');
  }
  return out;
}

/** Write the merged model's zip to the sink. */
export async function writeMergedBundle(o: MergedBundleOptions): Promise<BundleResult & { mergedModules: number }> {
  const index = await o.model.tensorIndex();
  const plan = planMerge(
    { configJson: o.model.configJson, tensors: [...index].map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype })) },
    o.adapters, { dtype: o.dtype },
  );
  const shards = shardSteps(plan.steps, o.maxShardBytes ?? MAX_SHARD_BYTES);
  const names = shards.map((_, i) => shardName(i, shards.length));
  const extras = [
    { name: 'config.json', bytes: new TextEncoder().encode(plan.configJson) },
    { name: 'generation_config.json', bytes: new TextEncoder().encode(await generationConfigText(o.model.files, o.model.configJson)) },
    ...(await tokenizerFiles(o.model.files)),
  ];
  if (shards.length > 1) {
    const weightMap: Record<string, string> = {};
    shards.forEach((s, i) => { for (const step of s.steps) weightMap[step.entry.name] = names[i]; });
    const totalSize = shards.reduce((n, s) => n + s.dataBytes, 0);
    extras.push({ name: 'model.safetensors.index.json', bytes: new TextEncoder().encode(`${JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2)}\n`) });
  }
  const readme = modelCard({
    ...o.card, kind: 'merged', files: ['README.md', ...extras.map((e) => e.name), ...names],
    merge: { adapters: o.adapters.map((a, i) => ({ name: a.name ?? `adapter ${i + 1}`, weight: a.weight })), dtype: o.dtype, mergedModules: plan.mergedModules.length },
  });

  const shardBytes = shards.map((s) => safetensorsLayout(s.steps.map((x) => x.entry), plan.metadata).totalBytes);
  const totalBytes = shardBytes.reduce((a, b) => a + b, 0);
  const zip = new ZipStream(o.sink);
  await zip.add('README.md', readme);
  for (const e of extras) await zip.add(e.name, e.bytes);
  const load = o.model.loader();
  let before = 0;
  for (const [i, s] of shards.entries()) {
    o.signal?.throwIfAborted();
    await zip.addStreamed(names[i], (sink) => writeMerge({ ...plan, steps: s.steps, totalBytes: shardBytes[i] }, load, sink, {
      signal: o.signal,
      onProgress: (p) => o.onProgress?.({ file: names[i], bytes: before + p.bytes, totalBytes }),
    }));
    before += shardBytes[i];
  }
  const size = await zip.end();
  return { files: zip.files, totalBytes: size, mergedModules: plan.mergedModules.length };
}

export interface AdapterBundleOptions {
  /** adapter_model.safetensors, byte for byte. */
  weights: Uint8Array;
  /** adapter_config.json */
  configJson: string;
  card: CardFields;
  sink: ByteSink;
}

/** The PEFT adapter's zip (its two files and the card) to the sink. */
export async function writeAdapterBundle(o: AdapterBundleOptions): Promise<BundleResult> {
  const files = ['README.md', 'adapter_config.json', 'adapter_model.safetensors'];
  const zip = new ZipStream(o.sink);
  await zip.add('README.md', modelCard({ ...o.card, kind: 'adapter', files }));
  await zip.add('adapter_config.json', o.configJson);
  await zip.add('adapter_model.safetensors', o.weights);
  return { files: zip.files, totalBytes: await zip.end() };
}
