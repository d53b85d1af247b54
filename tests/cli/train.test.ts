import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesSource, openSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { chainDataset, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';

const dir = mkdtempSync(join(tmpdir(), 'cli-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '-s', 'cli', '--', ...args], { timeout: 240_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
}

/** A tiny Llama in Hugging Face layout, written as a person's model folder would be. */
function writeTinyModel(path: string, extra: Record<string, unknown> = {}): void {
  const c = tinyModelConfig();
  writeFileSync(join(path, 'config.json'), JSON.stringify({ ...extra,
    architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: c.vocabSize, hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize, num_hidden_layers: c.numLayers, num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads, rms_norm_eps: c.rmsNormEps, rope_theta: c.ropeTheta, tie_word_embeddings: false,
  }));
  const tensors = [...tinyWeights(c)].map(([name, data]) => ({ name, dtype: 'F32' as const, shape: [data.length], data }));
  writeFileSync(join(path, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
}

describe('npm run cli -- train', () => {
  it('finetunes a tiny model headless and writes a PEFT adapter and metrics.jsonl', async () => {
    writeTinyModel(dir);
    const data = join(dir, 'train.jsonl');
    writeFileSync(data, chainDataset(67, 32, 13).map((e) => JSON.stringify({ tokens: e.ids })).join('\n'));
    const config = join(dir, 'run.json');
    writeFileSync(config, JSON.stringify({ maxSeqLen: 12, microBatch: 4, maxSteps: 12, learningRate: 1e-2, logEvery: 4, targets: ['query', 'value'], rank: 4, alpha: 8, schedule: 'constant' }));
    const out = join(dir, 'out');
    const r = await cli('train', '--model', dir, '--data', data, '--config', config, '--out', out);
    expect(r.code, r.out).toBe(0);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics).toHaveLength(12);
    expect(Object.keys(metrics[0])).toEqual(expect.arrayContaining(['step', 'loss', 'lr', 'grad_norm', 'tokens_per_s', 'memory']));
    expect(metrics[0].memory).toMatchObject({ weights: expect.any(Number), lora: expect.any(Number), activations: expect.any(Number) });
    expect(metrics[11].loss).toBeLessThan(metrics[0].loss);
    const adapter = await openSafetensors(bytesSource(new Uint8Array(readFileSync(join(out, 'adapter_model.safetensors')))));
    expect(adapter.names()).toHaveLength(2 * 2 * 2);
    expect(adapter.info('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight').shape).toEqual([4, 32]);
    expect(JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'))).toMatchObject({ r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'] });
  });

  it('with no run config, on a model whose context (64) is shorter than the default length, trains at what the data needs', async () => {
    const short = join(dir, 'short-context');
    mkdirSync(short, { recursive: true });
    writeTinyModel(short, { max_position_embeddings: 64 });
    const data = join(dir, 'short.jsonl');
    writeFileSync(data, chainDataset(67, 8, 21).map((e) => JSON.stringify({ tokens: e.ids })).join('\n'));
    const r = await cli('train', '--model', short, '--data', data, '--out', join(dir, 'short-out'));
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/maxSeqLen 24: the longest example needs 20 \(model context 64\)/);
  });

  it('names the line of a broken dataset (exit 2)', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"tokens": [1, 2, 3]}\n{"tokens": [1, 2,\n');
    const r = await cli('train', '--model', dir, '--data', bad, '--out', join(dir, 'never'));
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/bad\.jsonl, line 2: not valid JSON/);
  });
});
