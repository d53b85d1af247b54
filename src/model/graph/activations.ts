/**
 * Activation and workspace buffers of the training graph, allocated once per run.
 * Activations are what the backward needs from the forward (one set per layer); workspace is
 * scratch reused by every layer. N = B*T rows; shapes in the comments.
 * With activation checkpointing only each layer's input `x` is kept per layer: every other field
 * of every layer points at one shared set, which the backward refills by recomputing the layer.
 * With bf16 activations every layer works on one f32 set and keeps packed bf16 copies of what its
 * backward reads (./bf16-activations.ts).
 * The MLP's (N, F) buffers are cut into token-row chunks when (N, F) does not fit one binding
 * (dims.mlpChunks, ./mlp-chunks.ts): the activations g, u, a one buffer per chunk, the MLP's
 * workspace (and the LoRA dropout scratch) sized for one chunk, reused by every chunk.
 */
import type { Category } from '../../core/memory-categories';
import type { Engine } from '../../engine/context';
import { BufferUsage } from '../../engine/flags';
import { attentionWorkspaceBytes } from '../../engine/kernels/attention-forward';
import { bf16PackedBytes } from '../../engine/kernels/bf16-store';
import { MODULE_NAMES, type ModuleName } from '../../config/lora-targets';
import type { ActivationPrecision } from '../../config/run-config';
import type { LoraLayout } from '../plan/lora-layout';
import { fieldElements, fieldShape, fieldsReadByBackward, MLP_FIELDS, type Bf16Layer, type MlpField, type PackedActivations } from './bf16-activations';
import type { GraphDims } from './dims';
import { chunkRows, MLP_MODULES } from './mlp-chunks';

export interface LayerActivations {
  x: GPUBuffer; //     (N, C)     layer input (residual stream)
  xn1: GPUBuffer; //   (N, C)     input_layernorm(x)
  rstd1: GPUBuffer; // (N)
  q: GPUBuffer; //     (N, H*D)   after RoPE
  k: GPUBuffer; //     (N, KV*D)  after RoPE
  v: GPUBuffer; //     (N, KV*D)
  att: GPUBuffer; //   (N, H*D)   attention output, input of o_proj
  lse: GPUBuffer; //   (B, H, T)  attention logsumexp
  x1: GPUBuffer; //    (N, C)     x + o_proj(att)
  xn2: GPUBuffer; //   (N, C)     post_attention_layernorm(x1)
  rstd2: GPUBuffer; // (N)
  /** Per MLP token-row chunk k of dims.mlpChunks, (rows_k, F); one (N, F) buffer when the MLP is not split. */
  g: GPUBuffer[]; //   (N, F)     gate_proj(xn2)
  u: GPUBuffer[]; //   (N, F)     up_proj(xn2)
  a: GPUBuffer[]; //   (N, F)     act(g) * u, input of down_proj
  /** Per-head q/k norms (Qwen3, Gemma 3): the projections before their norm, and the norms' 1/rms. */
  qk?: {
    qp: GPUBuffer; //    (N, H*D)   q_proj(xn1)
    kp: GPUBuffer; //    (N, KV*D)  k_proj(xn1)
    rstdQ: GPUBuffer; // (N*H)
    rstdK: GPUBuffer; // (N*KV)
  };
  /** Sandwich norms (Gemma): the attention and MLP outputs before their norms, and the norms' 1/rms. */
  sandwich?: {
    o: GPUBuffer; //     (N, C)     o_proj(att)
    rstdO: GPUBuffer; // (N)
    m: GPUBuffer; //     (N, C)     down_proj(a)
    rstdM: GPUBuffer; // (N)
  };
  /** LoRA hidden h = dropout(x) A^T per adapted module, (N, r). */
  loraH: Partial<Record<ModuleName, GPUBuffer>>;
  /** bf16 activations only: the packed bf16 copies this layer keeps, (ceil(n / 2)) u32 each, and what it rounds (./bf16-activations.ts). */
  bf16?: Bf16Layer;
}

export interface Activations {
  tokens: GPUBuffer; //  (N) i32
  targets: GPUBuffer; // (N) i32, -100 = ignored
  layers: LayerActivations[];
  xOut: GPUBuffer; //   (N, C)  output of the last layer
  xnf: GPUBuffer; //    (N, C)  model.norm(xOut), the head's input
  rstdf: GPUBuffer; //  (N)
  headH: GPUBuffer | null; // (N, r_head) LoRA hidden of lm_head
  rowLse: GPUBuffer; // (N) logsumexp per row, for the head's backward
}

