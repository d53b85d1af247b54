/**
 * One training run at a time in the worker: build the graph on the GPU (weights streamed in),
 * train with pause / resume / stop, stream typed events to the page, save the curves every few
 * seconds, a resumable checkpoint at the run's cadence (between steps) and on stop, and at the
 * end the adapter and the run. A run interrupted by a reload or a lost GPU resumes from its last
 * checkpoint (`resumeRun`), on a new device if need be, after its fingerprints are checked
 * against the loaded model and dataset. NaN or infinity stops the run and keeps the last good
 * checkpoint.
 */
import { createEngine, type Engine } from '../engine/context';
import { DeviceLostError, OutOfMemoryError } from '../engine/errors';
import type { Gpu } from '../engine/device';
import { exportPeftAdapter } from '../io/peft';
import type { AdapterStore } from '../io/stores/adapters';
import type { Checkpoint, CheckpointStore } from '../io/stores/checkpoints';
import type { RunRecord, RunStore, StepPoint } from '../io/stores/runs';
import { restoreTrainState } from '../train/checkpoint';
import { configFingerprint, datasetFingerprint, fingerprintMismatches, modelFingerprint, type Fingerprints } from '../train/fingerprint';
import { Checkpointer } from './checkpointer';
import { RunRecorder } from './run-recorder';
import { buildTrainGraph, loraConfigOf, type TrainGraph } from '../model/graph/train-graph';
import { loraParamsFrom } from '../model/graph/lora-state';
import { loraLayout } from '../model/plan/lora-layout';
import { adapterFromGraph } from '../train/adapter-export';
import { RunConfigError, type RunConfig } from '../train/run-config';
import { NonFiniteError, totalSteps, train, type StepEvent } from '../train/trainer';
import type { StartOptions, TrainEvent, TrainResult } from './api';
import type { LoadedDataset } from './dataset';
import { epochTokens, explainDeviceOom, planOrExplain, planProblems } from './estimate';
import type { LoadedModel } from './model';
import { PauseGate } from './pause-gate';
import { adapterTensors } from './adapter-tensors';

export interface TrainingDeps {
  gpu: () => Promise<Gpu>;
  runs: RunStore;
  adapters: AdapterStore;
  checkpoints: CheckpointStore;
  faults?: TrainingFaults;
}

/** Faults the tests inject through the real step loop (never set by the studio itself). */
export interface TrainingFaults {
  /** Write NaN into the LoRA parameters before optimizer step k (0-based, after that step's checkpoint): step k+1's loss is NaN. */
  nanAtStep?: number;
}

interface Resume {
  record: RunRecord;
  checkpoint: Checkpoint;
  fingerprints: Fingerprints;
}

/** The fingerprints of what is loaded now, for a run with this config. */
export async function fingerprintsOf(run: RunConfig, model: LoadedModel, data: LoadedDataset): Promise<Fingerprints> {
  return {
    model: await modelFingerprint(model.info.name, model.config, model.info.weightBytes),
    dataset: await datasetFingerprint(data.name, data.train, data.validation),
    config: await configFingerprint(run),
  };
}

export class TrainingSession {
  private active: { abort: AbortController; gate: PauseGate; emit: (e: TrainEvent) => void } | null = null;

  constructor(private readonly deps: TrainingDeps) {}

  get busy(): boolean {
    return this.active !== null;
  }

  pause(): void {
    if (this.active && this.active.gate.pause()) this.active.emit({ type: 'paused' });
  }

  resume(): void {
    if (this.active && this.active.gate.resume()) this.active.emit({ type: 'resumed' });
  }

  /** Ends after the current step; the adapter and the run are saved as `stopped`. */
  stop(): void {
    if (!this.active) return;
    this.active.abort.abort();
    this.active.gate.resume();
  }

  start(run: RunConfig, model: LoadedModel, data: LoadedDataset, emit: (e: TrainEvent) => void, opts: StartOptions = {}): Promise<TrainResult> {
    return this.exclusive(emit, (abort, gate) => this.run(run, model, data, emit, abort, gate, opts, null));
  }

  /**
   * Continue a stored run from its last checkpoint with the loaded model and dataset (checked
   * against the checkpoint's fingerprints first; a mismatch names what differs and what to load).
   */
  async resumeRun(runId: string, model: LoadedModel, data: LoadedDataset, emit: (e: TrainEvent) => void): Promise<TrainResult> {
    if (this.active) throw new Error('a run is already training in this tab; stop it before resuming another');
    const { runs, checkpoints } = this.deps;
    const record = await runs.get(runId);
    if (!record) throw new Error(`run ${runId} is not in Runs (deleted?), so it cannot be resumed`);
    if (record.status === 'completed') throw new Error(`"${record.name}" already completed; its adapter is in the library`);
    const checkpoint = await checkpoints.load(runId);
    if (!checkpoint) throw new Error(`"${record.name}" has no checkpoint to resume from (none was saved before it stopped); start it again from Configure`);
    const fingerprints = await fingerprintsOf(record.config, model, data);
    const wrong = fingerprintMismatches(checkpoint.fingerprints, fingerprints);
    if (wrong.length) {
      throw new RunConfigError(`cannot resume "${record.name}" from step ${checkpoint.step}: ${wrong.map((w) => w.message).join('; ')}`, wrong[0].field);
    }
    return this.exclusive(emit, (abort, gate) => this.run(record.config, model, data, emit, abort, gate, { name: record.name }, { record, checkpoint, fingerprints }));
  }

