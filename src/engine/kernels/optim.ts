/**
 * AdamW, SGD, Lion and Sophia over one flat parameter buffer (shaders/optim.wgsl), exactly
 * torch.optim.AdamW / torch.optim.SGD as `src/reference/optim.ts` writes them, Lion as
 * `src/reference/lion.ts` and SophiaG as `src/reference/sophia.ts`, on the gradient
 *   g = grad * gradScale * clipCoef            clipCoef = stats[2] of the grad-norm kernel
 * A step whose stats say non-finite (stats[3]) leaves everything unchanged (the trainer stops).
 *
 * The hyper-parameters live in the op's uniform and are rewritten each step with `setStep(step, hp)`
 * (a queue.writeBuffer, not a readback): the schedule's learning rate and the bias corrections of
 * step t are computed on the CPU in float64. Gradients are not zeroed here (the graph clears them).
 */
import shader from '../../../shaders/optim.wgsl?raw';
import type { Engine } from '../context';
import { layoutSpec, type BindingKind } from '../pipelines';
import type { AdamWParams, SgdParams } from '../../reference/optim';
import type { LionParams } from '../../reference/lion';
import type { SophiaParams } from '../../reference/sophia';
import {
  checkDims, checkNoAlias, flatGrid, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp,
} from './common';
import { GRAD_STATS_BYTES } from './grad-norm';

export type { AdamWParams, SgdParams, LionParams, SophiaParams };
export const OPTIM_WG = 256;

interface CommonArgs {
  /** (P) updated in place */
  param: BufferRef;
  /** (P) read */
  grad: BufferRef;
  /** P, the number of parameters. */
  n: number;
  /** (8) the grad-norm stats (clip coefficient, non-finite flag); null: coefficient 1, never skip. */
  stats: BufferRef | null;
  /** Gradient multiplier, e.g. 1 / accumulation steps (default 1); give grad-norm the same. */
  gradScale?: number;
  label?: string;
}

export interface AdamWArgs extends CommonArgs {
  /** (P) first moment, zero before step 1 */
  m: BufferRef;
  /** (P) second moment, zero before step 1 */
  v: BufferRef;
}

export interface SgdArgs extends CommonArgs {
  /** (P) momentum buffer; required when momentum != 0 (its contents before step 1 do not matter). */
  momentumBuffer: BufferRef | null;
}

export interface LionArgs extends CommonArgs {
  /** (P) momentum, zero before step 1 */
  m: BufferRef;
}

export interface SophiaArgs extends CommonArgs {
  /** (P) EMA of gradients, zero before step 1 */
  m: BufferRef;
  /** (P) EMA of the Hessian estimates (B g_hat^2), zero until the first estimate; read here */
  h: BufferRef;
}

export interface PreparedOptimizer<H> extends PreparedOp {
  /** Write the hyper-parameters of step `step` (1-based, as torch counts) for the next submit. */
  setStep(step: number, hp: H): void;
}

const STATE_NAMES = { adamw: ['m', 'v'], sgd: [], sgd_momentum: ['momentumBuffer'], lion: ['m'], sophia: ['m', 'h'] } as const;

function checkStep(label: string, step: number): void {
  if (!Number.isSafeInteger(step) || step < 1) throw new RangeError(`${label}: step is 1-based, got ${step}`);
}

/** The uniform block (field order of OptimParams in optim.wgsl). */
function block(n: number, groupsX: number, useStats: boolean, gradScale: number, f: Partial<Record<string, number>>): ArrayBuffer {
  const v = (k: string) => f[k] ?? 0;
  return uniformBlock([
    ['u', n], ['u', groupsX], ['u', useStats ? 1 : 0], ['f', v('lr')],
    ['f', v('decay')], ['f', v('beta1')], ['f', v('oneMinusBeta1')], ['f', v('beta2')],
    ['f', v('oneMinusBeta2')], ['f', v('stepSize')], ['f', v('bias2Sqrt')], ['f', v('eps')],
    ['f', v('momentum')], ['f', v('oneMinusDampening')], ['u', v('nesterov')], ['u', v('firstStep')],
    ['f', gradScale], ['f', v('rho')],
  ]);
}

