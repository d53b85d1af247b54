/**
 * Every buffer a decoder uses, allocated once per decoder through the pool. The trunk buffers hold
 * one prefill chunk of Tc rows; a decode step uses their first row (no second set). One set serves
 * every layer (nothing is kept for a backward), with x and x1 as the two halves of the residual
 * stream. Each layer has its own KV cache of maxLen rows.
 */
import type { Category } from '../../core/memory-categories';
import type { Engine } from '../../engine/context';
import { BufferUsage } from '../../engine/flags';
import { allocDecodeStep } from '../../engine/kernels/kv-cache';
import { uploadRopeTables, type RopeTables } from '../../engine/kernels/rope';
import type { ModelConfig } from '../../config/model-config';
import { ropeSpecsByLayer } from '../../config/architecture-features';
import type { LoraLayout } from '../plan/lora-layout';

export interface DecoderDims {
  /** rows of a prefill chunk */
  Tc: number;
  maxLen: number;
  C: number;
  H: number;
  KV: number;
  D: number;
  F: number;
  V: number;
  L: number;
}

export interface DecoderBuffers {
  tokens: GPUBuffer; //  (Tc) i32
  x: GPUBuffer; //       (Tc, C)  residual stream: layer input and output
  x1: GPUBuffer; //      (Tc, C)  after the attention block
  xn: GPUBuffer; //      (Tc, C)  a norm's output
  rstd: GPUBuffer; //    (Tc)
  q: GPUBuffer; //       (Tc, H*D)
  k: GPUBuffer; //       (Tc, KV*D)
  v: GPUBuffer; //       (Tc, KV*D)
  att: GPUBuffer; //     (Tc, H*D)
  tmp: GPUBuffer; //     (Tc, C)  o_proj / down_proj output before the residual add
  g: GPUBuffer; //       (Tc, F)
  u: GPUBuffer; //       (Tc, F)
  a: GPUBuffer; //       (Tc, F)
  loraH: GPUBuffer; //   (Tc, max r) LoRA hidden, consumed right after it is made
  kCache: GPUBuffer[]; // per layer (maxLen, KV*D), after RoPE
  vCache: GPUBuffer[]; // per layer (maxLen, KV*D)
  step: GPUBuffer; //    (4) u32 [pos0, rows]
  xLast: GPUBuffer; //   (C)  the last row of the step: the head's input
  xnLast: GPUBuffer; //  (C)
  rstdLast: GPUBuffer; // (1)
  headH: GPUBuffer | null; // (r_head)
  logits: GPUBuffer; //  (V)
  staging: GPUBuffer; // (V) MAP_READ: the one readback per step
  /** One RoPE table per distinct spec, (maxLen + Tc, D/2) each: padding rows of the last chunk run past maxLen. */
  ropes: RopeTables[];
  /** Which of `ropes` layer l uses (Gemma 3's local layers have their own base). */
  ropeOfLayer: number[];
  /** q and k before their per-head norms (qkNorm): (Tc, H*D), (Tc, KV*D); their rstd (Tc*H). */
  qk: { qp: GPUBuffer; kp: GPUBuffer; rstd: GPUBuffer } | null;
}

const USAGE = BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC;

export function decoderDims(model: ModelConfig, maxLen: number, Tc: number): DecoderDims {
  return {
    Tc, maxLen, C: model.hiddenSize, H: model.numHeads, KV: model.numKvHeads, D: model.headDim,
    F: model.intermediateSize, V: model.vocabSize, L: model.numLayers,
  };
}

export async function createDecoderBuffers(engine: Engine, model: ModelConfig, d: DecoderDims, layout: LoraLayout | null): Promise<DecoderBuffers> {
  const { Tc, maxLen, C, H, KV, D, F, V, L } = d;
  const f32 = (category: Category, label: string, elements: number) => engine.pool.alloc({ size: 4 * elements, usage: USAGE, category, label });
  const act = (label: string, elements: number) => f32('activations', `decoder ${label}`, elements);
  const ws = (label: string, elements: number) => f32('workspace', `decoder ${label}`, elements);
  const maxR = Math.max(1, ...(layout?.slots.filter((s) => s.module !== 'lm_head').map((s) => s.r) ?? []));
  const head = layout?.slots.find((s) => s.module === 'lm_head');

  const ropes = ropeSpecsByLayer(model);
  const kCache: GPUBuffer[] = [];
  const vCache: GPUBuffer[] = [];
  for (let l = 0; l < L; l++) {
    kCache.push(await act(`layer ${l} k cache (${maxLen}, ${KV * D})`, maxLen * KV * D));
    vCache.push(await act(`layer ${l} v cache (${maxLen}, ${KV * D})`, maxLen * KV * D));
  }
  return {
    tokens: await act(`tokens (${Tc})`, Tc),
    x: await act(`x (${Tc}, ${C})`, Tc * C),
    x1: await act(`x1 (${Tc}, ${C})`, Tc * C),
    xn: await act(`xn (${Tc}, ${C})`, Tc * C),
    rstd: await act(`rstd (${Tc})`, Tc),
    q: await act(`q (${Tc}, ${H * D})`, Tc * H * D),
    k: await act(`k (${Tc}, ${KV * D})`, Tc * KV * D),
    v: await act(`v (${Tc}, ${KV * D})`, Tc * KV * D),
    att: await act(`att (${Tc}, ${H * D})`, Tc * H * D),
    tmp: await ws(`tmp (${Tc}, ${C})`, Tc * C),
    g: await act(`gate (${Tc}, ${F})`, Tc * F),
    u: await act(`up (${Tc}, ${F})`, Tc * F),
    a: await act(`gated (${Tc}, ${F})`, Tc * F),
    loraH: await ws(`lora h (${Tc}, ${maxR})`, Tc * maxR),
    kCache,
    vCache,
    step: await allocDecodeStep(engine, 'decoder step (pos0, rows)'),
    xLast: await act(`last row (${C})`, C),
    xnLast: await act(`last row normed (${C})`, C),
    rstdLast: await act('last row rstd (1)', 1),
    headH: head ? await ws(`lm_head lora h (${head.r})`, head.r) : null,
    logits: await act(`logits (${V})`, V),
    staging: await engine.pool.alloc({ size: 4 * V, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST, category: 'workspace', label: `decoder logits readback (${V})` }),
    ropes: await Promise.all(ropes.specs.map((s) => uploadRopeTables(engine, maxLen + Tc, D, s, 'workspace'))),
    ropeOfLayer: ropes.ofLayer,
    qk: model.qkNorm ? {
      qp: await act(`q before norm (${Tc}, ${H * D})`, Tc * H * D),
      kp: await act(`k before norm (${Tc}, ${KV * D})`, Tc * KV * D),
      rstd: await act(`q/k norm rstd (${Tc * H})`, Tc * H),
    } : null,
  };
}

/** Every pool buffer of a decoder, for destroy(). */
export function decoderBufferList(b: DecoderBuffers): GPUBuffer[] {
  const { kCache, vCache, ropes, ropeOfLayer: _, headH, qk, ...rest } = b;
  return [...Object.values(rest), ...kCache, ...vCache, ...ropes.flatMap((r) => [r.cos, r.sin]), ...(headH ? [headH] : []), ...(qk ? [qk.qp, qk.kp, qk.rstd] : [])];
}
