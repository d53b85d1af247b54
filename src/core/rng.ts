/**
 * The studio's random numbers: one counter-based generator shared bit for bit by the CPU (this file)
 * and the GPU (`shaders/lib/rng.wgsl`), so one seed drives LoRA init, dropout masks and data order, and
 * the CPU reference can rebuild any mask a shader drew.
 *
 * THE SPEC (both sides implement exactly this, with u32 arithmetic only):
 *
 *   Philox-4x32-10 (Salmon et al. 2011, Random123), known-answer-tested against Random123's
 *   `kat_vectors`. The 32x32 -> 64-bit multiply is `Math.imul` (low word) plus 16-bit halves
 *   (high word) here, and 16-bit halves in WGSL.
 *
 *   seed    integer in [0, 2^53)  -> key     = (seed mod 2^32, floor(seed / 2^32))
 *   stream  integer in [0, 2^53)  -> the middle counter words (stream mod 2^32, floor(stream / 2^32))
 *   counter integer in [0, 2^53)  -> block b = floor(counter / 4), lane = counter mod 4
 *
 *   randU32(seed, stream, counter) = philox4x32_10(ctr = (b mod 2^32, streamLo, streamHi, floor(b / 2^32)),
 *                                                  key = (seedLo, seedHi))[lane]
 *   uniform(seed, stream, counter) = (randU32(...) >>> 8) * 2^-24        in [0, 1), exact in f32
 *
 *   Four consecutive counters share one Philox block, so a shader thread that handles 4 consecutive
 *   elements pays for one block.
 *
 * Streams separate the uses of one seed: `stream = domain * 2^48 + payload` (see the helpers below),
 * so dropout, init and data order never draw the same numbers.
 */

/**
 * An explicit inverted-dropout mask on a LoRA input, as torch.nn.Dropout in training mode:
 * kept elements are multiplied by 1/(1-p), dropped ones become 0. `keep` has one byte per input
 * element (N, In), 1 = keep. Explicit masks let a GPU run with an in-shader RNG be checked exactly.
 */
export interface DropoutMask {
  keep: Uint8Array;
  p: number;
}

// ---------------------------------------------------------------------------------------------
// Philox-4x32-10

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO32 = 4294967296;

/** High 32 bits of the 64-bit product of two u32s (exact: every partial product stays under 2^53). */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const mid = ah * bl + al * bh; // < 2^33
  const low = al * bl + (mid % 65536) * 65536; // < 2^33
  return (ah * bh + Math.floor(mid / 65536) + Math.floor(low / TWO32)) >>> 0;
}

/**
 * Philox-4x32-10 of a 128-bit counter (c0..c3) under a 64-bit key (k0, k1); all words u32.
 * Writes the four output words into `out` (4) and returns it.
 */
export function philox4x32(
  c0: number, c1: number, c2: number, c3: number, k0: number, k1: number,
  out: Uint32Array = new Uint32Array(4),
): Uint32Array {
  c0 >>>= 0; c1 >>>= 0; c2 >>>= 0; c3 >>>= 0; k0 >>>= 0; k1 >>>= 0;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
  return out;
}

/** Splits a non-negative integer below 2^53 into (lo, hi) u32 words; throws on anything else. */
export function splitU53(name: string, x: number): [number, number] {
  if (!Number.isSafeInteger(x) || x < 0) throw new RangeError(`rng: ${name} must be an integer in [0, 2^53), got ${x}`);
  return [x % TWO32, Math.floor(x / TWO32)];
}

const scratch = new Uint32Array(4);

/** The u32 at `counter` of the stream `stream` under `seed` (see THE SPEC above). */
export function randU32(seed: number, stream: number, counter: number): number {
  const [k0, k1] = splitU53('seed', seed);
  const [s0, s1] = splitU53('stream', stream);
  splitU53('counter', counter);
  const b = Math.floor(counter / 4);
  philox4x32(b % TWO32, s0, s1, Math.floor(b / TWO32), k0, k1, scratch);
  return scratch[counter % 4];
}

/** uniform(seed, stream, counter) = top 24 bits of randU32 / 2^24, in [0, 1), exactly representable in f32. */
export function uniform(seed: number, stream: number, counter: number): number {
  return (randU32(seed, stream, counter) >>> 8) * 2 ** -24;
}