async function prepare<H>(
  engine: Engine, kind: 'adamw' | 'sgd' | 'sgd_momentum' | 'lion' | 'sophia', args: CommonArgs, state: BufferRef[],
  fields: (step: number, hp: H) => Partial<Record<string, number>>,
): Promise<PreparedOptimizer<H>> {
  const { n } = args;
  const label = args.label ?? `${kind} n=${n}`;
  checkDims(label, { n });
  const gradScale = args.gradScale ?? 1;
  if (!Number.isFinite(gradScale)) throw new RangeError(`${label}: gradScale must be finite, got ${gradScale}`);
  const statsRef = args.stats ?? (await engine.placeholder());
  const shape = `(P) = (${n})`;
  const [param, grad, stats, ...rest] = resolveBindings(engine, label, [
    { name: 'param', ref: args.param, bytes: 4 * n, shape },
    { name: 'grad', ref: args.grad, bytes: 4 * n, shape },
    { name: 'stats', ref: statsRef, bytes: args.stats ? GRAD_STATS_BYTES : 16, shape: '(8)' },
    ...state.map((ref, i) => ({ name: STATE_NAMES[kind][i], ref, bytes: 4 * n, shape })),
  ]);
  const written = [param, ...rest];
  for (let i = 0; i < written.length; i++) {
    checkNoAlias(label, written[i], [grad, stats, ...written.filter((_, k) => k !== i)]);
  }
  const kinds: BindingKind[] = ['uniform', 'rw', 'read', 'read', ...state.map((): BindingKind => 'rw')];
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'optim', code: shader, entryPoint: kind, layout: layoutSpec(kinds),
  });
  const workgroups = flatGrid(engine, Math.ceil(n / OPTIM_WG));
  const uniform = (f: Partial<Record<string, number>>) => block(n, workgroups[0], args.stats !== null, gradScale, f);
  const op = await makeOp(engine, {
    label, pipeline, layout: bindGroupLayout, workgroups,
    uniform: uniform({}),
    resources: [param, grad, stats, ...rest],
  });
  let ready = false; // the zero uniform would wipe the parameters: setStep must come first
  return {
    ...op,
    encode(pass) {
      if (!ready) throw new Error(`${label}: call setStep(step, hp) before encoding the first step`);
      op.encode(pass);
    },
    setStep(step, hp) {
      checkStep(label, step);
      op.writeUniform(uniform(fields(step, hp)));
      ready = true;
    },
  };
}

/** AdamW over (P) parameters with moments m, v (P); call `setStep(t, hp)` before each step's submit. */
export async function prepareAdamW(engine: Engine, args: AdamWArgs): Promise<PreparedOptimizer<AdamWParams>> {
  return prepare<AdamWParams>(engine, 'adamw', args, [args.m, args.v], (step, hp) => ({
    lr: hp.lr,
    decay: 1 - hp.lr * hp.weightDecay,
    beta1: hp.beta1,
    oneMinusBeta1: 1 - hp.beta1,
    beta2: hp.beta2,
    oneMinusBeta2: 1 - hp.beta2,
    stepSize: hp.lr / (1 - Math.pow(hp.beta1, step)),
    bias2Sqrt: Math.sqrt(1 - Math.pow(hp.beta2, step)),
    eps: hp.eps,
  }));
}

/**
 * SGD over (P) parameters; with momentum != 0 a momentum buffer (P) is required, and step 1 sets it
 * to the gradient (torch). `hp` fixes the entry point (momentum or not) and is checked, not written:
 * call `setStep(t, hp)` before each step's submit.
 */
