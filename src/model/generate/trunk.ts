/**
 * The prepared ops of a decoder: the trunk (embedding and every layer) for M rows at a time, and
 * the head for the one row whose next token is wanted. M = Tc is a prefill chunk (tiled matmuls);
 * M = 1 is a decode step (matrix-vector products: a tile of 64 rows would be 64 times the work).
 * Each op is tagged with whether it belongs to the LoRA branch, so one decoder can also run the
 * base model alone by skipping those ops.
 *   layer: xn = norm(x); q, k, v = proj(xn); [per-head norm(q, k)]; rope(q, k) at pos0; append k, v
 *          to the cache; att = attention(q, cache); x1 = x + [norm](o(att)); xn = norm(x1);
 *          x = x1 + [norm](down(act(gate(xn)) * up(xn)))     ([...]: Qwen3 / Gemma, as the training graph)
 *   head:  logits (V) = norm(xLast) W^T [+ scale (xn A^T) B^T], one vocabulary chunk at a time
 * DoRA: every module's row norms (the head's by vocabulary chunk) are their own ops (prepareDoraNorms),
 * run once at the start of each sequence, before its first chunk (the adapter is fixed during one).
 */
import type { Engine } from '../../engine/context';
import type { BufferRef, PreparedOp } from '../../engine/kernels/common';
import { prepareAttentionDecode } from '../../engine/kernels/attention-decode';
import { prepareAdd } from '../../engine/kernels/elementwise';
import { prepareKvAppend } from '../../engine/kernels/kv-cache';
import { prepareMatmul } from '../../engine/kernels/matmul';
import { prepareShardedLinearForward } from '../../engine/kernels/matmul-weight';
import { prepareMatvecWeight, prepareShardedMatvecWeight } from '../../engine/kernels/matvec-weight';
import { prepareRmsnormForward } from '../../engine/kernels/rmsnorm';
import { prepareRopeForward, type RopeOp } from '../../engine/kernels/rope';
import { prepareSwigluForward } from '../../engine/kernels/swiglu';
import type { GpuWeight, ShardedWeight } from '../../engine/kernels/weights';
import type { ModelConfig } from '../../config/model-config';
import { prepareEmbeddingShards, type BaseWeights, type LayerLinear } from '../graph/base-weights';
import { layerArchitecture } from '../graph/layer-architecture';
import type { LoraLayout, LoraSlot } from '../plan/lora-layout';
import { flatView, type FlatVector } from '../graph/lora-state';
import { prepareDoraForward, prepareDoraNorm, type DoraBuffers } from '../graph/dora';
import { prepareHeadDoraNorm } from '../graph/head-dora';
import { prepareDoraColScale } from '../../engine/kernels/dora';
import type { DecoderBuffers, DecoderDims } from './buffers';

export interface TaggedOp {
  op: PreparedOp;
  /** Part of the LoRA branch: skipped when the decoder runs the base model alone. */
  lora: boolean;
}

export interface Trunk {
  /** rows per step */
  M: number;
  ops: TaggedOp[];
  /** Every RoPE op, to move to the step's position. */
  ropes: RopeOp[];
}

export interface DecoderContext {
  engine: Engine;
  model: ModelConfig;
  dims: DecoderDims;
  base: BaseWeights;
  buf: DecoderBuffers;
  /** The flat LoRA parameters on the GPU (in chunks), or null. */
  lora: { layout: LoraLayout; params: FlatVector } | null;
  /** DoRA modules' norms and scratch (../graph/dora.ts), by module path; absent without DoRA. */
  dora?: ReadonlyMap<string, DoraBuffers> | null;
}

const f32View = (buffer: GPUBuffer, elementOffset: number): BufferRef => ({ buffer, offset: 4 * elementOffset });

/** A (rows, cols) block of the flat LoRA vector seen as an f32 weight. */
function loraWeight(params: FlatVector, offset: number, rows: number, cols: number): GpuWeight {
  return { format: 'f32', rows, cols, words: flatView(params, offset, rows * cols) };
}

