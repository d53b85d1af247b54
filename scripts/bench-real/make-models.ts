// The real-shape bench's inputs, written once into a folder (default node_modules/.cache/studio-bench-models):
//   qwen2.5-0.5b/   Qwen2.5-0.5B's config.json with random bf16 weights (~1 GB model.safetensors)
//   smollm2-135m/   SmolLM2-135M's config.json with random bf16 weights (~270 MB)
//   train.jsonl     a learnable pre-tokenized dataset (sequences of 257 tokens: 4 x 256 per step)
// each with the demo's byte-level tokenizer files (259 ids, inside every real vocabulary).
// The weights are written tensor by tensor (never the whole file in memory), at a trained model's
// scale (std about 0.02 for linears), so losses stay moderate. A folder already complete is kept.
//   node --import tsx scripts/bench-real/make-models.ts [dir]
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { headNormNames, layerNormNames } from '../../src/config/architecture-features';
import { MODULE_NAMES, modulePath, moduleShape } from '../../src/config/lora-targets';
import { parseModelConfig } from '../../src/config/model-config';
import { safetensorsLayout } from '../../src/io/safetensors/stream';
import { chainDataset } from '../../src/model/synthetic';
import { tokenizerConfigJson, tokenizerJson, VOCAB_SIZE } from '../make-demo/tokenizer-files';

export const BENCH_MODELS = { qwen: 'qwen2.5-0.5b', smollm: 'smollm2-135m' } as const;
/** Ignored by git and left alone by Playwright (which empties test-results/ at every run). */
export const BENCH_MODELS_DIR = 'node_modules/.cache/studio-bench-models';
const CONFIGS = new URL('../../tests/fixtures/configs/', import.meta.url);

interface Spec { name: string; shape: number[]; scale: number; offset: number }

function tensorsOf(hf: Record<string, unknown>): Spec[] {
  const c = parseModelConfig(hf);
  const out: Spec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, c.hiddenSize], scale: 0.035, offset: 0 }];
  for (let l = 0; l < c.numLayers; l++) {
    for (const n of layerNormNames(c)) out.push({ name: `model.layers.${l}.${n}`, shape: [c.hiddenSize], scale: 0.1, offset: 1 });
    for (const n of headNormNames(c)) out.push({ name: `model.layers.${l}.${n}`, shape: [c.headDim], scale: 0.1, offset: 1 });
    for (const m of MODULE_NAMES) {
      if (m === 'lm_head') continue;
      const s = moduleShape(m, c);
      out.push({ name: `${modulePath(m, l)}.weight`, shape: [s.out, s.in], scale: 0.035, offset: 0 });
      if (c.attentionBias && (m === 'q_proj' || m === 'k_proj' || m === 'v_proj')) out.push({ name: `${modulePath(m, l)}.bias`, shape: [s.out], scale: 0.2, offset: 0 });
    }
  }
  out.push({ name: 'model.norm.weight', shape: [c.hiddenSize], scale: 0.1, offset: 1 });
  if (!c.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [c.vocabSize, c.hiddenSize], scale: 0.035, offset: 0 });
  return out;
}

/** model.safetensors of random bf16 values (uniform, the given scale), written in 8 MiB pieces. */
async function writeWeights(path: string, hf: Record<string, unknown>, seed: number): Promise<number> {
  const tensors = tensorsOf(hf);
  const layout = safetensorsLayout(tensors.map((t) => ({ name: t.name, dtype: 'BF16', shape: t.shape })), { format: 'pt' });
  const out = createWriteStream(path);
  const write = async (b: Uint8Array) => {
    if (!out.write(b)) await once(out, 'drain');
  };
  await write(layout.header);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (const [i, t] of tensors.entries()) {
    let left = layout.sizes[i] / 2;
    while (left > 0) {
      const piece = new Uint16Array(Math.min(left, 4 << 20));
      for (let k = 0; k < piece.length; k++) {
        s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
        f[0] = t.offset + t.scale * ((s >>> 0) / 2 ** 31 - 1);
        piece[k] = u[0] >>> 16;
      }
      await write(new Uint8Array(piece.buffer));
      left -= piece.length;
    }
  }
  out.end();
  await once(out, 'finish');
  return layout.totalBytes;
}

/** A model folder for the config of tests/fixtures/configs/<config>.json; kept when already complete. */
async function modelFolder(dir: string, name: string, seed: number): Promise<void> {
  const folder = join(dir, name);
  const hf = JSON.parse(readFileSync(new URL(`${name}.json`, CONFIGS), 'utf8')) as Record<string, unknown>;
  const st = join(folder, 'model.safetensors');
  const want = safetensorsLayout(tensorsOf(hf).map((t) => ({ name: t.name, dtype: 'BF16', shape: t.shape })), { format: 'pt' }).totalBytes;
  if (existsSync(st) && statSync(st).size === want && existsSync(join(folder, 'config.json'))) return;
  mkdirSync(folder, { recursive: true });
  const text = (v: unknown) => JSON.stringify(v, null, 2);
  writeFileSync(join(folder, 'tokenizer.json'), text(tokenizerJson()));
  writeFileSync(join(folder, 'tokenizer_config.json'), text(tokenizerConfigJson()));
  const t0 = Date.now();
  const bytes = await writeWeights(st, hf, seed);
  writeFileSync(join(folder, 'config.json'), text(hf)); // last: a folder with config.json is complete
  console.log(`wrote ${folder}: ${(bytes / 2 ** 20).toFixed(0)} MiB of bf16 weights in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

export async function makeBenchModels(dir: string): Promise<void> {
  await modelFolder(dir, BENCH_MODELS.qwen, 1);
  await modelFolder(dir, BENCH_MODELS.smollm, 2);
  const data = join(dir, 'train.jsonl');
  if (!existsSync(data)) {
    writeFileSync(data, chainDataset(VOCAB_SIZE, 64, 257).map((e) => JSON.stringify({ tokens: e.ids })).join('\n') + '\n');
  }
}

if (process.argv[1]?.endsWith('make-models.ts')) {
  await makeBenchModels(process.argv[2] ?? BENCH_MODELS_DIR);
}
