import { describe, expect, it } from 'vitest';
import { checkGolden } from '../../src/cli/golden/check';
import { formatComparison } from '../../src/cli/golden/compare';
import { loadGoldenCase } from '../../src/cli/golden/golden-case';
import { gpuGoldenEngine } from '../../src/cli/golden/gpu-engine';
import { testGpu } from '../gpu/gpu';

const gpu = await testGpu();

// The WebGPU training graph with DoRA against PyTorch (scripts/golden/make_golden.py --dora): the
// per-row norm from the packed weight, the magnitude's gradient and its AdamW step in the flat state.
describe.skipIf(!gpu)('DoRA: WebGPU training graph vs PyTorch golden (qwen3-tiny-dora)', () => {
  it('matches logits, loss, the gradients of A, B and m, one AdamW step and the loss after it', async () => {
    const c = await loadGoldenCase('tests/fixtures/golden/qwen3-tiny-dora');
    const comparisons = await checkGolden(c, await gpuGoldenEngine().run(c));
    expect(comparisons.filter((x) => !x.ok).map(formatComparison)).toEqual([]);
    expect(comparisons).toHaveLength(2 + 2 * 3 * 14 + 1);
  });
});
