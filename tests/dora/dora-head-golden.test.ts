import { beforeAll, describe, expect, it } from 'vitest';
import { checkGolden } from '../../src/cli/golden/check';
import { formatComparison } from '../../src/cli/golden/compare';
import { loadGoldenCase, type GoldenCase } from '../../src/cli/golden/golden-case';
import { cpuGoldenEngine } from '../../src/cli/golden/cpu-engine';
import { gpuGoldenEngine, runGoldenOnGpu } from '../../src/cli/golden/gpu-engine';
import { testGpu } from '../gpu/gpu';

const gpu = await testGpu();

// DoRA on every decoder linear and on an untied lm_head (scripts/golden/make_golden.py --dora,
// qwen3-untied-dora-head): the head's per-vocabulary-row norm, its magnitude's gradient and AdamW step.
// 2 layers x 7 linears + lm_head = 15 modules, each with A, B and m; V = 96.
const MODULES = 15;
let c: GoldenCase;

beforeAll(async () => {
  c = await loadGoldenCase('tests/fixtures/golden/qwen3-untied-dora-head');
});

const failures = (xs: Awaited<ReturnType<typeof checkGolden>>) => xs.filter((x) => !x.ok).map(formatComparison);

describe('DoRA on the LM head vs PyTorch golden (qwen3-untied-dora-head)', () => {
  it('imports lm_head with a magnitude of V rows under PEFT\'s key', () => {
    expect(c.adapter.config.useDora).toBe(true);
    const head = c.adapter.tensors.find((t) => t.path === 'lm_head');
    expect(head?.M?.length).toBe(96);
    expect(c.adapter.tensors.length).toBe(MODULES);
  });

  it('CPU reference: logits, loss, gradients of A, B and m, one AdamW step', async () => {
    const xs = await checkGolden(c, await cpuGoldenEngine.run(c));
    expect(failures(xs)).toEqual([]);
    expect(xs.length).toBe(2 + 2 * 3 * MODULES + 1);
    expect(xs.filter((x) => x.name.startsWith('base_model.model.lm_head.lora_magnitude_vector')).length).toBe(2);
  });

  it.skipIf(!gpu)('GPU graph, the whole vocabulary in one chunk', async () => {
    const xs = await checkGolden(c, await gpuGoldenEngine().run(c));
    expect(failures(xs)).toEqual([]);
    expect(xs.length).toBe(2 + 2 * 3 * MODULES + 1);
  });

  it.skipIf(!gpu)('GPU graph, vocabulary chunks of 64 rows (96 = 64 + 32): norm, dm, dB per chunk', async () => {
    const xs = await checkGolden(c, await gpuGoldenEngine('adapter', { vocabChunk: 64 }).run(c));
    expect(failures(xs)).toEqual([]);
    expect(xs.length).toBe(2 + 2 * 3 * MODULES + 1);
  });

  it.skipIf(!gpu)('GPU graph with every piece under an 8 KiB binding: head chunks and the LoRA state in chunks', async () => {
    let pieces = { headChunks: 0, loraChunks: 0 };
    const result = await runGoldenOnGpu(c, gpu!, {}, { maxBindingBytes: 8192, inspect: (g) => { pieces = { headChunks: g.dims.chunks.length, loraChunks: g.lora.chunks.length }; } });
    expect(pieces.headChunks).toBeGreaterThan(1);
    expect(pieces.loraChunks).toBeGreaterThan(1);
    expect(failures(await checkGolden(c, result))).toEqual([]);
  });
});
