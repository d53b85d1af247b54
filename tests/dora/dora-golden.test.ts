import { beforeAll, describe, expect, it } from 'vitest';
import { checkGolden } from '../../src/cli/golden/check';
import { formatComparison } from '../../src/cli/golden/compare';
import { loadGoldenCase, type GoldenCase } from '../../src/cli/golden/golden-case';
import { cpuGoldenEngine } from '../../src/cli/golden/cpu-engine';

// DoRA as PEFT computes it, written in torch by scripts/golden/make_golden.py --dora: every decoder
// linear of the Qwen3-like tiny model with A, B (non-zero) and a magnitude that differs from the norm.
let c: GoldenCase;

beforeAll(async () => {
  c = await loadGoldenCase('tests/fixtures/golden/qwen3-tiny-dora');
});

describe('DoRA: CPU reference vs PyTorch golden (qwen3-tiny-dora)', () => {
  it('imports the PEFT DoRA adapter: use_dora and a magnitude [out] per module', () => {
    expect(c.adapter.config.useDora).toBe(true);
    expect(c.adapter.tensors.length).toBe(2 * 7);
    for (const t of c.adapter.tensors) expect(t.M?.length).toBe(t.outFeatures);
  });

  it('matches logits, loss, the gradients of A, B and m, one AdamW step and the loss after it', async () => {
    const comparisons = await checkGolden(c, await cpuGoldenEngine.run(c));
    expect(comparisons.filter((x) => !x.ok).map(formatComparison)).toEqual([]);
    expect(comparisons.length).toBe(2 + 2 * 3 * 14 + 1);
    expect(comparisons.filter((x) => x.name.includes('lora_magnitude_vector')).length).toBe(2 * 14);
  });
});