  private async exclusive(emit: (e: TrainEvent) => void, job: (abort: AbortController, gate: PauseGate) => Promise<TrainResult>): Promise<TrainResult> {
    if (this.active) throw new Error('a run is already training in this tab; stop it before starting another');
    const abort = new AbortController();
    const gate = new PauseGate();
    this.active = { abort, gate, emit };
    try {
      return await job(abort, gate);
    } finally {
      this.active = null;
    }
  }

  private async run(
    run: RunConfig, model: LoadedModel, data: LoadedDataset, emit: (e: TrainEvent) => void, abort: AbortController, gate: PauseGate, opts: StartOptions,
    resume: Resume | null,
  ): Promise<TrainResult> {
    const { runs, adapters, checkpoints } = this.deps;
    emit({ type: 'phase', phase: 'preparing', message: 'Planning GPU memory' });
    const gpu = await this.deps.gpu();
    const plan = await planOrExplain(model.config, run, gpu);
    const problems = planProblems(plan, run, gpu.limits);
    if (problems.length) {
      throw new OutOfMemoryError(plan.largest.bytes, plan.buffers[0]?.category ?? 'unknown', plan.largest.label, Math.min(gpu.limits.maxBufferSize, gpu.limits.maxStorageBufferBindingSize), problems[0]);
    }
    const steps = totalSteps({ run }, data.train.length);
    const fingerprints = resume?.fingerprints ?? await fingerprintsOf(run, model, data);
    const startStep = resume?.checkpoint.step ?? 0;
    let rec: RunRecorder;
    if (resume) {
      rec = await RunRecorder.reopen(runs, resume.record.id, resume.checkpoint.points.count, null);
      const kept = await runs.points(rec.record.id);
      rec.last = kept.at(-1) ?? null;
      emit({ type: 'started', run: rec.record, resumedFrom: { step: startStep, points: kept } });
    } else {
      rec = await RunRecorder.start(runs, {
        name: opts.name ?? `r${run.rank} α${run.alpha} ${run.targets.join('+')} ${run.basePrecision}`,
        config: run,
        model: { name: model.info.name, source: model.info.source, params: model.info.baseParams },
        dataset: { name: data.name, examples: data.train.length, validation: data.validation.length, tokensPerEpoch: epochTokens(data.train, run.maxSeqLen).tokens },
        totalSteps: steps,
      });
      emit({ type: 'started', run: rec.record });
    }
    const ckpt = new Checkpointer(checkpoints, rec, run, fingerprints, steps, data.train.length, resume ? startStep : null);
    const saveCheckpoint = async (g: TrainGraph, step: number) => {
      const r = await ckpt.save(g, step);
      emit({ type: 'checkpoint', step, ...('error' in r ? { error: r.error.message } : {}) });
    };

    let engine: Engine | null = null;
    const fault: { lost: DeviceLostError | null } = { lost: null };
    const unsubscribe = gpu.onFault((e) => {
      if (e instanceof DeviceLostError && !fault.lost) {
        fault.lost = e;
        abort.abort();
        gate.resume();
      }
    });
    try {
      engine = createEngine(gpu);
      const initialLora = opts.initialAdapterId ? await continueFrom(adapters, opts.initialAdapterId, run, model) : undefined;
      const load = model.loader((name, done, total) => emit({ type: 'phase', phase: 'loading-weights', message: `Loading ${name}`, progress: Math.min(1, done / total) }));
      emit({ type: 'phase', phase: 'loading-weights', message: 'Uploading the base model to the GPU', progress: 0 });
      const g = await buildTrainGraph(engine, model.config, run, { load, initialLora });
      if (resume) restoreTrainState(g, { step: startStep, params: resume.checkpoint.params, moments: resume.checkpoint.optimizer.moments });
      if (fault.lost) throw fault.lost;
      emit({ type: 'phase', phase: 'training', message: resume ? `Resuming at step ${startStep + 1} of ${steps}` : `Training ${steps} steps` });

      const clock = { pausedTotal: 0, pausedSinceLast: 0, lastElapsed: 0, offset: resume?.checkpoint.points.elapsedMs ?? 0 };
      let tick = performance.now();
      await train(g, {
        train: data.train, validation: data.validation, padId: model.tokenizer.pad, signal: abort.signal, startStep,
        beforeStep: async (step, at) => {
          if (gate.isPaused) await at.flush(); // a paused dashboard shows every step done
          const waited = await gate.wait();
          clock.pausedTotal += waited;
          clock.pausedSinceLast += waited;
          const now = performance.now();
          ckpt.elapse(now - tick - waited);
          tick = now;
          if (abort.signal.aborted) return;
          if (ckpt.due(step)) {
            await at.flush(); // the curve up to this step is reported (and checked for NaN) before the state is kept
            await saveCheckpoint(g, step);
          } else {
            await rec.maybeSave();
          }
          if (this.deps.faults?.nanAtStep === step) g.engine.gpu.device.queue.writeBuffer(g.lora.params, 0, new Float32Array(g.layout.length).fill(NaN));
        },
        onStep: (e) => {
          const point = toPoint(e, clock);
          clock.lastElapsed = e.elapsedMs;
          clock.pausedSinceLast = 0;
          rec.add(point);
          emit({ type: 'step', point, totalSteps: e.totalSteps });
        },
      });
      if (fault.lost) throw fault.lost;
      const stopped = abort.signal.aborted;
      // Stopped: keep a checkpoint of where it stopped (the trainer has reported every step done).
      if (stopped && rec.last && rec.last.step > (ckpt.last?.step ?? 0)) await saveCheckpoint(g, rec.last.step);
      await rec.save();
      emit({ type: 'phase', phase: 'saving', message: 'Saving the adapter' });
      const peft = await adapterFromGraph(g, model.info.name);
      const adapter = await adapters.save({
        name: rec.record.name, baseModel: model.info.name, lora: peft.config,
        trainableParams: g.layout.slots.reduce((n, s) => n + s.r * (s.inFeatures + s.outFeatures), 0),
        origin: 'trained', runId: rec.record.id, runConfig: run,
      }, exportPeftAdapter(peft));
      const record = await rec.finish(stopped ? 'stopped' : 'completed', adapter.id, engine);
      // A completed run's adapter is in the library: its checkpoint has nothing left to resume.
      if (!stopped) await checkpoints.delete(record.id).catch(() => undefined);
      return { run: record, adapter };
    } catch (e) {
      // A lost device fails the pending readback (AbortError) before `device.lost` resolves.
      if (!fault.lost && mayBeDeviceLoss(e)) {
        const info = await Promise.race([gpu.device.lost, new Promise<null>((r) => setTimeout(() => r(null), 2000))]);
        if (info) fault.lost = new DeviceLostError(info.reason ?? 'unknown', info.message);
      }
      const kept = ckpt.last;
      const err = fault.lost ? lostDuringRun(fault.lost, rec.last, kept)
        : e instanceof NonFiniteError ? keptAfterNaN(e, kept)
        // The device refused an allocation at run time: name the sizes and the changes that help (in the run record too).
        : e instanceof OutOfMemoryError && e.limitBytes === -1 ? await explainDeviceOom(e, model.config, run, gpu)
        : e;
      await rec.fail(err, engine, fault.lost && kept ? 'interrupted' : 'failed');
      throw err;
    } finally {
      unsubscribe();
      if (!fault.lost) engine?.pool.destroyAll();
    }
  }
}

