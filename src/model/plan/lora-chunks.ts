/**
 * The flat LoRA vector (parameters, gradients and each optimizer state, at `loraLayout`'s offsets)
 * cut into chunks that each fit one GPU binding: a rank-256 adapter on every linear of a 7B model
 * is 2.6 GB, ten times WebGPU's default maxStorageBufferBindingSize. Cuts fall only where a tensor
 * starts (its padding stays with it), so every tensor keeps its 256-byte aligned offset inside its
 * chunk and the layout itself does not change: a checkpoint or adapter saved under one device's
 * limits loads under another's.
 *
 * A single tensor larger than a chunk is cut only where its readers bind it piecewise anyway:
 * lm_head's B (V, r) at whole LM-head vocabulary chunks (`headRows` rows). Any other such tensor is
 * refused with what to change.
 */
import { LORA_ALIGN_ELEMENTS, type LoraLayout } from './lora-layout';

const mib = (b: number) => (b < 2 ** 20 ? `${(b / 2 ** 10).toFixed(1)} KiB` : `${(b / 2 ** 20).toFixed(1)} MiB`);

/** A contiguous range of the flat vector, in f32 elements; one GPU buffer on the device. */
export interface LoraChunk {
  start: number;
  length: number;
}

/** Atomic ranges in flat order: each tensor with the padding after it (lm_head's B possibly in row blocks). */
function segments(layout: LoraLayout, cap: number, headRows: number): LoraChunk[] {
  const starts: { at: number; what: string; rowElements: number; splittable: boolean }[] = [];
  for (const s of layout.slots) {
    starts.push({ at: s.offsetA, what: `${s.path} A (${s.r}, ${s.inFeatures})`, rowElements: 0, splittable: false });
    starts.push({ at: s.offsetB, what: `${s.path} B (${s.outFeatures}, ${s.r})`, rowElements: headRows * s.r, splittable: s.module === 'lm_head' });
    if (s.offsetM !== undefined) starts.push({ at: s.offsetM, what: `${s.path} DoRA magnitude (${s.outFeatures})`, rowElements: 0, splittable: false });
  }
  starts.sort((a, b) => a.at - b.at);
  const out: LoraChunk[] = [];
  starts.forEach((t, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].at : layout.length;
    const length = end - t.at;
    if (length <= cap) {
      out.push({ start: t.at, length });
      return;
    }
    const rowsFit = t.rowElements > 0 ? Math.floor(cap / t.rowElements) : 0;
    if (!t.splittable || rowsFit < 1 || (t.rowElements * rowsFit) % LORA_ALIGN_ELEMENTS) {
      throw new RangeError(`LoRA tensor ${t.what} needs ${mib(4 * length)}, above the ${mib(4 * cap)} one GPU binding takes; ` +
        'use a smaller rank for this module (rank_pattern) or leave it out of the targets');
    }
    const block = t.rowElements * rowsFit; // whole vocabulary chunks, a multiple of 64 elements
    for (let o = 0; o < length; o += block) out.push({ start: t.at + o, length: Math.min(block, length - o) });
  });
  if (!out.length || out[0].start !== 0) out.unshift({ start: 0, length: out[0]?.start ?? layout.length });
  return out;
}

/**
 * The chunks of the flat vector for a device whose largest binding is `maxBindingBytes` (Infinity:
 * one chunk, the whole vector). `headRows`: the LM head's vocabulary chunk (rows of lm_head's B a
 * reader binds at once).
 */
export function loraChunks(layout: LoraLayout, maxBindingBytes: number, headRows: number): LoraChunk[] {
  if (!(maxBindingBytes < 4 * layout.length)) return [{ start: 0, length: layout.length }];
  const cap = Math.floor(maxBindingBytes / 4 / LORA_ALIGN_ELEMENTS) * LORA_ALIGN_ELEMENTS;
  if (cap < LORA_ALIGN_ELEMENTS) throw new RangeError(`a GPU binding of ${maxBindingBytes} bytes cannot hold a LoRA tensor`);
  const chunks: LoraChunk[] = [];
  for (const s of segments(layout, cap, headRows)) {
    const last = chunks[chunks.length - 1];
    if (last && last.length + s.length <= cap) last.length += s.length;
    else chunks.push({ ...s });
  }
  return chunks;
}

/** The chunk holding elements [offset, offset + count) of the flat vector; throws if they straddle a cut. */
export function chunkOf(chunks: readonly LoraChunk[], offset: number, count: number): number {
  const i = chunks.findIndex((c) => offset >= c.start && offset < c.start + c.length);
  if (i < 0 || offset + count > chunks[i].start + chunks[i].length) {
    throw new RangeError(`LoRA elements [${offset}, ${offset + count}) straddle a chunk of the flat vector; ` +
      'the LM head must read lm_head B in the vocabulary chunks it was cut for');
  }
  return i;
}
