import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseYaml } from './helpers';

const scratch = mkdtempSync(join(tmpdir(), 'export-trainer-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `npm run cli -- export-trainer ...` with an empty Hub cache (nothing is downloaded). */
function cli(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, HF_HUB_CACHE: join(scratch, 'hub'), HF_HUB_OFFLINE: '1' };
    execFile('npm', ['run', '-s', 'cli', '--', 'export-trainer', ...args], { timeout: 120_000, env }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
}

describe('npm run cli -- export-trainer', () => {
  it('writes the three trainers\' files for the demo model folder and an Alpaca dataset', async () => {
    const config = join(scratch, 'qlora.json');
    writeFileSync(config, JSON.stringify({ rank: 4, alpha: 8, targets: ['query', 'value'], basePrecision: 'nf4', doubleQuant: true, maxSteps: 12, maxSeqLen: 128 }));
    const out = join(scratch, 'out');
    const r = await cli('--config', config, '--model', 'public/demo', '--data', 'public/demo/dataset.jsonl', '--out', out, '--validation-split', '0.1');
    expect(r.code, r.out).toBe(0);
    for (const f of ['axolotl/axolotl.yaml', 'axolotl/data/train.jsonl', 'axolotl/data/validation.jsonl', 'trl/train_trl.py', 'trl/data/train.jsonl', 'torchtune/torchtune.yaml', 'torchtune/data/validation.jsonl']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const ax = parseYaml(readFileSync(join(out, 'axolotl/axolotl.yaml'), 'utf8'));
    expect(ax).toMatchObject({ base_model: 'public/demo', lora_r: 4, lora_alpha: 8, max_steps: 12, sequence_len: 128, output_dir: './outputs/qlora' });
    // The model folder's config.json picks torchtune's generic Llama builder and its weight files.
    const tt = parseYaml(readFileSync(join(out, 'torchtune/torchtune.yaml'), 'utf8'));
    expect(tt).toMatchObject({ model: { _component_: 'torchtune.models.llama3.lora_llama3', num_layers: 2, embed_dim: 64 }, checkpointer: { checkpoint_dir: 'public/demo', checkpoint_files: ['model.safetensors'] } });
    expect(r.out).toMatch(/start \(in .*trl\): accelerate launch/);
    expect(r.out).toMatch(/note: seed:/);
  });

  it('a Hub id that is not cached is exported from its name, with a warning; --trainer picks one', async () => {
    const out = join(scratch, 'hub-out');
    const r = await cli('--model', 'Qwen/Qwen2.5-0.5B-Instruct', '--data', 'public/demo/dataset.jsonl', '--out', out, '--trainer', 'torchtune');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/warning: Qwen\/Qwen2.5-0.5B-Instruct is not in the Hub cache/);
    expect(existsSync(join(out, 'torchtune/torchtune.yaml'))).toBe(true);
    expect(existsSync(join(out, 'axolotl'))).toBe(false);
  });

  it('usage errors exit 2 and name the problem', async () => {
    const bad = await cli('--model', 'public/demo', '--data', 'public/demo/dataset.jsonl', '--out', join(scratch, 'x'), '--trainer', 'deepspeed');
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/--trainer must be one of axolotl, trl, torchtune, all/);
    const missing = await cli('--model', 'public/demo', '--out', join(scratch, 'y'));
    expect(missing.code).toBe(2);
    expect(missing.out).toMatch(/--model, --data and --out are required/);
  });
});
