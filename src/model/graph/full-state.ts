/**
 * Full finetuning's state: every base weight (embedding shards, each layer's norms, linears (in their
 * row shards) and q/k/v biases, the final norm, the untied head's chunks) is a parameter, trained in
 * f32. The base buffers themselves are the parameter chunks of a LoraState-shaped vector (one chunk
 * per buffer, each already within one binding), so the optimizer, the gradient norm, zeroing and
 * checkpoints run over it unchanged; gradients and optimizer moments are allocated beside them, one
 * buffer per base buffer.
 */
import type { Engine } from '../../engine/context';
import { refBuffer } from '../../engine/kernels/common';
import type { ModelConfig } from '../../config/model-config';
import type { LoraLayout } from '../plan/lora-layout';
import type { LoraChunk } from '../plan/lora-chunks';
import type { BaseWeights } from './base-weights';
import { LAYER_LINEARS } from './base-weights';
import { modulePath } from '../../config/lora-targets';
import { allocFlat, readFlats, type LoraState } from './lora-state';

/** One base buffer as a parameter: rows [r0, r0 + numel / cols) of the Hugging Face tensor `name`. */
export interface FullPiece {
  name: string;
  /** Shape of the whole tensor (the piece is a block of whole rows of it). */
  shape: number[];
  r0: number;
  numel: number;
  param: GPUBuffer; // (numel) f32
}

export interface FullState {
  pieces: FullPiece[];
  state: LoraState;
  /** base buffer -> its gradient buffer (same size, f32) */
  grads: Map<GPUBuffer, GPUBuffer>;
}

/** A layout with no LoRA slots over P = every base parameter (so nothing builds a LoRA branch). */
export function fullLayout(P: number): LoraLayout {
  return { slots: [], length: P, params: P };
}

/** The base weights as parameter pieces, in Hugging Face tensor order (a run must hold them in f32). */
export function fullPieces(model: ModelConfig, base: BaseWeights): FullPiece[] {
  const C = model.hiddenSize;
  const out: FullPiece[] = [];
  const add = (name: string, shape: number[], r0: number, rows: number, param: GPUBuffer) =>
    out.push({ name, shape, r0, numel: rows * (shape[1] ?? 1), param });
  for (const s of base.embed) {
    if (s.format !== 'f32') throw new RangeError(`full finetuning needs the embedding in f32 (it is ${s.format}); set basePrecision to f32`);
    add('model.embed_tokens.weight', [model.vocabSize, C], s.v0, s.rows, s.buffer);
  }
  base.layers.forEach((w, l) => {
    const p = `model.layers.${l}`;
    const sandwich = model.sandwichNorms === true;
    add(`${p}.input_layernorm.weight`, [C], 0, C, w.inputNorm);
    if (w.attnOutNorm) add(`${p}.post_attention_layernorm.weight`, [C], 0, C, w.attnOutNorm);
    add(`${p}.${sandwich ? 'pre_feedforward_layernorm' : 'post_attention_layernorm'}.weight`, [C], 0, C, w.mlpNorm);
    if (w.mlpOutNorm) add(`${p}.post_feedforward_layernorm.weight`, [C], 0, C, w.mlpOutNorm);
    if (w.qNorm) add(`${p}.self_attn.q_norm.weight`, [model.headDim], 0, model.headDim, w.qNorm);
    if (w.kNorm) add(`${p}.self_attn.k_norm.weight`, [model.headDim], 0, model.headDim, w.kNorm);
    for (const m of LAYER_LINEARS) {
      const lw = w.linears[m];
      if (lw.format !== 'f32') throw new RangeError(`full finetuning needs f32 base weights (${m} is ${lw.format}); set basePrecision to f32`);
      for (const sh of lw.shards) add(`${modulePath(m, l)}.weight`, [lw.rows, lw.cols], sh.r0, sh.weight.rows, refBuffer(sh.weight.words));
      // q/k/v biases (Qwen2): parameters like any other (AdamW decays them too, as torch.optim.AdamW over all parameters).
      const b = w.bias[m as keyof typeof w.bias];
      if (b) add(`${modulePath(m, l)}.bias`, [lw.rows], 0, lw.rows, b);
    }
  });
  out.push({ name: 'model.norm.weight', shape: [C], r0: 0, numel: C, param: base.finalNorm });
  if (!model.tieWordEmbeddings) {
    let v0 = 0;
    for (const h of base.headChunks) {
      add('lm_head.weight', [model.vocabSize, C], v0, h.rows, refBuffer(h.words));
      v0 += h.rows;
    }
  }
  return out;
}

/** Allocate gradients and `optimizerBuffers` moments beside every base buffer. */
export async function createFullState(engine: Engine, model: ModelConfig, base: BaseWeights, optimizerBuffers: number): Promise<FullState> {
  const pieces = fullPieces(model, base);
  const chunks: LoraChunk[] = [];
  let start = 0;
  for (const p of pieces) {
    chunks.push({ start, length: p.numel });
    start += p.numel;
  }
  const grads = await allocFlat(engine, chunks, 'grads', 'full grads');
  const moments = [];
  for (let i = 0; i < optimizerBuffers; i++) moments.push(await allocFlat(engine, chunks, 'optimizer', `optimizer state ${i}`));
  const state: LoraState = { layout: fullLayout(start), chunks, params: { chunks, buffers: pieces.map((p) => p.param) }, grads, moments };
  return { pieces, state, grads: new Map(pieces.map((p, i) => [p.param, grads.buffers[i]])) };
}

/**
 * One vector of the full state (parameters, gradients, a moment) read back and assembled per
 * Hugging Face tensor (row shards and head chunks joined), in piece order.
 */
export async function readFullTensors(engine: Engine, full: FullState, v: LoraState['params']): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const [flat] = await readFlats(engine, [v]);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  full.pieces.forEach((p, i) => {
    let t = out.get(p.name);
    if (!t) out.set(p.name, (t = { shape: p.shape, data: new Float32Array(p.shape.reduce((a, b) => a * b, 1)) }));
    const cols = p.shape[1] ?? 1;
    const start = v.chunks[i].start;
    t.data.set(flat.subarray(start, start + p.numel), p.r0 * cols);
  });
  return out;
}