/** y (M, out) = x W^T (+ b) [+ scale (x A^T) B^T] */
async function projection(
  c: DecoderContext, ops: TaggedOp[], M: number, label: string, weight: ShardedWeight, bias: GPUBuffer | undefined,
  x: BufferRef, y: BufferRef, slot: LoraSlot | undefined,
): Promise<void> {
  const { engine, buf } = c;
  const base = M === 1
    ? await prepareShardedMatvecWeight(engine, { out: y, x, weight, bias, label })
    : await prepareShardedLinearForward(engine, { out: y, x, weight, bias, M, label });
  for (const op of base) ops.push({ op, lora: false });
  if (!slot || !c.lora) return;
  const { params } = c.lora;
  const { r, inFeatures: In, outFeatures: Out, scale } = slot;
  const dora = c.dora?.get(slot.path);
  if (dora) {
    // DoRA: h = x A^T, then y += (c - 1) x W^T + c s h B^T, as the training graph's forward (the
    // norms from prepareDoraNorms, run at the start of the sequence).
    ops.push({ op: await prepareMatmul(engine, { out: buf.loraH, a: x, b: flatView(params, slot.offsetA, r * In), M, N: r, K: In, transB: true, label: `${label} lora h` }), lora: true });
    for (const op of await prepareDoraForward({ engine, label, N: M, slot, params, weight, dora, src: x, y, h: buf.loraH, withNorm: false })) ops.push({ op, lora: true });
    return;
  }
  if (M === 1) {
    ops.push({ op: await prepareMatvecWeight(engine, { out: buf.loraH, x, weight: loraWeight(params, slot.offsetA, r, In), label: `${label} lora h` }), lora: true });
    ops.push({ op: await prepareMatvecWeight(engine, { out: y, x: buf.loraH, weight: loraWeight(params, slot.offsetB, Out, r), alpha: scale, accumulate: true, label: `${label} lora out` }), lora: true });
  } else {
    // h (M, r) = x A^T;  y += scale * h B^T
    ops.push({ op: await prepareMatmul(engine, { out: buf.loraH, a: x, b: flatView(params, slot.offsetA, r * In), M, N: r, K: In, transB: true, label: `${label} lora h` }), lora: true });
    ops.push({ op: await prepareMatmul(engine, { out: y, a: buf.loraH, b: flatView(params, slot.offsetB, Out * r), M, N: Out, K: r, transB: true, alpha: scale, accumulate: true, label: `${label} lora out` }), lora: true });
  }
}

export async function prepareTrunk(c: DecoderContext, M: number): Promise<Trunk> {
  const { engine, model, dims: d, base, buf } = c;
  const { C, H, KV, D, F, V, maxLen } = d;
  const ops: TaggedOp[] = [];
  const ropes: RopeOp[] = [];
  const push = (op: PreparedOp) => ops.push({ op, lora: false });
  const tag = M === 1 ? 'decode' : `prefill ${M}`;

  for (const op of await prepareEmbeddingShards(engine, base.embed, { out: buf.x, tokens: buf.tokens, N: M, C, V, scale: model.embedScale, label: `${tag} embedding` })) push(op);
  for (let l = 0; l < d.L; l++) {
    const w = base.layers[l];
    const p = `${tag} L${l}`;
    const arch = layerArchitecture(model, l);
    const slot = (m: LayerLinear) => c.lora?.layout.slots.find((s) => s.layer === l && s.module === m);
    const proj = (m: LayerLinear, x: GPUBuffer, y: GPUBuffer) => projection(c, ops, M, `${p} ${m}`, w.linears[m], w.bias[m as 'q_proj'], x, y, slot(m));
    const norm = async (out: GPUBuffer, rstd: GPUBuffer, inp: GPUBuffer, weight: GPUBuffer, rows: number, cols: number, what: string) =>
      push(await prepareRmsnormForward(engine, { out, rstd, inp, weight, N: rows, C: cols, eps: arch.eps, plusOne: arch.plusOne, label: `${p} ${what}` }));

    await norm(buf.xn, buf.rstd, buf.x, w.inputNorm, M, C, 'input norm');
    if (buf.qk) {
      await proj('q_proj', buf.xn, buf.qk.qp);
      await proj('k_proj', buf.xn, buf.qk.kp);
      await norm(buf.q, buf.qk.rstd, buf.qk.qp, w.qNorm!, M * H, D, 'q norm');
      await norm(buf.k, buf.qk.rstd, buf.qk.kp, w.kNorm!, M * KV, D, 'k norm');
    } else {
      await proj('q_proj', buf.xn, buf.q);
      await proj('k_proj', buf.xn, buf.k);
    }
    await proj('v_proj', buf.xn, buf.v);
    const tables = buf.ropes[buf.ropeOfLayer[l]];
    for (const [t, heads] of [[buf.q, H], [buf.k, KV]] as const) {
      const rope = await prepareRopeForward(engine, { out: t, tables, B: 1, T: M, H: heads, D, label: `${p} rope ${t === buf.q ? 'q' : 'k'}` });
      ropes.push(rope);
      push(rope);
    }
    push(await prepareKvAppend(engine, { step: buf.step, k: buf.k, v: buf.v, kCache: buf.kCache[l], vCache: buf.vCache[l], Tq: M, W: KV * D, maxLen, label: `${p} kv append` }));
    push(await prepareAttentionDecode(engine, {
      out: buf.att, step: buf.step, q: buf.q, kCache: buf.kCache[l], vCache: buf.vCache[l], Tq: M, H, KV, D, maxLen,
      scale: arch.attnScale, window: arch.window, softcap: arch.softcap, label: `${p} attention`,
    }));
    // Sandwich norms (Gemma): the block's output is normed before the residual add (xn is free here).
    await proj('o_proj', buf.att, buf.tmp);
    if (w.attnOutNorm) await norm(buf.xn, buf.rstd, buf.tmp, w.attnOutNorm, M, C, 'attention out norm');
    push(await prepareAdd(engine, { out: buf.x1, a: buf.x, b: w.attnOutNorm ? buf.xn : buf.tmp, n: M * C, label: `${p} residual 1` }));
    await norm(buf.xn, buf.rstd, buf.x1, w.mlpNorm, M, C, 'mlp norm');
    await proj('gate_proj', buf.xn, buf.g);
    await proj('up_proj', buf.xn, buf.u);
    push(await prepareSwigluForward(engine, { out: buf.a, gate: buf.g, up: buf.u, N: M, F, activation: arch.activation, label: `${p} gated ${arch.activation}` }));
    await proj('down_proj', buf.a, buf.tmp);
    if (w.mlpOutNorm) await norm(buf.xn, buf.rstd, buf.tmp, w.mlpOutNorm, M, C, 'mlp out norm');
    push(await prepareAdd(engine, { out: buf.x, a: buf.x1, b: w.mlpOutNorm ? buf.xn : buf.tmp, n: M * C, label: `${p} residual 2` }));
  }
  return { M, ops, ropes };
}

