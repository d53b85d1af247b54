/** `npm run cli -- gguf ...` as a person runs it: a successful export, and each refusal with exit code 2. */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readGguf } from '../../src/io/gguf';
import { hfConfigJson, writeTinyModel } from '../../scripts/llama-cpp-check/tiny-models';

function cli(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '-s', 'cli', '--', 'gguf', ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
}

const root = mkdtempSync(join(tmpdir(), 'gguf-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const m = writeTinyModel(root, 'llama-untied');

describe('npm run cli -- gguf', () => {
  it('writes an adapter GGUF and its Modelfile (exit 0)', async () => {
    const out = join(root, 'lora.gguf');
    const r = await cli('--model', m.modelDir, '--adapter', m.adapterDir, '--what', 'adapter', '--out', out);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.split('\n').find((l) => l.startsWith('{'))!)).toMatchObject({ out, what: 'adapter', type: 'f32' });
    const f = readGguf(readFileSync(out));
    expect(f.metadata.get('general.type')).toBe('adapter');
    expect(f.tensors.length).toBe(2 * (2 * 7 + 1));
    expect(readFileSync(join(root, 'lora.Modelfile'), 'utf8')).toContain('ADAPTER ./lora.gguf');
    expect(existsSync(`${out}.part`)).toBe(false);
  });

  it('merged without --adapter is a usage error (exit 2)', async () => {
    const r = await cli('--model', m.modelDir, '--what', 'merged', '--type', 'q8_0', '--out', join(root, 'm.gguf'));
    expect(r.code).toBe(2);
    expect(r.out).toContain('--what merged needs --adapter <dir>');
  });

  it('an unknown type is refused naming the supported types (exit 2)', async () => {
    const unknown = await cli('--model', m.modelDir, '--type', 'q5_k', '--out', join(root, 'x.gguf'));
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain('GgufExportError: gguf: unknown type "q5_k"; supported: f32, f16, q8_0, q4_0, q4_k_m');
  });

  it('an unsupported architecture is refused by name (exit 2), and no file is left behind', async () => {
    const dir = join(root, 'mixtral');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...hfConfigJson('llama-untied'), architectures: ['MixtralForCausalLM'], model_type: 'mixtral' }));
    const out = join(root, 'mixtral.gguf');
    const r = await cli('--model', dir, '--out', out);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/architecture "MixtralForCausalLM" \(model_type "mixtral"\) is not supported/);
    expect(existsSync(out) || existsSync(`${out}.part`)).toBe(false);
  });

  it('a bad --what is a usage error (exit 2)', async () => {
    const r = await cli('--model', m.modelDir, '--what', 'lora', '--out', join(root, 'x.gguf'));
    expect(r.code).toBe(2);
    expect(r.out).toContain('--what must be one of base, adapter, merged, got "lora"');
  });
});
