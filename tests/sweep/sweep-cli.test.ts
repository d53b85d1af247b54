// `sweep` end to end on a tiny synthetic Llama: a 2 x 2 grid (rank {2, 4} x targets {q+v, all
// linear}) writes four rows whose trainable_params are countLoraParams, whose adapters load, and a
// run repeated from its config (same seed) ends at the same loss. In-process (GPU environment).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runSweep } from '../../src/cli/commands/sweep';
import { countLoraParams } from '../../src/config/param-count';
import { modulesForTargets } from '../../src/config/lora-targets';
import { bytesSource, writeSafetensors } from '../../src/io/safetensors';
import { importPeftAdapter } from '../../src/io/peft';
import { chainDataset, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';

const dir = mkdtempSync(join(tmpdir(), 'sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const c = tinyModelConfig();
function writeTinyModel(path: string): void {
  writeFileSync(join(path, 'config.json'), JSON.stringify({
    architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: c.vocabSize, hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize, num_hidden_layers: c.numLayers, num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads, rms_norm_eps: c.rmsNormEps, rope_theta: c.ropeTheta, tie_word_embeddings: false,
  }));
  const tensors = [...tinyWeights(c)].map(([name, data]) => ({ name, dtype: 'F32' as const, shape: [data.length], data }));
  writeFileSync(join(path, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
}

const QV = ['query', 'value'];
const ALL = ['query', 'key', 'value', 'projection', 'mlp'];
const COMMON = { alpha: '2x', maxSteps: 4, maxSeqLen: 12, microBatch: 4, learningRate: 1e-2, logEvery: 2, evalEvery: 2, schedule: 'constant', seed: 5, checkpointEverySteps: 0 };

describe('npm run cli -- sweep', () => {
  it('a 2 x 2 grid: four rows, trainable_params = countLoraParams, adapters load, runs reproducible from their seeds', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    writeTinyModel(dir);
    const data = join(dir, 'train.jsonl');
    const validation = join(dir, 'val.jsonl');
    writeFileSync(data, chainDataset(c.vocabSize, 24, 12, 3).map((e) => JSON.stringify({ tokens: e.ids })).join('\n'));
    writeFileSync(validation, chainDataset(c.vocabSize, 4, 12, 9).map((e) => JSON.stringify({ tokens: e.ids })).join('\n'));
    const grid = join(dir, 'grid.json');
    writeFileSync(grid, JSON.stringify({ rank: [2, 4], targets: [QV, ALL], ...COMMON }));
    const task = join(dir, 'chain-mc.jsonl');
    writeFileSync(task, [[1, 2], [5, 6], [9, 10]].map(([a, b]) => JSON.stringify({ context_tokens: [a, b], choices_tokens: [[b + 1], [b + 7]], answer: 0 })).join('\n'));
    const out = join(dir, 'out');
    expect(await runSweep(['--model', dir, '--data', data, '--validation', validation, '--grid', grid, '--out', out, '--task', task])).toBe(0);

    const rows = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Record<string, unknown>[];
    expect(rows).toHaveLength(4);
    expect(rows.map((r) => [r.rank, r.targets])).toEqual([[2, QV], [2, ALL], [4, QV], [4, ALL]]);
    for (const r of rows) {
      const targets = r.targets as typeof QV;
      expect(r.trainable_params).toBe(countLoraParams(c, { r: r.rank as number, targetModules: modulesForTargets(targets as never) }));
      expect(r.peak_memory_bytes).toBeGreaterThan(0);
      expect(r.wall_time_s).toBeGreaterThan(0);
      expect(Number.isFinite(r.final_train_loss)).toBe(true);
      expect(r.best_val_loss).toBeLessThanOrEqual(r.final_val_loss as number);
      expect(r['chain-mc.acc']).toBeGreaterThanOrEqual(0);
      expect(r['chain-mc.acc']).toBeLessThanOrEqual(1);
      const runDir = join(out, r.run as string);
      const adapter = await importPeftAdapter(bytesSource(new Uint8Array(readFileSync(join(runDir, 'adapter_model.safetensors')))), readFileSync(join(runDir, 'adapter_config.json'), 'utf8'), c);
      expect(adapter.config.r).toBe(r.rank);
      expect(adapter.config.alpha).toBe(2 * (r.rank as number));
      expect(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
    }
    expect(rows.filter((r) => r.best === true)).toHaveLength(1);
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('run,rank,targets,trainable_params,peak_memory_bytes,wall_time_s,final_train_loss,best_val_loss,final_val_loss,chain-mc.acc,chain-mc.acc_norm,best');
    expect(csv).toHaveLength(5);

    // The third run again, from a list: the same seed gives the same losses.
    const again = join(dir, 'again.json');
    writeFileSync(again, JSON.stringify({ runs: [{ rank: 4, targets: QV, ...COMMON }] }));
    expect(await runSweep(['--model', dir, '--data', data, '--validation', validation, '--grid', again, '--out', join(dir, 'again')])).toBe(0);
    const [repeat] = JSON.parse(readFileSync(join(dir, 'again', 'results.json'), 'utf8')) as Record<string, unknown>[];
    expect(repeat.final_train_loss).toBe(rows[2].final_train_loss);
    expect(repeat.final_val_loss).toBe(rows[2].final_val_loss);
  }, 120_000);
});
