/**
 * Packing: several short examples share one row of `maxLen` tokens, so fewer rows are padding.
 * Best-fit decreasing: longest first, each into the row whose free space fits it most tightly
 * (a segment tree over free space finds that row in O(log maxLen)).
 *
 * What packing changes, and what it does not: each example keeps its own loss flags, and the first
 * token of each example is not a target (predicting a new example from the end of the previous one
 * teaches nothing). But the engine has no per-document attention mask and positions do not restart:
 * inside a row, tokens of a later example attend to the earlier examples, and RoPE positions run on
 * across the row. This is the classic "concatenate and chunk" packing of Hugging Face's run_clm and
 * TRL's packing without flash-attention position ids; it slightly blurs examples into each other,
 * which is why packing is off by default.
 */
import type { TokenizedExample } from './batching';

/** Smallest free space >= need among open rows: counts per free-space value in a segment tree. */
class FreeSpace {
  private readonly size: number;
  private readonly tree: Int32Array;
  readonly rows: number[][];

  constructor(maxLen: number) {
    this.size = 1 << Math.ceil(Math.log2(maxLen + 1));
    this.tree = new Int32Array(2 * this.size);
    this.rows = Array.from({ length: maxLen + 1 }, () => []);
  }

  add(space: number, row: number): void {
    this.rows[space].push(row);
    for (let i = space + this.size; i >= 1; i >>= 1) this.tree[i]++;
  }

  /** Removes and returns a row with the smallest free space >= need, or undefined. */
  take(need: number): { row: number; space: number } | undefined {
    // Walk down to the leftmost non-empty leaf at or right of `need`.
    const find = (node: number, lo: number, hi: number): number => {
      if (hi < need || this.tree[node] === 0) return -1;
      if (lo === hi) return lo;
      const mid = (lo + hi) >> 1;
      const left = find(2 * node, lo, mid);
      return left >= 0 ? left : find(2 * node + 1, mid + 1, hi);
    };
    const space = find(1, 0, this.size - 1);
    if (space < 0) return undefined;
    const row = this.rows[space].pop()!;
    for (let i = space + this.size; i >= 1; i >>= 1) this.tree[i]--;
    return { row, space };
  }
}

/** Packs examples (each at most `maxLen` ids) into rows of at most `maxLen` ids. Deterministic. */
export function packExamples(examples: readonly TokenizedExample[], maxLen: number): TokenizedExample[] {
  const order = examples.map((_, i) => i).sort((a, b) => examples[b].ids.length - examples[a].ids.length || a - b);
  const rows: { ids: number[]; inLoss: boolean[] }[] = [];
  const free = new FreeSpace(maxLen);
  for (const i of order) {
    const ex = examples[i];
    const n = ex.ids.length;
    if (n > maxLen) throw new RangeError(`packExamples: example of ${n} ids is longer than maxLen ${maxLen}; truncate first`);
    let slot = free.take(n);
    if (!slot) {
      rows.push({ ids: [], inLoss: [] });
      slot = { row: rows.length - 1, space: maxLen };
    }
    const r = rows[slot.row];
    for (let t = 0; t < n; t++) {
      r.ids.push(ex.ids[t]);
      r.inLoss.push(t > 0 && (ex.inLoss?.[t] ?? true));
    }
    if (slot.space - n > 0) free.add(slot.space - n, slot.row);
  }
  return rows;
}
