import { describe, expect, it } from 'vitest';
import { checkGolden } from '../../src/cli/golden/check';
import { formatComparison } from '../../src/cli/golden/compare';
import { loadGoldenCase } from '../../src/cli/golden/golden-case';
import { gpuGoldenEngine } from '../../src/cli/golden/gpu-engine';
import { testGpu } from '../gpu/gpu';

const gpu = await testGpu();

describe.skipIf(!gpu)('WebGPU training graph vs PyTorch golden (llama-tiny)', () => {
  it('matches logits, loss, every LoRA gradient, one AdamW step and the loss after it', async () => {
    const c = await loadGoldenCase('tests/fixtures/golden/llama-tiny');
    const comparisons = await checkGolden(c, await gpuGoldenEngine().run(c));
    expect(comparisons.filter((x) => !x.ok).map(formatComparison)).toEqual([]);
    expect(comparisons).toHaveLength(63);
  });
});

describe.skipIf(!gpu)('WebGPU training graph vs PyTorch golden (Qwen3 and Gemma 3)', () => {
  // qwen3-tiny: GQA 4/2, head_dim 16 with hidden 32, q/k norms, tied. gemma3-tiny: GQA 4/1, (1 + w)
  // sandwich norms, GeGLU, scaled embeddings, query_pre_attn_scalar, a window of 4 < T = 12 on
  // sliding layers with their own RoPE base, and a full layer (scripts/golden/make_golden.py).
  for (const [name, tensors] of [['qwen3-tiny', 63], ['gemma3-tiny', 91]] as const) {
    it(`${name}: logits, loss, every LoRA gradient, one AdamW step and the loss after it`, async () => {
      const c = await loadGoldenCase(`tests/fixtures/golden/${name}`);
      const comparisons = await checkGolden(c, await gpuGoldenEngine().run(c));
      expect(comparisons.filter((x) => !x.ok).map(formatComparison)).toEqual([]);
      expect(comparisons).toHaveLength(tensors);
    });
  }
});

describe.skipIf(!gpu)('under WebGPU\'s default limits (--gpu-limits default)', () => {
  it('the device gets the defaults (128 MiB per binding, 256 MiB per buffer) and gemma3-tiny still passes', async () => {
    const { acquireGpu } = await import('../../src/engine/device');
    const { nodeGpu } = await import('../../src/engine/node-gpu');
    const small = await acquireGpu(await nodeGpu(), { limits: 'default' });
    expect(small.limits.maxStorageBufferBindingSize).toBe(134217728);
    expect(small.limits.maxBufferSize).toBe(268435456);
    small.device.destroy();
    const c = await loadGoldenCase('tests/fixtures/golden/gemma3-tiny');
    const comparisons = await checkGolden(c, await gpuGoldenEngine('default').run(c));
    expect(comparisons.filter((x) => !x.ok).map(formatComparison)).toEqual([]);
  });
});