export interface Workspace {
  tmpC: GPUBuffer; //    (N, C)  o_proj / down_proj output before the residual add
  dres: GPUBuffer; //    (N, C)  gradient of the residual stream
  dxn: GPUBuffer; //     (N, C)  gradient of a norm's output
  datt: GPUBuffer; //    (N, H*D)
  dq: GPUBuffer; //      (N, H*D)
  dk: GPUBuffer; //      (N, KV*D)
  dv: GPUBuffer; //      (N, KV*D)
  dvec: GPUBuffer; //    (B, H, T)
  /** The MLP's gradients, (Nc, F) for Nc the most rows of an MLP chunk (N when the MLP is not split), reused by every chunk. */
  da: GPUBuffer; //      (Nc, F)
  dg: GPUBuffer; //      (Nc, F)
  du: GPUBuffer; //      (Nc, F)
  /** Gradients of q and k before their per-head norms (qkNorm): (N, H*D), (N, KV*D). */
  dqp: GPUBuffer | null;
  dkp: GPUBuffer | null;
  /** Gradient of an attention or MLP output before its sandwich norm (N, C). */
  dsub: GPUBuffer | null;
  /** Dropped-out LoRA input, and the gradient w.r.t. it: (N, max in), (Nc, in) for the MLP's modules. Only with dropout. */
  xd: GPUBuffer | null;
  dxd: GPUBuffer | null;
  /** Gradient w.r.t. a LoRA hidden: (N, max r). */
  dh: GPUBuffer;
  logits: GPUBuffer; //  (N, Vc) one chunk of the head's logits (then its dlogits)
  ceMax: GPUBuffer; //   (N) running state of the chunked cross-entropy
  ceSum: GPUBuffer; //   (N)
  ceTarget: GPUBuffer; // (N)
  rowLoss: GPUBuffer; // (N)
  ceStats: GPUBuffer; // (4) [mean loss, count, sum, 0]
}

const USAGE = BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC;

/** The architecture features that add buffers. */
export interface ActivationFeatures {
  qkNorm: boolean;
  sandwichNorms: boolean;
}

