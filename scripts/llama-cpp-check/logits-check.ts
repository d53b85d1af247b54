/**
 * Exports the tiny models (./tiny-models.ts) as GGUF through the studio's exporter and runs them
 * in llama.cpp: base + LoRA adapter GGUF, and the merged model in F32, F16, Q8_0, Q4_0 and Q4_K_M
 * (on rows below 256 values Q4_K_M is llama-quantize's fallbacks, Q5_0 / Q8_0; a Llama of hidden
 * size 256, `llama-256`, has the mix's own Q4_K and Q6_K blocks). Each is compared with the CPU
 * reference on two fixed token sequences:
 *   F32 (base + adapter, merged)   against the reference on the original weights + LoRA   1e-4
 *   F16 (base + adapter, merged)   against the reference on the original weights + LoRA   2e-3
 *   Q8_0 / Q4_0 / Q4_K_M (merged)  against the reference on the file's dequantized weights 2e-2
 * (max |difference| over every logit, relative to the largest |logit|), and the greedy token must
 * agree at every position where the reference's best token leads the second by more than the
 * tolerance allows (all positions are counted and shown; random tiny models have near ties).
 */
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Prng } from '../../src/core/rng';
import { openModelSpec } from '../../src/io/model-source/node';
import { fileSource } from '../../src/io/node-file-source';
import { importPeftAdapter } from '../../src/io/peft';
import { readGguf, type GgufExportType } from '../../src/io/gguf';
import { exportGguf, type GgufWhat } from '../../src/model/export/gguf-export';
import type { LlamaCpp } from './llama-cpp';
import { compareLogits, referenceLogits, weightsFromGguf, type Agreement } from './reference';
import { loraOf, TINY_KINDS, writeTinyModel, type TinyKind, type TinyModel } from './tiny-models';

/** The tiny models, then a Llama whose rows are whole 256-value super-blocks (Q4_K / Q6_K written as such). */
const MODELS: { name: string; kind: TinyKind; overrides?: Record<string, unknown> }[] = [
  ...TINY_KINDS.map((kind) => ({ name: kind, kind })),
  { name: 'llama-256', kind: 'llama-untied', overrides: { hidden_size: 256, intermediate_size: 512, head_dim: 64 } },
];

export interface LogitsRow extends Agreement {
  model: string;
  file: string;
  against: string;
  tolerance: number;
  pass: boolean;
}

/** Write one export to `path` through a file sink. */
async function exportTo(path: string, m: TinyModel, what: GgufWhat, type: GgufExportType): Promise<void> {
  const model = await openModelSpec(m.modelDir);
  const weights = await fileSource(join(m.adapterDir, 'adapter_model.safetensors'));
  const adapter = await importPeftAdapter(weights, await readFile(join(m.adapterDir, 'adapter_config.json'), 'utf8'), model.config);
  await weights.close();
  const fh = await open(path, 'w');
  try {
    await exportGguf({
      model, adapter: what === 'base' ? undefined : adapter, what, type, fileName: path,
      async sink(chunk) {
        for (let done = 0; done < chunk.byteLength;) done += (await fh.write(chunk, done, chunk.byteLength - done)).bytesWritten;
      },
    });
  } finally {
    await fh.close();
    await model.close();
  }
}

/** Two fixed sequences: BOS then seeded ids among the tokenizer's 259. */
function sequences(): number[][] {
  const rng = new Prng(2024, 31);
  return [24, 40].map((n) => [1, ...Array.from({ length: n - 1 }, () => 3 + rng.nextInt(256))]);
}

export async function runLogitsCheck(llama: LlamaCpp, root: string, log: (s: string) => void): Promise<LogitsRow[]> {
  const rows: LogitsRow[] = [];
  const seqs = sequences();
  for (const { name: kind, kind: tinyKind, overrides } of MODELS) {
    const m = writeTinyModel(root, tinyKind, { configOverrides: overrides, dirName: kind });
    const shapes = new Map<string, number[]>();
    const source = await openModelSpec(m.modelDir);
    for (const [name, t] of await source.tensorIndex()) shapes.set(name, t.shape);
    await source.close();
    const lora = loraOf(m.adapter);
    const path = (name: string) => join(root, `${kind}-${name}.gguf`);
    await exportTo(path('adapter-f32'), m, 'adapter', 'f32');
    for (const t of ['f32', 'f16'] as const) await exportTo(path(`base-${t}`), m, 'base', t);
    for (const t of ['f32', 'f16', 'q8_0', 'q4_0', 'q4_k_m'] as const) await exportTo(path(`merged-${t}`), m, 'merged', t);
    // Which blocks the Q4_K_M file really holds (Q4_K / Q6_K on rows of 256, the fallbacks below).
    const types = new Map<string, number>();
    for (const t of readGguf(await readFile(path('merged-q4_k_m'))).tensors) types.set(t.type, (types.get(t.type) ?? 0) + 1);
    log(`     ${kind.padEnd(13)} merged-q4_k_m tensors: ${[...types].map(([t, n]) => `${n} ${t}`).join(', ')}`);

    const cases: { file: string; adapters: string[]; against: 'original + LoRA' | 'dequantized file'; tolerance: number }[] = [
      { file: 'base-f32', adapters: ['adapter-f32'], against: 'original + LoRA', tolerance: 1e-4 },
      { file: 'base-f16', adapters: ['adapter-f32'], against: 'original + LoRA', tolerance: 2e-3 },
      { file: 'merged-f32', adapters: [], against: 'original + LoRA', tolerance: 1e-4 },
      { file: 'merged-f16', adapters: [], against: 'original + LoRA', tolerance: 2e-3 },
      { file: 'merged-q8_0', adapters: [], against: 'dequantized file', tolerance: 2e-2 },
      { file: 'merged-q4_0', adapters: [], against: 'dequantized file', tolerance: 2e-2 },
      { file: 'merged-q4_k_m', adapters: [], against: 'dequantized file', tolerance: 2e-2 },
    ];
    for (const c of cases) {
      const weights = c.against === 'dequantized file' ? weightsFromGguf(await readFile(path(c.file)), m.config, shapes) : m.weights;
      const got: Float32Array[] = [];
      const want: Float32Array[] = [];
      for (const s of seqs) {
        got.push(...(await llama.logits(path(c.file), s, c.adapters.map(path))));
        want.push(...referenceLogits(m.config, weights, c.against === 'dequantized file' ? new Map() : lora, s));
      }
      const a = compareLogits(got, want, c.tolerance);
      const file = c.adapters.length ? `${c.file} + ${c.adapters.join(' + ')}` : c.file;
      const row = { model: kind, file, against: c.against, tolerance: c.tolerance, ...a, pass: a.relError <= c.tolerance && a.decisiveAgree === a.decisive };
      rows.push(row);
      log(`${row.pass ? 'ok  ' : 'FAIL'} ${kind.padEnd(13)} ${file.padEnd(26)} vs ${c.against.padEnd(16)} rel ${a.relError.toExponential(2)} (tol ${c.tolerance.toExponential(0)}), greedy ${a.greedyAgree}/${a.positions} (${a.decisiveAgree}/${a.decisive} where the reference's lead exceeds the tolerance)`);
    }
  }
  return rows;
}