/** The flat LoRA parameters of a stored adapter, after checking that the run has its shape. */
async function continueFrom(store: AdapterStore, id: string, run: RunConfig, model: LoadedModel): Promise<Float32Array<ArrayBuffer>> {
  const meta = await store.meta(id);
  if (!meta) throw new Error(`adapter ${id} is not in the library (deleted?)`);
  const want = loraConfigOf(run);
  const a = meta.lora;
  const same = (x: object, y: object) => JSON.stringify(Object.entries(x).sort()) === JSON.stringify(Object.entries(y).sort());
  if (a.r !== want.r || a.alpha !== want.alpha || a.useRslora !== want.useRslora || [...a.targetModules].sort().join() !== [...want.targetModules].sort().join()
    || !same(a.rankPattern, want.rankPattern) || !same(a.alphaPattern, want.alphaPattern)) {
    throw new RunConfigError(`continuing "${meta.name}" needs the adapter's shape: rank ${a.r}, alpha ${a.alpha}${a.useRslora ? ' (rsLoRA)' : ''}, ` +
      `targets ${a.targetModules.join(', ')}; this run has rank ${want.r}, alpha ${want.alpha}, targets ${want.targetModules.join(', ')}`, 'rank');
  }
  return loraParamsFrom(loraLayout(model.config, want), await adapterTensors(store, id, model.config));
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
  const tps = pausedSinceLast > 0 && interval > pausedSinceLast ? (e.tokensPerSecond * interval) / (interval - pausedSinceLast) : e.tokensPerSecond;
  return {
    step: e.step, epoch: e.epoch, loss: e.loss, lr: e.lr, gradNorm: e.gradNorm, clipCoef: e.clipCoef, tokensPerSecond: tps,
    elapsedMs: e.elapsedMs - pausedTotal + clock.offset, ...(e.evalLoss !== undefined ? { evalLoss: e.evalLoss } : {}),
    memory: { ...e.memory.current }, memoryTotal: e.memory.total, memoryPeak: e.memory.peakTotal,
  };
}
