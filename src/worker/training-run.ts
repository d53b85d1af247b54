/**
 * One training run, start to end, as the steps a reader can follow:
 *   1. plan      the memory plan, refused before anything starts when it cannot fit
 *   2. record    a new run record, or the interrupted one reopened (resume)
 *   3. build     the graph on the GPU, weights streamed in, a checkpoint's state restored
 *   4. loop      the trainer, with pause, checkpoints and the curve streamed to the page
 *   5. keep      the adapter (full finetuning: the whole model) and the finished record
 * and, when it fails, an error that says what was kept (a lost GPU, NaN, a refused allocation).
 */
import type { Fingerprints } from '../config/fingerprints';
import type { RunConfig } from '../config/run-config';
import { createEngine, releaseEngine, type Engine } from '../engine/context';
import type { Gpu } from '../engine/device';
import { DeviceLostError, OutOfMemoryError } from '../engine/errors';
import { exportPeftAdapter } from '../io/peft';
import type { AdapterStore } from '../io/stores/adapters';
import type { Checkpoint, CheckpointStore } from '../io/stores/checkpoints';
import type { FullModelStore } from '../io/stores/full-models';
import type { RunRecord, RunStore, StepPoint } from '../io/stores/runs';
import { buildTrainGraph, type TrainGraph } from '../model/graph/train-graph';
import { writeFlat } from '../model/graph/lora-state';
import { explainDeviceOom, planOrExplain, refuseUnfit } from '../model/plan/fit';
import { adapterFromGraph } from '../train/adapter-export';
import { restoreTrainState, resumedEarlyStopping } from '../train/checkpoint';
import { configFingerprint, datasetFingerprint, modelFingerprint } from '../train/fingerprint';
import { NonFiniteError, totalSteps, train, type StepEvent } from '../train/trainer';
import type { BestEvaluation, EarlyStoppingState } from '../train/early-stopping';
import type { StartOptions, TrainEvent, TrainResult } from './api';
import { Checkpointer } from './checkpointer';
import type { LoadedDataset } from './dataset';
import { epochTokens } from './estimate';
import { saveFullModel } from './full-models';
import type { LoadedModel } from './model';
import type { PauseGate } from './pause-gate';
import { RunRecorder } from './run-recorder';
import { uploadProgress } from './upload-progress';

/** Faults the tests inject through the real step loop (never set by the studio itself). */
export interface TrainingFaults {
  /** Write NaN into the LoRA parameters before optimizer step k (0-based, after that step's checkpoint): step k+1's loss is NaN. */
  nanAtStep?: number;
}

/** An interrupted run to continue: its record, its last checkpoint, and what it was trained on. */
export interface Resume {
  record: RunRecord;
  checkpoint: Checkpoint;
  fingerprints: Fingerprints;
}

export interface RunContext {
  gpu: Gpu;
  runs: RunStore;
  adapters: AdapterStore;
  /** Where a full finetuning run (run.method 'full') keeps its model. */
  fullModels: FullModelStore;
  checkpoints: CheckpointStore;
  faults?: TrainingFaults;
  run: RunConfig;
  model: LoadedModel;
  data: LoadedDataset;
  emit: (e: TrainEvent) => void;
  abort: AbortController;
  gate: PauseGate;
  opts: StartOptions;
  resume: Resume | null;
  /** The flat LoRA parameters to start from (continuing a stored adapter), or none for a fresh init. */
  initialLora?: () => Promise<Float32Array<ArrayBuffer> | undefined>;
}

/** The fingerprints of what is loaded now, for a run with this config. */
export async function fingerprintsOf(run: RunConfig, model: LoadedModel, data: LoadedDataset): Promise<Fingerprints> {
  return {
    model: await modelFingerprint(model.info.name, model.config, model.info.weightBytes),
    dataset: await datasetFingerprint(data.name, data.train, data.validation),
    config: await configFingerprint(run),
  };
}