export async function prepareSgd(engine: Engine, args: SgdArgs, hp: SgdParams): Promise<PreparedOptimizer<SgdParams>> {
  const label = args.label ?? `sgd n=${args.n}`;
  const withMomentum = hp.momentum !== 0;
  if (withMomentum && !args.momentumBuffer) throw new RangeError(`${label}: momentum ${hp.momentum} needs a momentum buffer`);
  if (hp.nesterov && (!withMomentum || hp.dampening !== 0)) {
    throw new RangeError(`${label}: Nesterov momentum requires a momentum and zero dampening (torch)`);
  }
  const state = withMomentum ? [args.momentumBuffer!] : [];
  return prepare<SgdParams>(engine, withMomentum ? 'sgd_momentum' : 'sgd', args, state, (step, h) => {
    if ((h.momentum !== 0) !== withMomentum) throw new RangeError(`${label}: momentum cannot switch between 0 and non-zero after prepare`);
    return {
      lr: h.lr,
      decay: h.weightDecay,
      momentum: h.momentum,
      oneMinusDampening: 1 - h.dampening,
      nesterov: h.nesterov ? 1 : 0,
      firstStep: step === 1 ? 1 : 0,
    };
  });
}

/** Lion over (P) parameters with its one state m (P); call `setStep(t, hp)` before each step's submit. */
export async function prepareLion(engine: Engine, args: LionArgs): Promise<PreparedOptimizer<LionParams>> {
  return prepare<LionParams>(engine, 'lion', args, [args.m], (_step, hp) => ({
    lr: hp.lr,
    decay: 1 - hp.lr * hp.weightDecay,
    beta1: hp.beta1,
    oneMinusBeta1: 1 - hp.beta1,
    beta2: hp.beta2,
    oneMinusBeta2: 1 - hp.beta2,
  }));
}

/**
 * SophiaG's step over (P) parameters with m and h (P); h changes only through
 * `prepareSophiaHessian`. Call `setStep(t, hp)` before each step's submit.
 */
export async function prepareSophia(engine: Engine, args: SophiaArgs): Promise<PreparedOptimizer<SophiaParams>> {
  return prepare<SophiaParams>(engine, 'sophia', args, [args.m, args.h], (_step, hp) => ({
    lr: hp.lr,
    decay: 1 - hp.lr * hp.weightDecay,
    beta1: hp.beta1,
    oneMinusBeta1: 1 - hp.beta1,
    rho: hp.rho,
  }));
}

export interface SophiaHessianArgs {
  /** (P) the Hessian EMA, updated in place */
  h: BufferRef;
  /** (P) the gradient of the sampled-label loss, read as it is */
  grad: BufferRef;
  /** (4) f32 stats of the cross-entropy finalize: [1] is B, the rows the loss averaged */
  ceStats: BufferRef;
  n: number;
  /** the EMA's decay (Sophia's beta2) */
  beta2: number;
  label?: string;
}

/** h = beta2 h + (1 - beta2) B g_hat^2 over (P), B read from the cross-entropy stats on the GPU (no readback). */
export async function prepareSophiaHessian(engine: Engine, a: SophiaHessianArgs): Promise<PreparedOp> {
  const { n } = a;
  const label = a.label ?? `sophia hessian n=${n}`;
  checkDims(label, { n });
  if (!(a.beta2 >= 0 && a.beta2 < 1)) throw new RangeError(`${label}: beta2 must be in [0, 1), got ${a.beta2}`);
  const shape = `(P) = (${n})`;
  const [h, grad, stats] = resolveBindings(engine, label, [
    { name: 'h', ref: a.h, bytes: 4 * n, shape },
    { name: 'grad', ref: a.grad, bytes: 4 * n, shape },
    { name: 'ceStats', ref: a.ceStats, bytes: 16, shape: '(4)' },
  ]);
  checkNoAlias(label, h, [grad, stats]);
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'optim', code: shader, entryPoint: 'sophia_hessian', layout: layoutSpec(['uniform', 'rw', 'read', 'read']),
  });
  const workgroups = flatGrid(engine, Math.ceil(n / OPTIM_WG));
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout, workgroups,
    uniform: block(n, workgroups[0], false, 1, { beta2: a.beta2, oneMinusBeta2: 1 - a.beta2 }),
    resources: [h, grad, stats],
  });
}
