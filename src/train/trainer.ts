/**
 * The training loop over a prepared graph: micro-batches with gradient accumulation, the
 * learning-rate schedule, validation every N steps and at each epoch's end, and metrics read back
 * once per logging interval (never per kernel). Stops on a non-finite loss or gradient, naming the
 * step, and early when the validation loss stops improving (./early-stopping.ts).
 *
 * The metrics read of a logged step is waited for only after the next step is submitted, so the
 * GPU never idles through the map round trip (one step of lag in what is reported). Where the
 * state itself is needed (validation, the last step, a checkpoint through `at.flush`), the loop
 * reads without lag.
 */
import type { MicroBatch } from '../config/micro-batch';
import { epochBatches, type TokenizedExample } from '../data/batching';
import type { LedgerSnapshot } from '../engine/pool';
import type { TrainGraph } from '../model/graph/train-graph';
import { dataPosition } from './checkpoint';
import { EarlyStopping, type BestEvaluation, type EarlyStoppingState } from './early-stopping';
import { learningRateAt } from './schedule';
import { evaluate, readStepMetrics, releaseStepReadback, submitMicroBatch, submitOptimizerStep, type StepMetrics } from './step';

/** What the trainer reports at each logged step (the dashboard's and metrics.jsonl's rows). */
export interface StepEvent {
  step: number; // 1-based optimizer step
  totalSteps: number;
  epoch: number; // fractional epochs done
  loss: number;
  lr: number;
  gradNorm: number;
  clipCoef: number;
  /** Tokens processed per second since the last logged step: every input token of the steps (padding excluded). */
  tokensPerSecond: number;
  /** The same for the tokens that count in the loss (the targets). */
  lossTokensPerSecond: number;
  /** Wall time since the run started, ms. */
  elapsedMs: number;
  evalLoss?: number;
  memory: LedgerSnapshot;
}

export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
  constructor(readonly step: number, what: string) {
    super(`training stopped at step ${step}: the ${what} is NaN or infinite (try a lower learning rate or gradient clipping)`);
  }
}

export interface TrainOptions {
  train: readonly TokenizedExample[];
  validation?: readonly TokenizedExample[];
  /** Token id used to pad rows (never a target). */
  padId: number;
  onStep?: (e: StepEvent) => void;
  /**
   * The validation loss of the starting weights (the base model, or the adapter a run continues),
   * measured before the first step of a run that starts at step 0 and has validation examples and
   * `evalEvery` > 0: every validation curve starts from it.
   */
  onBaseEval?: (evalLoss: number) => void | Promise<void>;
  /** Checked between steps. */
  signal?: AbortSignal;
  /**
   * Awaited before each optimizer step (0-based): the studio's pause holds here, with the GPU state
   * kept, and checkpoints are taken here (never mid-step). `at.flush()` reads back and reports
   * every step before this one (a checkpoint then has the whole curve up to it); it throws
   * NonFiniteError if one of them was NaN. `at.earlyStopping` is early stopping's state after the
   * steps before this one (null without early stopping), for a checkpoint to keep.
   */
  beforeStep?: (step: number, at: { flush(): Promise<void>; earlyStopping: EarlyStoppingState | null }) => Promise<void> | void;
  /**
   * Resume: the optimizer steps already done. The graph must hold the LoRA parameters and
   * optimizer state after them (`restoreTrainState`); the data order, learning-rate schedule,
   * dropout streams and AdamW step count continue from there, so the same seed on the same device
   * gives the same curve as a run that was never interrupted.
   */
  startStep?: number;
  /** Resume with early stopping: its state at the checkpoint; the best parameters must be in g.lora.best (`restoreTrainState`). */
  earlyStopping?: EarlyStoppingState;
  /**
   * Early stopping (run.earlyStoppingPatience > 0): told of each new best evaluation, whose
   * parameters are then in `g.lora.best` (export them with `adapterFromGraph(g, name, g.lora.best)`).
   */
  onBest?: (best: BestEvaluation) => void;
  /** Early stopping ended the run after `step`: `patience` evaluations in a row did not improve on `best`. */
  onEarlyStop?: (e: { step: number; best: BestEvaluation | null; patience: number }) => void;
}

/** Optimizer steps of a run: maxSteps, or epochs over the micro-batches divided by accumulation. */
export function totalSteps(g: Pick<TrainGraph, 'run'>, examples: number): number {
  const { run } = g;
  if (run.maxSteps) return run.maxSteps;
  const microPerEpoch = Math.ceil(examples / run.microBatch);
  return Math.max(1, Math.ceil((run.epochs * microPerEpoch) / run.gradAccumulation));
}

export async function train(g: TrainGraph, opts: TrainOptions): Promise<StepEvent[]> {
  try {
    return await trainSteps(g, opts);
  } finally {
    releaseStepReadback(g); // the metrics staging buffer goes with the run, ended, failed or stopped
  }
}

