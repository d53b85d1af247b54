import { MODULE_NAMES, type ModuleName } from '../model/lora-targets';

/**
 * Where the LoRA dropout masks of a step come from. The reference asks for one mask per LoRA
 * module per forward: `mask(modulePath, n)` returns n = rows * in_features keep flags (1 = keep).
 * Any source works (tests pass fixed masks); `seededDropout` is the counter-based hash that the
 * GPU dropout is meant to reproduce bit for bit, so CPU and GPU runs see the same masks.
 */
export interface DropoutOptions {
  /** Dropout probability of the LoRA input, in [0, 1). */
  p: number;
  mask: (modulePath: string, n: number) => Uint8Array;
}

/**
 * Jarkko Kiuru's "pcg_hash": u32 -> u32, a bijection with good avalanche, and three lines of
 * WGSL. All arithmetic is u32 (Math.imul + >>> 0 mirror WGSL's wrapping u32 ops).
 */
export function pcgHash(x: number): number {
  const state = (Math.imul(x >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/**
 * A small integer naming a LoRA module: layer * 8 + index in MODULE_NAMES (lm_head = 7).
 * Different modules (even q, k and v on the same input) draw independent masks, as in PEFT where
 * each LoRA layer owns its dropout.
 */
export function loraStreamId(modulePath: string): number {
  if (modulePath === 'lm_head') return MODULE_NAMES.indexOf('lm_head');
  const m = /^model\.layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)$/.exec(modulePath);
  const index = m ? MODULE_NAMES.indexOf(m[2] as ModuleName) : -1;
  if (!m || index < 0) throw new Error(`dropout: not a LoRA module path: "${modulePath}"`);
  return Number(m[1]) * MODULE_NAMES.length + index;
}

/**
 * Keep flags for element i of a stream:
 *   key  = pcg(pcg(pcg(seed) ^ step) ^ stream)        (once per module and step)
 *   bits = pcg(key ^ pcg(i))
 *   keep = (bits >>> 8) >= round(p * 2^24)             (an integer test, so f32 vs f64 cannot differ)
 * which keeps each element with probability 1 - p (to within 2^-24).
 */
export function hashDropoutMask(seed: number, step: number, stream: number, n: number, p: number): Uint8Array {
  const threshold = Math.round(p * 16777216);
  const key = pcgHash((pcgHash((pcgHash(seed) ^ step) >>> 0) ^ stream) >>> 0);
  const keep = new Uint8Array(n);
  for (let i = 0; i < n; i++) keep[i] = pcgHash((key ^ pcgHash(i)) >>> 0) >>> 8 >= threshold ? 1 : 0;
  return keep;
}

/** Dropout options whose masks come from hashDropoutMask(seed, step, loraStreamId(path), n, p). */
export function seededDropout(seed: number, step: number, p: number): DropoutOptions {
  return { p, mask: (path, n) => hashDropoutMask(seed, step, loraStreamId(path), n, p) };
}
