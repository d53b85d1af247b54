// `eval --kind mc` on the tiny golden Llama (tests/fixtures/golden/llama-tiny) against the CPU
// reference: per-choice summed log-likelihoods within 1e-4 relative, the same predictions; the
// base model alone and perplexity in-process on the same model.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGoldenCase, type GoldenCase } from '../../src/cli/golden/golden-case';
import { loraScaling } from '../../src/config/lora-config';
import { acquireGpu } from '../../src/engine/device';
import { nodeGpu } from '../../src/engine/node-gpu';
import { forward, type LoraWeights } from '../../src/reference';
import { evaluateDatasetPerplexity, evaluateMultipleChoice, parseMcTask } from '../../src/train/eval';

const GOLDEN = 'tests/fixtures/golden/llama-tiny';
const dir = mkdtempSync(join(tmpdir(), 'eval-mc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '-s', 'cli', '--', ...args], { timeout: 120_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout, err: stderr });
    });
  });
}

/** Seeded items: contexts of 2..9 tokens, 2..4 choices of 1..5 tokens, vocab 96. */
function items(count: number, V: number): { context_tokens: number[]; choices_tokens: number[][]; answer: number }[] {
  let s = 12345;
  const next = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  return Array.from({ length: count }, () => {
    const context_tokens = Array.from({ length: 2 + next(8) }, () => next(V));
    const choices_tokens = Array.from({ length: 2 + next(3) }, () => Array.from({ length: 1 + next(5) }, () => next(V)));
    return { context_tokens, choices_tokens, answer: next(choices_tokens.length) };
  });
}

/** log P(choice | context) on the CPU reference, log-softmax in f64 from its logits. */
function referenceLogLikelihood(c: GoldenCase, lora: LoraWeights, context: number[], choice: number[]): number {
  const ids = [...context, ...choice];
  const T = ids.length - 1;
  const V = c.config.vocabSize;
  const { logits } = forward({ config: c.config, weights: c.weights }, lora, Int32Array.from(ids.slice(0, T)), new Int32Array(T).fill(-100), 1, T);
  let ll = 0;
  for (let t = context.length - 1; t < T; t++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[t * V + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[t * V + v] - max);
    ll += logits[t * V + ids[t + 1]] - max - Math.log(sum);
  }
  return ll;
}

function adapterLora(c: GoldenCase): LoraWeights {
  const lora: LoraWeights = new Map();
  for (const t of c.adapter.tensors) lora.set(t.path, { A: t.A, B: t.B, r: t.r, scale: loraScaling(t.r, t.alpha, c.adapter.config.useRslora) });
  return lora;
}

const argmax = (xs: number[]) => xs.reduce((b, x, i) => (x > xs[b] ? i : b), 0);

describe('eval --kind mc on the golden tiny Llama', () => {
  let c: GoldenCase;
  const task = items(12, 96);
  const file = join(dir, 'task.jsonl');
  beforeAll(async () => {
    c = await loadGoldenCase(GOLDEN);
    writeFileSync(file, task.map((t) => JSON.stringify(t)).join('\n') + '\n');
  });

  it('with the adapter: per-choice log-likelihoods equal the CPU reference (1e-4 relative), same predictions', async () => {
    const r = await cli('eval', '--model', GOLDEN, '--adapter', GOLDEN, '--task', file, '--kind', 'mc', '--micro-batch', '5');
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.n).toBe(task.length);
    expect(out.acc_norm_length).toBe('tokens');
    const lora = adapterLora(c);
    let correct = 0;
    task.forEach((it, i) => {
      const ref = it.choices_tokens.map((ch) => referenceLogLikelihood(c, lora, it.context_tokens, ch));
      const got: number[] = out.per_example[i].loglikelihoods;
      expect(got).toHaveLength(ref.length);
      got.forEach((g, k) => expect(Math.abs(g - ref[k]), `item ${i} choice ${k}: ${g} vs ${ref[k]}`).toBeLessThanOrEqual(1e-4 * Math.abs(ref[k])));
      expect(out.per_example[i].pred).toBe(argmax(ref));
      expect(out.per_example[i].lengths).toEqual(it.choices_tokens.map((ch) => ch.length));
      if (argmax(ref) === it.answer) correct++;
    });
    expect(out.acc).toBeCloseTo(correct / task.length, 10);
  }, 120_000);

  it('the base model alone (no adapter) and the perplexity of a dataset, in-process', async () => {
    const gpu = await acquireGpu(await nodeGpu());
    try {
      const load = async (name: string) => new Float32Array(c.weights.get(name)!);
      const target = { gpu, model: c.config, load, adapter: null, graph: { microBatch: 4 } };
      const parsed = parseMcTask(task.map((t) => JSON.stringify(t)).join('\n'), 'task', 96);
      const res = await evaluateMultipleChoice(target, parsed, null);
      task.forEach((it, i) => {
        it.choices_tokens.forEach((ch, k) => {
          const ref = referenceLogLikelihood(c, new Map(), it.context_tokens, ch);
          expect(Math.abs(res.per_example[i].loglikelihoods[k] - ref)).toBeLessThanOrEqual(1e-4 * Math.abs(ref));
        });
      });
      // Perplexity: token-weighted mean NLL of every example's loss tokens = the reference's.
      const examples = task.map((t) => ({ ids: [...t.context_tokens, ...t.choices_tokens[0]] }));
      const ppl = await evaluateDatasetPerplexity({ ...target, adapter: c.adapter }, examples);
      const lora = adapterLora(c);
      let sum = 0;
      let count = 0;
      for (const ex of examples) {
        sum -= referenceLogLikelihood(c, lora, ex.ids.slice(0, 1), ex.ids.slice(1));
        count += ex.ids.length - 1;
      }
      expect(ppl.tokens).toBe(count);
      expect(ppl.mean_loss).toBeCloseTo(sum / count, 4);
      expect(ppl.perplexity).toBeCloseTo(Math.exp(sum / count), 2);
    } finally {
      gpu.device.destroy();
    }
  }, 120_000);
});
