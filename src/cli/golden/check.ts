import { compareArrays, type Comparison } from './compare';
import { adapterKey, type GoldenCase } from './golden-case';
import type { GoldenResult } from './golden-engine';

/** Tolerances from the golden README: what a correct float32 implementation meets. */
export const GOLDEN_TOLERANCE = {
  values: { atol: 1e-4, rtol: 1e-4 }, // logits, losses, parameters after AdamW
  grads: { atol: 1e-4, rtol: 1e-3 },
};

/** Every comparison of a golden result against the case's expected tensors, in a stable order. */
export async function checkGolden(c: GoldenCase, r: GoldenResult): Promise<Comparison[]> {
  const { values, grads } = GOLDEN_TOLERANCE;
  const out: Comparison[] = [
    compareArrays('logits', r.logits, await c.expected.readF32('logits'), values.atol, values.rtol),
    compareArrays('loss', [r.loss], [c.loss], values.atol, values.rtol),
  ];
  for (const t of c.adapter.tensors) {
    for (const which of ['A', 'B'] as const) {
      const key = adapterKey(t.path, which);
      out.push(compareArrays(`${key}.grad`, r.grads.get(key) ?? [], await c.expected.readF32(`${key}.grad`), grads.atol, grads.rtol));
    }
  }
  for (const t of c.adapter.tensors) {
    for (const which of ['A', 'B'] as const) {
      const key = adapterKey(t.path, which);
      out.push(compareArrays(`${key}.after_adamw_1`, r.afterAdamw.get(key) ?? [], await c.expected.readF32(`${key}.after_adamw_1`), values.atol, values.rtol));
    }
  }
  out.push(compareArrays('loss_after_adamw_1', [r.lossAfterAdamw], [c.lossAfterAdamw], values.atol, values.rtol));
  return out;
}
