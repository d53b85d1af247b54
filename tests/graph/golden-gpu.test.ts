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
    const comparisons = await checkGolden(c, await gpuGoldenEngine.run(c));
    expect(comparisons.filter((x) => !x.ok).map(formatComparison)).toEqual([]);
    expect(comparisons).toHaveLength(63);
  });
});