async function trainSteps(g: TrainGraph, opts: TrainOptions): Promise<StepEvent[]> {
  const { run, dims } = g;
  const steps = totalSteps(g, opts.train.length);
  const validation = opts.validation?.length ? epochBatches(opts.validation, dims.B, dims.T, opts.padId, run.seed, 0) : [];
  const startStep = opts.startStep ?? 0;
  if (!Number.isInteger(startStep) || startStep < 0 || startStep > steps) throw new RangeError(`startStep ${startStep} is outside the run's 0..${steps} steps`);
  const at = dataPosition(startStep, run, opts.train.length);
  let epoch = at.epoch;
  let queue: MicroBatch[] = at.microBatch > 0 ? epochBatches(opts.train, dims.B, dims.T, opts.padId, run.seed, epoch++).slice(at.microBatch) : [];
  let consumed = startStep * run.gradAccumulation;
  const next = (): MicroBatch => {
    if (queue.length === 0) queue = epochBatches(opts.train, dims.B, dims.T, opts.padId, run.seed, epoch++);
    consumed++;
    return queue.shift()!;
  };
  const microPerEpoch = Math.ceil(opts.train.length / dims.B);
  const stopping = run.earlyStoppingPatience > 0 && validation.length > 0 && run.evalEvery > 0 ? new EarlyStopping(g, opts.earlyStopping) : null;

  const events: StepEvent[] = [];
  const started = performance.now();
  let lastLogTime = started;
  let tokensSinceLog = 0;
  let lossTokensSinceLog = 0;
  let lastLogged = startStep - 1;
  /** The report of the last logged step while its metrics are still being read (at most one). */
  let pending: Promise<void> | null = null;

  /** Report the metrics rows of steps lastLogged+1 .. step (read when `readStepMetrics` was called). */
  const report = (step: number, rows: StepMetrics[], tokens: { input: number; loss: number }, evalLoss?: number) => {
    const now = performance.now();
    const seconds = Math.max(1e-9, (now - lastLogTime) / 1000);
    rows.forEach((m, i) => {
      const s = step - rows.length + 1 + i;
      if (m.nonFinite || !Number.isFinite(m.loss)) throw new NonFiniteError(s + 1, m.nonFinite && Number.isFinite(m.loss) ? 'gradient' : 'loss');
      const e: StepEvent = {
        step: s + 1, totalSteps: steps, epoch: (Math.min(consumed, (s + 1) * run.gradAccumulation)) / microPerEpoch,
        loss: m.loss, lr: learningRateAt(run, s, steps), gradNorm: m.gradNorm, clipCoef: m.clipCoef,
        tokensPerSecond: tokens.input / seconds, lossTokensPerSecond: tokens.loss / seconds, elapsedMs: now - started, memory: g.engine.pool.ledgerSnapshot(),
        ...(i === rows.length - 1 && evalLoss !== undefined ? { evalLoss } : {}),
      };
      events.push(e);
      opts.onStep?.(e);
    });
    lastLogTime = now;
  };

  /** Start reading the steps after the last logged one up to `step` (the copy is queued now, behind `step`). */
  const startRead = (step: number): { rows: Promise<StepMetrics[]>; tokens: { input: number; loss: number } } => {
    const rows = readStepMetrics(g, step, Math.min(step - lastLogged, run.logEvery));
    const tokens = { input: tokensSinceLog, loss: lossTokensSinceLog };
    tokensSinceLog = 0;
    lossTokensSinceLog = 0;
    lastLogged = step;
    return { rows, tokens };
  };

  /** Every step before `step` read back and reported. */
  const flush = async (step: number) => {
    if (pending) {
      const p = pending;
      pending = null;
      await p;
    }
    if (lastLogged < step - 1) {
      const r = startRead(step - 1);
      report(step - 1, await r.rows, r.tokens);
    }
  };

  if (startStep === 0 && validation.length > 0 && run.evalEvery > 0 && opts.onBaseEval) {
    await opts.onBaseEval(await evaluate(g, validation));
    lastLogTime = performance.now(); // the first step's throughput leaves the evaluation out
  }

  for (let step = startStep; step < steps; step++) {
    if (opts.beforeStep) await opts.beforeStep(step, { flush: () => flush(step), earlyStopping: stopping?.state() ?? null });
    if (opts.signal?.aborted) {
      // Stopped: report the steps done, so the curve and a checkpoint end together.
      await flush(step);
      break;
    }
    const epochsBefore = Math.floor(consumed / microPerEpoch);
    for (let micro = 0; micro < run.gradAccumulation; micro++) {
      const batch = next();
      tokensSinceLog += batch.tokens.reduce((n, t) => n + (t !== opts.padId ? 1 : 0), 0);
      lossTokensSinceLog += batch.targets.reduce((n, t) => n + (t >= 0 ? 1 : 0), 0);
      submitMicroBatch(g, batch, step, micro);
    }
    const lr = learningRateAt(run, step, steps);
    submitOptimizerStep(g, step, lr);

    // The previous logged step's metrics, read while this step runs.
    if (pending) {
      const p = pending;
      pending = null;
      await p;
    }
    const last = step === steps - 1;
    // Validation every evalEvery steps, at the end of each epoch (multi-epoch runs) and after the last step.
    const epochEnded = Math.floor(consumed / microPerEpoch) > epochsBefore;
    const evalNow = validation.length > 0 && run.evalEvery > 0 && ((step + 1) % run.evalEvery === 0 || epochEnded || last);
    if ((step + 1) % run.logEvery !== 0 && !last && !evalNow) continue;
    const r = startRead(step);
    if (evalNow || last) {
      // Validation must see this step's state before the next step changes it; the last step has no next.
      const rows = await r.rows;
      const evalLoss = evalNow ? await evaluate(g, validation) : undefined;
      report(step, rows, r.tokens, evalLoss);
      if (stopping && evalLoss !== undefined) {
        const { improved, stop } = stopping.observe(step + 1, evalLoss);
        if (improved) opts.onBest?.(stopping.best!);
        if (stop && !last) {
          opts.onEarlyStop?.({ step: step + 1, best: stopping.best, patience: stopping.patience });
          break;
        }
      }
    } else {
      pending = r.rows.then((rows) => report(step, rows, r.tokens));
      pending.catch(() => undefined); // handled where it is awaited; never an unhandled rejection meanwhile
    }
  }
  if (pending) await pending;
  return events;
}