export async function trainRun(c: RunContext): Promise<TrainResult> {
  c.emit({ type: 'phase', phase: 'preparing', message: 'Planning GPU memory' });
  await refuseUnfit(c.model.config, await planOrExplain(c.model.config, c.run, c.gpu), c.run, c.gpu);
  const steps = totalSteps({ run: c.run }, c.data.train.length);
  const fingerprints = c.resume?.fingerprints ?? await fingerprintsOf(c.run, c.model, c.data);
  const startStep = c.resume?.checkpoint.step ?? 0;
  const rec = await openRecord(c, steps);
  const ckpt = new Checkpointer(c.checkpoints, rec, c.run, fingerprints, steps, c.data.train.length, c.resume ? startStep : null);
  const saveCheckpoint = async (g: TrainGraph, step: number, early: EarlyStoppingState | null) => {
    const r = await ckpt.save(g, step, early);
    c.emit({ type: 'checkpoint', step, ...('error' in r ? { error: r.error.message } : {}) });
  };
  const device = watchDevice(c);
  let engine: Engine | null = null;
  try {
    engine = createEngine(c.gpu);
    const g = await buildGraph(c, engine, startStep);
    if (device.lost) throw device.lost;
    c.emit({ type: 'phase', phase: 'training', message: c.resume ? `Resuming at step ${startStep + 1} of ${steps}` : `Training ${steps} steps` });
    const early = await loop(c, g, rec, ckpt, saveCheckpoint, startStep);
    if (device.lost) throw device.lost;
    const stopped = c.abort.signal.aborted;
    // Stopped: keep a checkpoint of where it stopped (the trainer has reported every step done).
    if (stopped && rec.last && rec.last.step > (ckpt.last?.step ?? 0)) await saveCheckpoint(g, rec.last.step, early.state);
    return await keep(c, g, rec, engine, stopped, early);
  } catch (e) {
    const err = await explainFailure(c, e, device, rec.last, ckpt.last);
    await rec.fail(err, engine, device.lost && ckpt.last ? 'interrupted' : 'failed');
    throw err;
  } finally {
    device.unsubscribe();
    if (!device.lost && engine) await releaseEngine(engine);
  }
}

/** 2. A new record, or the interrupted run's record reopened with the points it kept. */
async function openRecord(c: RunContext, steps: number): Promise<RunRecorder> {
  const { run, model, data, resume } = c;
  if (resume) {
    const { rec, kept } = await RunRecorder.reopen(c.runs, resume.record.id, resume.checkpoint.points.count);
    c.emit({ type: 'started', run: rec.record, resumedFrom: { step: resume.checkpoint.step, points: kept } });
    return rec;
  }
  const summary = configSummary(run);
  const rec = await RunRecorder.start(c.runs, {
    name: c.opts.name ?? summary,
    config: run,
    model: { name: model.info.name, source: model.info.source, params: model.info.baseParams },
    dataset: { name: data.name, examples: data.train.length, validation: data.validation.length, tokensPerEpoch: epochTokens(data.train, run.maxSeqLen).tokens },
    totalSteps: steps,
  }, c.opts.name ? undefined : (seq) => `Run ${seq} · ${summary}`);
  c.emit({ type: 'started', run: rec.record });
  return rec;
}

/**
 * What sets a run apart at a glance: rank, alpha, targets and base precision, e.g. "r8 α16
 * query+value f32"; a full finetuning run has no rank: "full adamw lr 1e-4 f32".
 */
export function configSummary(run: RunConfig): string {
  if (run.method === 'full') return `full ${run.optimizer} lr ${run.learningRate.toExponential()} ${run.basePrecision}`;
  return `r${run.rank} α${run.alpha} ${run.targets.join('+')} ${run.basePrecision}`;
}

/** A lost GPU stops the loop at the next step boundary; `lost` says so afterwards. */
function watchDevice(c: RunContext): { lost: DeviceLostError | null; unsubscribe: () => void } {
  const device: { lost: DeviceLostError | null; unsubscribe: () => void } = { lost: null, unsubscribe: () => {} };
  device.unsubscribe = c.gpu.onFault((e) => {
    if (e instanceof DeviceLostError && !device.lost) {
      device.lost = e;
      c.abort.abort();
      c.gate.resume();
    }
  });
  return device;
}

/** 3. The graph on the GPU with the base weights streamed in, and a checkpoint's state when resuming. */
async function buildGraph(c: RunContext, engine: Engine, startStep: number): Promise<TrainGraph> {
  const initialLora = await c.initialLora?.();
  // Bytes, rate and time left of the upload (read in chunks, quantized on the GPU: src/model/graph/weight-stream.ts).
  const progress = uploadProgress(c.model.info.weightBytes, c.run.basePrecision, c.emit);
  const load = c.model.loader(progress.onTensor, progress.onRead);
  progress.start();
  const g = await buildTrainGraph(engine, c.model.config, c.run, { load, initialLora });
  if (c.resume) {
    const { params, optimizer, earlyStopping } = c.resume.checkpoint;
    restoreTrainState(g, { step: startStep, params, moments: optimizer.moments, ...(earlyStopping ? { earlyStopping } : {}) });
  }
  return g;
}