/**
 * Fills `out` with randU32(seed, stream, first + i) for i in [0, out.length): one Philox block per
 * 4 counters (what a shader does), for bulk draws (masks, init).
 */
export function fillU32(out: Uint32Array, seed: number, stream: number, first = 0): Uint32Array {
  const [k0, k1] = splitU53('seed', seed);
  const [s0, s1] = splitU53('stream', stream);
  splitU53('counter', first + out.length);
  const blk = new Uint32Array(4);
  let lastBlock = -1;
  for (let i = 0; i < out.length; i++) {
    const c = first + i;
    const b = Math.floor(c / 4);
    if (b !== lastBlock) {
      philox4x32(b % TWO32, s0, s1, Math.floor(b / TWO32), k0, k1, blk);
      lastBlock = b;
    }
    out[i] = blk[c % 4];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Streams: stream = domain * 2^48 + payload

const TWO48 = 2 ** 48;
/**
 * The registry of every stream the studio draws from: a domain per family of streams (the helpers
 * below build their payloads), and the single streams of the free domain 0. A new use of the RNG
 * gets its entry here, so no two uses ever share draws. Domain 0 is also free for tests.
 */
export const STREAM_DOMAIN = { free: 0, dropout: 1, loraInit: 2, dataOrder: 3, split: 4, sampledLabels: 5 } as const;

/** The train/validation split's shuffle (the whole of domain 4). */
export const SPLIT_STREAM = STREAM_DOMAIN.split * TWO48;
/** Sampling in generation: the seed alone decides the draws. */
export const SAMPLING_STREAM = 0x5a4d;
/** Random weights of synthetic models (tests, the bench, model generators). */
export const SYNTHETIC_WEIGHTS_STREAM = 99;
/** Synthetic token chains (tests, the bench). */
export const SYNTHETIC_DATA_STREAM = 5;

function checkField(name: string, v: number, bits: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new RangeError(`rng: ${name} must be an integer in [0, 2^${bits}), got ${v}`);
}

/**
 * The dropout stream of one LoRA module in one micro-batch of one optimizer step:
 * payload = step * 2^24 + micro * 2^14 + layer * 2^4 + moduleIndex.
 * step < 2^24 (as the trainer counts it), micro < 1024, layer < 1024 (lm_head: pass 0),
 * moduleIndex < 16 (the index in `MODULE_NAMES` of `src/config/lora-targets.ts`).
 */
export function dropoutStream(step: number, micro: number, layer: number, moduleIndex: number): number {
  checkField('step', step, 24);
  checkField('micro', micro, 10);
  checkField('layer', layer, 10);
  checkField('moduleIndex', moduleIndex, 4);
  return STREAM_DOMAIN.dropout * TWO48 + step * 2 ** 24 + micro * 2 ** 14 + layer * 16 + moduleIndex;
}

/** The init stream of one LoRA module's A matrix (counter = flat index r * in + i). */
export function loraInitStream(layer: number, moduleIndex: number): number {
  checkField('layer', layer, 10);
  checkField('moduleIndex', moduleIndex, 4);
  return STREAM_DOMAIN.loraInit * TWO48 + layer * 16 + moduleIndex;
}

/**
 * The stream of the labels Sophia's Gauss-Newton-Bartlett estimate samples from the model's own
 * softmax for row `row` of the batch at optimizer step `step` (counter = vocabulary index):
 * payload = step * 2^24 + row, step < 2^24, row < 2^24. shaders/sample_labels.wgsl builds the same
 * words: lo = (step mod 2^8) * 2^24 + row, hi = 5 * 2^16 + floor(step / 2^8).
 */
export function sampledLabelStream(step: number, row: number): number {
  checkField('step', step, 24);
  checkField('row', row, 24);
  return STREAM_DOMAIN.sampledLabels * TWO48 + step * 2 ** 24 + row;
}

/** The data-order stream of one epoch. */
export function dataOrderStream(epoch: number): number {
  checkField('epoch', epoch, 40);
  return STREAM_DOMAIN.dataOrder * TWO48 + epoch;
}

// ---------------------------------------------------------------------------------------------
// Dropout masks (the CPU twin of shaders/dropout.wgsl)

/**
 * The integer form of the keep rule "keep element j iff uniform(seed, stream, j) >= p":
 * keep iff (randU32 >>> 8) >= ceil(p * 2^24). Exact (no f32 rounding of p); the shader gets this
 * threshold as a u32. p in [0, 1); p = 0 keeps everything.
 */
export function dropoutThreshold(p: number): number {
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout p must be in [0, 1), got ${p}`);
  return Math.ceil(p * 2 ** 24);
}

/**
 * The keep flags of a dropout over `n` elements (flat index = counter), in the format of
 * `DropoutMask` above: `{ keep: Uint8Array (n), p }`, 1 = keep.
 */
export function dropoutMask(p: number, seed: number, stream: number, n: number): DropoutMask {
  const thr = dropoutThreshold(p);
  const u = fillU32(new Uint32Array(n), seed, stream);
  const keep = new Uint8Array(n);
  for (let j = 0; j < n; j++) keep[j] = u[j] >>> 8 >= thr ? 1 : 0;
  return { keep, p };
}

/** The same mask as multipliers: 0 or 1/(1-p) per element (n), as f32 (what the shader multiplies by). */
export function dropoutScaleMask(p: number, seed: number, stream: number, n: number): Float32Array {
  const { keep } = dropoutMask(p, seed, stream, n);
  const s = Math.fround(1 / (1 - p));
  const out = new Float32Array(n);
  for (let j = 0; j < n; j++) out[j] = keep[j] ? s : 0;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sequential PRNG for data order, and LoRA init

/** A seeded sequential generator over one stream: the counter advances by one per u32 drawn. */
export class Prng {
  private counter = 0;
  constructor(readonly seed: number, readonly stream: number) {
    splitU53('seed', seed);
    splitU53('stream', stream);
  }
  nextU32(): number {
    return randU32(this.seed, this.stream, this.counter++);
  }
  /** Uniform in [0, 1) with 24 bits (the same value `uniform` gives). */
  nextFloat(): number {
    return (this.nextU32() >>> 8) * 2 ** -24;
  }
  /** Uniform in [0, 1) with 53 bits (two draws). */
  nextDouble(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) * 2 ** -53;
  }
  /** Integer in [0, n), n <= 2^32; bias below n / 2^53. */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO32) throw new RangeError(`nextInt: n must be an integer in [1, 2^32], got ${n}`);
    return Math.floor(this.nextDouble() * n);
  }
  /** In-place Fisher–Yates (Durstenfeld) shuffle; returns `a`. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

/** The order in which to visit `n` examples in `epoch` (a permutation of 0..n-1). */
export function dataOrder(n: number, seed: number, epoch: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  return new Prng(seed, dataOrderStream(epoch)).shuffle(order);
}

/**
 * PEFT's init of lora_A (R, In): torch.nn.init.kaiming_uniform_(A, a=sqrt(5)), i.e. gain
 * sqrt(2 / (1 + 5)) and bound gain * sqrt(3 / fan_in) = 1 / sqrt(In) with fan_in = In;
 * A[k] = bound * (2 uniform(seed, stream, k) - 1), k = r * In + i. lora_B (Out, R) starts at zero.
 */
export function kaimingUniformLoraA(R: number, In: number, seed: number, stream: number): Float32Array {
  if (!(Number.isInteger(R) && R > 0 && Number.isInteger(In) && In > 0)) throw new RangeError(`lora A: bad shape [${R}, ${In}]`);
  const bound = 1 / Math.sqrt(In);
  const u = fillU32(new Uint32Array(R * In), seed, stream);
  const A = new Float32Array(R * In);
  for (let k = 0; k < A.length; k++) A[k] = bound * (2 * ((u[k] >>> 8) * 2 ** -24) - 1);
  return A;
}

/** lora_A of module `moduleIndex` in `layer` under the run seed (its own init stream). */
export function initLoraA(seed: number, layer: number, moduleIndex: number, R: number, In: number): Float32Array {
  return kaimingUniformLoraA(R, In, seed, loraInitStream(layer, moduleIndex));
}
