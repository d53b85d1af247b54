/** `npm run cli -- plan`: the memory plan from config.json alone, against WebGPU's default limits. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/config/model-config';
import { parseRunConfig } from '../../src/config/run-config';
import { DEFAULT_LIMITS } from '../../src/engine/dry-run';
import { planMemory } from '../../src/model/plan/memory-plan';

const dir = mkdtempSync(join(tmpdir(), 'cli-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; out: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '-s', 'cli', '--', ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, out: stdout + stderr });
    });
  });
}

it('Llama-2-7B QLoRA r8 q+v, 1 x 1304 tokens: the plan by category equals planMemory, fits 128 MiB bindings, and the f16 table is in shards', async () => {
  const run = { rank: 8, targets: ['query', 'value'], basePrecision: 'nf4', microBatch: 1, maxSeqLen: 1304, activationCheckpointing: true };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(run));
  const r = await cli('plan', '--model', 'tests/fixtures/configs/llama-2-7b.json', '--config', join(dir, 'run.json'), '--gpu-limits', 'default');
  expect(r.code, r.out).toBe(0);
  const out = JSON.parse(r.stdout);
  const want = await planMemory(parseModelConfig((await import('../fixtures/configs/llama-2-7b.json')).default), parseRunConfig(run), DEFAULT_LIMITS, { f16: false, subgroups: false, timestamps: false });
  expect(out).toMatchObject({ model: 'LlamaForCausalLM', total_bytes: want.total, by_category: want.byCategory, fits: true, problems: [] });
  expect(out.limits).toEqual({ gpu_limits: 'default', max_buffer_size: 268435456, max_storage_buffer_binding_size: 134217728 });
  expect(out.largest_binding_bytes).toBeLessThanOrEqual(134217728);
  // The (32000, 4096) f16 table (250 MiB) in shards of whole head chunks.
  const shards = want.buffers.filter((b) => b.label.startsWith('model.embed_tokens.weight['));
  expect(shards.length).toBeGreaterThan(1);
  expect(shards.reduce((s, b) => s + b.bytes, 0)).toBe(32000 * 4096 * 2);
  expect(out.total_bytes).toBeLessThan(5.5e9);
});

it('a small model fits, and a bad flag is a usage error (exit 2)', async () => {
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', vocab_size: 320, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16 }));
  const r = await cli('plan', '--model', dir, '--gpu-limits', 'default');
  expect(r.code, r.out).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ model: 'Qwen3ForCausalLM', fits: true, problems: [] });
  const bad = await cli('plan', '--model', dir, '--gpu-limits', 'tiny');
  expect(bad.code).toBe(2);
  expect(bad.out).toMatch(/--gpu-limits must be adapter or default, got "tiny"/);
});