/** The head on one row (xLast): final norm, then the logits of each vocabulary chunk into logits (V). */
export async function prepareDecoderHead(c: DecoderContext): Promise<TaggedOp[]> {
  const { engine, model, dims: d, base, buf } = c;
  const C = d.C;
  const ops: TaggedOp[] = [];
  ops.push({ op: await prepareRmsnormForward(engine, { out: buf.xnLast, rstd: buf.rstdLast, inp: buf.xLast, weight: base.finalNorm, N: 1, C, eps: model.rmsNormEps, plusOne: model.normPlusOne === true, label: 'head final norm' }), lora: false });
  const slot = c.lora?.layout.slots.find((s) => s.module === 'lm_head');
  const params = c.lora?.params;
  if (slot && params && buf.headH) {
    ops.push({ op: await prepareMatvecWeight(engine, { out: buf.headH, x: buf.xnLast, weight: loraWeight(params, slot.offsetA, slot.r, C), label: 'lm_head lora h' }), lora: true });
  }
  let v0 = 0;
  for (const w of base.headChunks) {
    const range = `[${v0}:${v0 + w.rows}]`;
    const out = f32View(buf.logits, v0);
    ops.push({ op: await prepareMatvecWeight(engine, { out, x: buf.xnLast, weight: w, label: `lm_head ${range}` }), lora: false });
    const dora = slot && c.dora?.get(slot.path);
    if (slot && params && buf.headH && dora) {
      // DoRA (no dropout in generation): logits_c = (m / norm) (xn W_c^T + s h B_c^T), through the scratch t (w)
      const lora = (op: PreparedOp) => ops.push({ op, lora: true });
      lora(await prepareMatvecWeight(engine, { out: dora.t, x: buf.xnLast, weight: w, label: `lm_head dora base ${range}` }));
      lora(await prepareMatvecWeight(engine, {
        out: dora.t, x: buf.headH, weight: loraWeight(params, slot.offsetB + v0 * slot.r, w.rows, slot.r), alpha: slot.scale, accumulate: true, label: `lm_head dora lora ${range}`,
      }));
      lora(await prepareDoraColScale(engine, {
        out, inp: dora.t, m: flatView(params, slot.offsetM! + v0, w.rows), norm: f32View(dora.norm, v0), N: 1, Out: w.rows, delta: 0, accumulate: false, label: `lm_head dora scale ${range}`,
      }));
    } else if (slot && params && buf.headH) {
      ops.push({
        op: await prepareMatvecWeight(engine, {
          out, x: buf.headH, weight: loraWeight(params, slot.offsetB + v0 * slot.r, w.rows, slot.r), alpha: slot.scale, accumulate: true, label: `lm_head lora ${range}`,
        }),
        lora: true,
      });
    }
    v0 += w.rows;
  }
  return ops;
}

/**
 * DoRA: every module's row norms ||W + s B A||_row for the current adapter (the head's chunk by
 * chunk), tagged LoRA; run at the start of each sequence. Empty without DoRA.
 */
export async function prepareDoraNorms(c: DecoderContext): Promise<TaggedOp[]> {
  const ops: TaggedOp[] = [];
  if (!c.lora || !c.dora) return ops;
  const { engine, base } = c;
  const { params } = c.lora;
  for (const slot of c.lora.layout.slots) {
    const dora = c.dora.get(slot.path);
    if (!dora) continue;
    if (slot.module === 'lm_head') {
      let v0 = 0;
      for (const weight of base.headChunks) {
        for (const op of await prepareHeadDoraNorm({ engine, slot, params, dora, weight, v0, w: weight.rows, N: 1 })) ops.push({ op, lora: true });
        v0 += weight.rows;
      }
    } else {
      const weight = base.layers[slot.layer!].linears[slot.module as LayerLinear];
      for (const op of await prepareDoraNorm({ engine, label: `${slot.path} decoder`, N: 1, slot, params, weight, dora })) ops.push({ op, lora: true });
    }
  }
  return ops;
}