/** What early stopping came to: the best evaluation (its parameters in g.lora.best), where it ended the run, its state at the last step boundary. */
interface EarlyOutcome {
  best: BestEvaluation | null;
  stoppedAt: { step: number; patience: number } | null;
  state: EarlyStoppingState | null;
}

/** 4. The trainer with the studio's hooks: pause, checkpoints at the run's cadence, the curve to the page. */
async function loop(
  c: RunContext, g: TrainGraph, rec: RunRecorder, ckpt: Checkpointer,
  saveCheckpoint: (g: TrainGraph, step: number, early: EarlyStoppingState | null) => Promise<void>, startStep: number,
): Promise<EarlyOutcome> {
  // A resumed run continues early stopping from its checkpoint: the best found before still counts.
  const resumed = c.resume ? resumedEarlyStopping(c.resume.checkpoint) : undefined;
  const early: EarlyOutcome = { best: resumed?.best ?? null, stoppedAt: null, state: resumed ?? null };
  if (c.run.earlyStoppingPatience > 0 && c.data.validation.length === 0) {
    c.emit({ type: 'warning', message: 'Early stopping is on but the dataset has no validation share (Model & data), so the run cannot stop early and keeps its last step\'s adapter.' });
  }
  const clock = { pausedTotal: 0, pausedSinceLast: 0, lastElapsed: 0, offset: c.resume?.checkpoint.points.elapsedMs ?? 0 };
  let tick = performance.now();
  await train(g, {
    train: c.data.train, validation: c.data.validation, padId: c.model.tokenizer.pad, signal: c.abort.signal, startStep,
    ...(resumed ? { earlyStopping: resumed } : {}),
    onBaseEval: async (evalLoss) => {
      c.emit({ type: 'baseline', evalLoss });
      await rec.setBaseValLoss(evalLoss).catch(() => undefined); // the curve matters more than this figure
    },
    beforeStep: async (step, at) => {
      early.state = at.earlyStopping;
      if (c.gate.isPaused) {
        await at.flush(); // a paused dashboard shows every step done
        c.emit({ type: 'held', step });
      }
      const waited = await c.gate.wait();
      clock.pausedTotal += waited;
      clock.pausedSinceLast += waited;
      const now = performance.now();
      ckpt.elapse(now - tick - waited);
      tick = now;
      if (c.abort.signal.aborted) return;
      if (ckpt.due(step)) {
        await at.flush(); // the curve up to this step is reported (and checked for NaN) before the state is kept
        await saveCheckpoint(g, step, at.earlyStopping);
      } else {
        await rec.maybeSave();
      }
      if (c.faults?.nanAtStep === step) writeFlat(g.engine.gpu.device.queue, g.lora.params, new Float32Array(g.layout.length).fill(NaN));
    },
    onStep: (e) => {
      const point = toPoint(e, clock);
      clock.lastElapsed = e.elapsedMs;
      clock.pausedSinceLast = 0;
      rec.add(point);
      c.emit({ type: 'step', point, totalSteps: e.totalSteps });
    },
    onBest: (b) => { early.best = b; },
    onEarlyStop: (e) => {
      early.stoppedAt = { step: e.step, patience: e.patience };
      const kept = e.best ? ` The ${g.full ? 'model' : 'adapter'} kept is step ${e.best.step}'s, the best evaluation (validation loss ${e.best.loss.toFixed(4)}).` : '';
      c.emit({ type: 'warning', message: `Early stopping: the validation loss did not improve for ${e.patience} evaluations in a row, so the run ended after step ${e.step}.${kept}` });
    },
  });
  return early;
}

/**
 * 5. The adapter into the library (full finetuning: the whole model into the finetuned models
 * library) and the record finished; a completed run's checkpoint has nothing left to resume.
 */
