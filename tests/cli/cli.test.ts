import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** Run `npm run cli -- ...` the way a person does; resolves with the exit code and output. */
function cli(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '-s', 'cli', '--', ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

const scratch = mkdtempSync(join(tmpdir(), 'cli-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('npm run cli', () => {
  it('golden: the CPU engine reproduces PyTorch on a copy of the golden case (exit 0)', async () => {
    const dir = join(scratch, 'llama-tiny');
    cpSync('tests/fixtures/golden/llama-tiny', dir, { recursive: true });
    const r = await cli('golden', dir, '--engine', 'cpu');
    expect(r.out).toContain('63 tensors checked');
    expect(r.out).toContain('all within tolerance');
    expect(r.code).toBe(0);
  });

  it('golden: exits 1 and names the tensor when a result is off', async () => {
    const dir = join(scratch, 'llama-tiny-wrong');
    cpSync('tests/fixtures/golden/llama-tiny', dir, { recursive: true });
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
    expected.loss_after_adamw_1 += 0.01;
    writeFileSync(join(dir, 'expected.json'), JSON.stringify(expected));
    const r = await cli('golden', dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL loss_after_adamw_1/);
  });

  it('golden: a missing file is a clear message and exit 2', async () => {
    const r = await cli('golden', join(scratch, 'nowhere'));
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/config\.json: file is missing/);
  });

  it('nf4: codes, absmax and dequant bit-exact against bitsandbytes (exit 0)', async () => {
    const r = await cli('nf4', 'tests/fixtures/golden/nf4');
    expect(r.out).toContain('bit-exact');
    expect(r.code).toBe(0);
  });

  it('count: Llama-2-7B r=8 gives the PEFT figures', async () => {
    const config = 'tests/fixtures/configs/llama-2-7b.json';
    expect((await cli('count', '--config', config, '--r', '8', '--targets', 'query,value')).out.trim()).toBe('4194304');
    expect((await cli('count', '--config', config, '--r', '8', '--targets', 'query,key,value,projection,mlp,head')).out.trim()).toBe('20277248');
  });

  it('count: a bad target is a usage error (exit 2)', async () => {
    const r = await cli('count', '--config', 'tests/fixtures/configs/llama-2-7b.json', '--r', '8', '--targets', 'attention');
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/unknown target\(s\) attention/);
  });
});
