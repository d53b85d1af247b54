/**
 * `npm run cli -- train` on a tiny Gemma 3 (gemma-3-1b-it's config with toy sizes, its full
 * 262,144-token vocabulary) next to the real Gemma 3 tokenizer, on chat JSONL through the model's
 * own template: the run trains and writes a PEFT adapter with Gemma's module names.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/config/model-config';
import { writeSafetensors } from '../../src/io/safetensors';
import { tinyWeights } from '../../src/model/synthetic';
import { tokenizerDir } from '../data/tokenizers';

const dir = mkdtempSync(join(tmpdir(), 'cli-train-gemma-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '-s', 'cli', '--', ...args], { timeout: 300_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
}

const CHATS = [
  ['What is 2 + 2?', 'Four.'], ['Name a color.', 'Blue.'], ['Say hi in French.', 'Bonjour!'], ['Capital of Italy?', 'Rome.'],
  ['Opposite of hot?', 'Cold.'], ['A fruit?', 'An apple.'], ['Largest planet?', 'Jupiter.'], ['Spell cat.', 'C-A-T.'],
];

it('trains a tiny Gemma 3 with the real tokenizer on chat data and writes the adapter', async () => {
  const real = JSON.parse(readFileSync('tests/fixtures/configs/gemma-3-1b-it.json', 'utf8')) as Record<string, unknown>;
  const config = { ...real, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 8, query_pre_attn_scalar: 8, torch_dtype: 'float32' };
  const model = join(dir, 'gemma3');
  cpSync(tokenizerDir('gemma3'), model, { recursive: true });
  writeFileSync(join(model, 'config.json'), JSON.stringify(config));
  const weights = tinyWeights(parseModelConfig(config), 3);
  writeFileSync(join(model, 'model.safetensors'), writeSafetensors([...weights].map(([name, data]) => ({ name, dtype: 'F32' as const, shape: [data.length], data })), { format: 'pt' }));
  const data = join(dir, 'chat.jsonl');
  writeFileSync(data, CHATS.map(([q, a]) => JSON.stringify({ messages: [{ role: 'user', content: q }, { role: 'assistant', content: a }] })).join('\n'));
  const run = join(dir, 'run.json');
  writeFileSync(run, JSON.stringify({ maxSeqLen: 32, microBatch: 2, maxSteps: 3, learningRate: 1e-2, logEvery: 1, targets: ['query', 'value', 'mlp'], rank: 4, alpha: 8, schedule: 'constant', vocabChunk: 16384 }));
  const out = join(dir, 'out');

  const r = await cli('train', '--model', model, '--data', data, '--config', run, '--out', out, '--validation-split', '0');
  expect(r.code, r.out).toBe(0);
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss: number });
  expect(metrics).toHaveLength(3);
  for (const m of metrics) expect(Number.isFinite(m.loss) && m.loss > 0).toBe(true);
  expect(JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'))).toMatchObject({
    r: 4, lora_alpha: 8, target_modules: ['down_proj', 'gate_proj', 'q_proj', 'up_proj', 'v_proj'],
  });
}, 300_000);