async function keep(c: RunContext, g: TrainGraph, rec: RunRecorder, engine: Engine, stopped: boolean, early: EarlyOutcome): Promise<TrainResult> {
  await rec.save();
  c.emit({ type: 'phase', phase: 'saving', message: g.full ? 'Saving the finetuned model' : 'Saving the adapter' });
  // With early stopping the weights are the best evaluation's, and say which step they are from.
  const best = early.best && g.lora.best ? early.best : null;
  // A stopped run's weights say where it stopped: resuming the run later saves another copy.
  const name = best ? `${rec.record.name} (best: step ${best.step})` : stopped ? `${rec.record.name} (step ${rec.last?.step ?? 0})` : rec.record.name;
  const from = { runId: rec.record.id, runConfig: c.run, ...(best ? { fromStep: { step: best.step, valLoss: best.loss } } : {}) };
  let kept: Pick<TrainResult, 'adapter' | 'fullModel'>;
  if (g.full) {
    const warn = (message: string) => c.emit({ type: 'warning', message });
    kept = { fullModel: await saveFullModel(c.fullModels, engine, g.full, c.model, { name, baseModel: c.model.info.name, trainableParams: c.model.info.baseParams, ...from }, best ? g.lora.best : undefined, warn) };
  } else {
    const peft = await adapterFromGraph(g, c.model.info.name, best ? g.lora.best : undefined);
    kept = {
      adapter: await c.adapters.save({
        name, baseModel: c.model.info.name, lora: peft.config,
        trainableParams: g.layout.slots.reduce((n, s) => n + s.r * (s.inFeatures + s.outFeatures), 0),
        origin: 'trained', ...from,
      }, exportPeftAdapter(peft)),
    };
  }
  const record = await rec.finish(stopped ? 'stopped' : 'completed', kept.fullModel ? { fullModelId: kept.fullModel.id } : { adapterId: kept.adapter!.id }, engine, {
    ...(best ? { adapterStep: best.step } : {}), ...(early.stoppedAt ? { stoppedEarly: early.stoppedAt } : {}),
  });
  if (!stopped) await c.checkpoints.delete(record.id).catch(() => undefined);
  return { run: record, ...kept };
}

/** The error a failed run ends with, saying what was kept. */
async function explainFailure(
  c: RunContext, e: unknown, device: { lost: DeviceLostError | null }, last: StepPoint | null, kept: { step: number } | null,
): Promise<unknown> {
  // A lost device fails the pending readback (AbortError) before `device.lost` resolves.
  if (!device.lost && mayBeDeviceLoss(e)) {
    const info = await Promise.race([c.gpu.device.lost, new Promise<null>((r) => setTimeout(() => r(null), 2000))]);
    if (info) device.lost = new DeviceLostError(info.reason ?? 'unknown', info.message);
  }
  if (device.lost) return lostDuringRun(device.lost, last, kept);
  if (e instanceof NonFiniteError) return keptAfterNaN(e, kept);
  // The device refused an allocation at run time: name the sizes and the changes that help (in the run record too).
  if (e instanceof OutOfMemoryError && e.limitBytes === -1) return explainDeviceOom(e, c.model.config, c.run, c.gpu);
  return e;
}

function mayBeDeviceLoss(e: unknown): boolean {
  const name = (e as Error)?.name ?? '';
  return ['AbortError', 'OperationError', 'InvalidStateError', 'GpuValidationError'].includes(name) || /lost|destroyed|unmapped/i.test((e as Error)?.message ?? '');
}

function lostDuringRun(e: DeviceLostError, last: StepPoint | null, kept: { step: number } | null): DeviceLostError {
  const where = last ? `after step ${last.step}` : 'before the first step';
  const lostErr = new DeviceLostError(e.reason, '');
  lostErr.message = `The GPU was lost ${where} (${e.reason}), so training stopped. The run's curves up to there are saved in Runs` + (kept
    ? `, and its last checkpoint (step ${kept.step}) is kept: resume the run on a new device and it continues from step ${kept.step}.`
    : '; no checkpoint had been saved yet (see "Checkpoint every" in Configure), so start the run again to train on a new device.');
  return lostErr;
}

/** NaN or infinity: the run fails at that step; say which checkpoint is still good. */
function keptAfterNaN(e: NonFiniteError, kept: { step: number } | null): NonFiniteError {
  e.message += kept ? `. The last good checkpoint (step ${kept.step}) is kept.` : '. No checkpoint had been saved yet.';
  return e;
}

function toPoint(e: StepEvent, clock: { pausedTotal: number; pausedSinceLast: number; lastElapsed: number; offset: number }): StepPoint {
  // The trainer's clock runs through pauses; the studio's curves do not.
  const { pausedTotal, pausedSinceLast } = clock;
  const interval = e.elapsedMs - clock.lastElapsed;
  const unpaused = pausedSinceLast > 0 && interval > pausedSinceLast ? interval / (interval - pausedSinceLast) : 1;
  return {
    step: e.step, epoch: e.epoch, loss: e.loss, lr: e.lr, gradNorm: e.gradNorm, clipCoef: e.clipCoef,
    tokensPerSecond: e.tokensPerSecond * unpaused, lossTokensPerSecond: e.lossTokensPerSecond * unpaused,
    elapsedMs: e.elapsedMs - pausedTotal + clock.offset, ...(e.evalLoss !== undefined ? { evalLoss: e.evalLoss } : {}),
    memory: { ...e.memory.current }, memoryTotal: e.memory.total, memoryPeak: e.memory.peakTotal,
  };
}