export async function createActivations(
  engine: Engine, d: GraphDims, layout: LoraLayout, dropout: boolean, checkpointing = false,
  features: ActivationFeatures = { qkNorm: false, sandwichNorms: false }, precision: ActivationPrecision = 'f32',
): Promise<{ act: Activations; ws: Workspace }> {
  const { N, C, H, KV, D, F, B, T } = d;
  const f32 = (category: Category, label: string, elements: number) =>
    engine.pool.alloc({ size: 4 * elements, usage: USAGE, category, label });
  const act = (label: string, elements: number) => f32('activations', label, elements);
  const ws = (label: string, elements: number) => f32('workspace', label, elements);
  const lseBytes = attentionWorkspaceBytes({ B, H, T });
  // The MLP's token-row chunks: one (N, F) buffer per field, or one (rows, F) per chunk.
  const split = d.mlpChunks.length > 1;
  const Nc = chunkRows(d.mlpChunks);
  const mlpField = async (p: string, name: string) => {
    if (!split) return [await act(`${p} ${name} (N, F)`, N * F)];
    const out: GPUBuffer[] = [];
    for (const [n0, rows] of d.mlpChunks) out.push(await act(`${p} ${name} rows [${n0}:${n0 + rows}] (${rows}, F)`, rows * F));
    return out;
  };

  /** Everything of one layer but its input; `rank` is the LoRA rank of a module (0: not adapted). */
  const layerSet = async (p: string, rank: (m: ModuleName) => number): Promise<Omit<LayerActivations, 'x'>> => {
    const set: Omit<LayerActivations, 'x'> = {
      xn1: await act(`${p} xn1 (N, C)`, N * C),
      rstd1: await act(`${p} rstd1 (N)`, N),
      q: await act(`${p} q (N, H*D)`, N * H * D),
      k: await act(`${p} k (N, KV*D)`, N * KV * D),
      v: await act(`${p} v (N, KV*D)`, N * KV * D),
      att: await act(`${p} att (N, H*D)`, N * H * D),
      lse: await act(`${p} attention lse (B, H, T)`, lseBytes.lse / 4),
      x1: await act(`${p} x1 (N, C)`, N * C),
      xn2: await act(`${p} xn2 (N, C)`, N * C),
      rstd2: await act(`${p} rstd2 (N)`, N),
      g: await mlpField(p, 'gate'),
      u: await mlpField(p, 'up'),
      a: await mlpField(p, 'gated'),
      loraH: {},
    };
    if (features.qkNorm) {
      set.qk = {
        qp: await act(`${p} q before norm (N, H*D)`, N * H * D),
        kp: await act(`${p} k before norm (N, KV*D)`, N * KV * D),
        rstdQ: await act(`${p} q norm rstd (N*H)`, N * H),
        rstdK: await act(`${p} k norm rstd (N*KV)`, N * KV),
      };
    }
    if (features.sandwichNorms) {
      set.sandwich = {
        o: await act(`${p} attention out before norm (N, C)`, N * C),
        rstdO: await act(`${p} attention out rstd (N)`, N),
        m: await act(`${p} mlp out before norm (N, C)`, N * C),
        rstdM: await act(`${p} mlp out rstd (N)`, N),
      };
    }
    for (const m of MODULE_NAMES) {
      const r = rank(m);
      if (r > 0) set.loraH[m] = await act(`${p} ${m} lora h (N, ${r})`, N * r);
    }
    return set;
  };

  /** A layer's own statistics and LoRA hiddens (as layerSet names them), its other fields those of `working`. */
  const layerStats = async (p: string, rank: (m: ModuleName) => number, working: Omit<LayerActivations, 'x'>): Promise<Omit<LayerActivations, 'x'>> => {
    const set: Omit<LayerActivations, 'x'> = {
      ...working,
      rstd1: await act(`${p} rstd1 (N)`, N),
      lse: await act(`${p} attention lse (B, H, T)`, lseBytes.lse / 4),
      rstd2: await act(`${p} rstd2 (N)`, N),
      loraH: {},
    };
    if (working.qk) set.qk = { ...working.qk, rstdQ: await act(`${p} q norm rstd (N*H)`, N * H), rstdK: await act(`${p} k norm rstd (N*KV)`, N * KV) };
    if (working.sandwich) set.sandwich = { ...working.sandwich, rstdO: await act(`${p} attention out rstd (N)`, N), rstdM: await act(`${p} mlp out rstd (N)`, N) };
    for (const m of MODULE_NAMES) {
      const r = rank(m);
      if (r > 0) set.loraH[m] = await act(`${p} ${m} lora h (N, ${r})`, N * r);
    }
    return set;
  };
  const rankAt = (l: number) => (m: ModuleName) => layout.slots.find((s) => s.layer === l && s.module === m)?.r ?? 0;
  // LoRA hidden per module at the largest rank any layer gives it (rank_pattern may differ by layer).
  const maxRank = (m: ModuleName) => Math.max(0, ...layout.slots.filter((s) => s.layer !== null && s.module === m).map((s) => s.r));

  /**
   * bf16: one f32 working set for every layer (the last layer's, or the recomputed one), per layer
   * its own statistics and LoRA hiddens (without checkpointing) and packed copies of what its
   * backward reads (only x with checkpointing; nothing for the last layer, whose backward reads the
   * working set, rounded). Returns the output of the last layer (N, C), f32.
   */
  const bf16Layers = async (layers: LayerActivations[]): Promise<GPUBuffer> => {
    const x = await act('working x (N, C)', N * C);
    const working = checkpointing ? await layerSet('recomputed layer', maxRank) : await layerSet(`layer ${d.L - 1}`, rankAt(d.L - 1));
    for (let l = 0; l < d.L; l++) {
      const last = l === d.L - 1;
      const own = checkpointing || last ? working : await layerStats(`layer ${l}`, rankAt(l), working);
      const read = fieldsReadByBackward(l, (m) => rankAt(l)(m) > 0, features);
      const stored = last ? [] : checkpointing ? ['x' as const] : read;
      const packed: PackedActivations = {};
      const packedRows: Partial<Record<MlpField, GPUBuffer[]>> = {};
      const alloc = (elements: number, label: string) =>
        engine.pool.alloc({ size: bf16PackedBytes(elements), usage: USAGE, category: 'activations', label: `layer ${l} ${label}` });
      for (const f of stored) {
        if (split && (MLP_FIELDS as readonly string[]).includes(f)) {
          const rows: GPUBuffer[] = (packedRows[f as MlpField] = []);
          for (const [n0, n] of d.mlpChunks) rows.push(await alloc(n * F, `${f} rows [${n0}:${n0 + n}] bf16 (${n}, F)`));
        } else {
          packed[f] = await alloc(fieldElements(d, f), `${f} bf16 ${fieldShape(f)}`);
        }
      }
      const stores = (f: (typeof read)[number]) => !!packed[f] || !!packedRows[f as MlpField];
      layers.push({ x, ...own, bf16: { packed, ...(split ? { packedRows } : {}), rounded: read.filter((f) => !stores(f)) } });
    }
    return act(`layer ${d.L} x (N, C)`, N * C);
  };

  const tokens = await act('tokens (N)', N);
  const targets = await act('targets (N)', N);
  const layers: LayerActivations[] = [];
  let x: GPUBuffer;
  if (precision === 'bf16') {
    x = await bf16Layers(layers);
  } else {
    x = await act('layer 0 x (N, C)', N * C);
    let shared: Omit<LayerActivations, 'x'> | null = null;
    for (let l = 0; l < d.L; l++) {
      if (checkpointing) {
        shared ??= await layerSet('recomputed layer', maxRank);
        layers.push({ x, ...shared });
      } else {
        layers.push({ x, ...await layerSet(`layer ${l}`, rankAt(l)) });
      }
      x = await act(`layer ${l + 1} x (N, C)`, N * C);
    }
  }
  const head = layout.slots.find((s) => s.module === 'lm_head');
  const activations: Activations = {
    tokens, targets, layers, xOut: x,
    xnf: await act('final norm (N, C)', N * C),
    rstdf: await act('final rstd (N)', N),
    headH: head ? await act(`lm_head lora h (N, ${head.r})`, N * head.r) : null,
    rowLse: await act('head logsumexp (N)', N),
  };

  const maxIn = Math.max(0, ...layout.slots.map((s) => s.inFeatures));
  // The dropout scratch: (N, in) for a module on all rows, (Nc, in) for one inside the MLP's chunks.
  const rowsOf = (m: ModuleName) => (MLP_MODULES.includes(m) ? Nc : N);
  const dropElements = Math.max(0, ...layout.slots.map((s) => rowsOf(s.module) * s.inFeatures));
  const dropShape = split ? `(${dropElements}): (N, in) or (${Nc}, in) in the MLP` : `(N, ${maxIn})`;
  const maxR = Math.max(1, ...layout.slots.map((s) => s.r));
  const workspace: Workspace = {
    tmpC: await ws('tmp (N, C)', N * C),
    dres: await ws('d residual (N, C)', N * C),
    dxn: await ws('d norm out (N, C)', N * C),
    datt: await ws('d att (N, H*D)', N * H * D),
    dq: await ws('dq (N, H*D)', N * H * D),
    dk: await ws('dk (N, KV*D)', N * KV * D),
    dv: await ws('dv (N, KV*D)', N * KV * D),
    dvec: await ws('attention dvec (B, H, T)', lseBytes.dvec / 4),
    da: await ws(split ? `d swiglu (${Nc}, F)` : 'd swiglu (N, F)', Nc * F),
    dg: await ws(split ? `d gate (${Nc}, F)` : 'd gate (N, F)', Nc * F),
    du: await ws(split ? `d up (${Nc}, F)` : 'd up (N, F)', Nc * F),
    dqp: features.qkNorm ? await ws('dq before norm (N, H*D)', N * H * D) : null,
    dkp: features.qkNorm ? await ws('dk before norm (N, KV*D)', N * KV * D) : null,
    dsub: features.sandwichNorms ? await ws('d output before sandwich norm (N, C)', N * C) : null,
    xd: dropout && maxIn ? await ws(`lora dropped input ${dropShape}`, dropElements) : null,
    dxd: dropout && maxIn ? await ws(`d lora dropped input ${dropShape}`, dropElements) : null,
    dh: await ws(`d lora h (N, ${maxR})`, N * maxR),
    logits: await ws(`logits chunk (N, ${d.Vc})`, N * d.Vc),
    ceMax: await ws('ce max (N)', N),
    ceSum: await ws('ce sumexp (N)', N),
    ceTarget: await ws('ce target logit (N)', N),
    rowLoss: await ws('ce loss per row (N)', N),
    ceStats: await ws('ce stats (4)', 4),
  };
  return { act: activations, ws: workspace };
}
