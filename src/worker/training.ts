/**
 * One training run at a time in the worker: build the graph on the GPU (weights streamed in),
 * train with pause / resume / stop, stream typed events to the page, save the curves every few
 * seconds and, at the end, the adapter and the run. A lost GPU stops the run with a message and
 * keeps what was saved. (Checkpoints and resume after a reload are issue 7: the run record and
 * the `beforeStep` hook are where they attach.)
 */
import { createEngine, type Engine } from '../engine/context';
import { DeviceLostError, OutOfMemoryError } from '../engine/errors';
import type { Gpu } from '../engine/device';
import { exportPeftAdapter } from '../io/peft';
import type { AdapterStore } from '../io/stores/adapters';
import type { RunStore, StepPoint } from '../io/stores/runs';
import { RunRecorder } from './run-recorder';
import { buildTrainGraph, loraConfigOf } from '../model/graph/train-graph';
import { loraParamsFrom } from '../model/graph/lora-state';
import { loraLayout } from '../model/plan/lora-layout';
import { adapterFromGraph } from '../train/adapter-export';
import { RunConfigError, type RunConfig } from '../train/run-config';
import { totalSteps, train, type StepEvent } from '../train/trainer';
import type { StartOptions, TrainEvent, TrainResult } from './api';
import type { LoadedDataset } from './dataset';
import { epochTokens, planOrExplain, planProblems } from './estimate';
import type { LoadedModel } from './model';
import { PauseGate } from './pause-gate';
import { adapterTensors } from './adapter-tensors';

export interface TrainingDeps {
  gpu: () => Promise<Gpu>;
  runs: RunStore;
  adapters: AdapterStore;
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

  async start(run: RunConfig, model: LoadedModel, data: LoadedDataset, emit: (e: TrainEvent) => void, opts: StartOptions = {}): Promise<TrainResult> {
    if (this.active) throw new Error('a run is already training in this tab; stop it before starting another');
    const abort = new AbortController();
    const gate = new PauseGate();
    this.active = { abort, gate, emit };
    try {
      return await this.run(run, model, data, emit, abort, gate, opts);
    } finally {
      this.active = null;
    }
  }

  private async run(
    run: RunConfig, model: LoadedModel, data: LoadedDataset, emit: (e: TrainEvent) => void, abort: AbortController, gate: PauseGate, opts: StartOptions,
  ): Promise<TrainResult> {
    const { runs, adapters } = this.deps;
    emit({ type: 'phase', phase: 'preparing', message: 'Planning GPU memory' });
    const gpu = await this.deps.gpu();
    const plan = await planOrExplain(model.config, run, gpu);
    const problems = planProblems(plan, run, gpu.limits);
    if (problems.length) {
      throw new OutOfMemoryError(plan.largest.bytes, plan.buffers[0]?.category ?? 'unknown', plan.largest.label, Math.min(gpu.limits.maxBufferSize, gpu.limits.maxStorageBufferBindingSize), problems[0]);
    }
    const steps = totalSteps({ run }, data.train.length);
    const rec = await RunRecorder.start(runs, {
      name: opts.name ?? `r${run.rank} α${run.alpha} ${run.targets.join('+')} ${run.basePrecision}`,
      config: run,
      model: { name: model.info.name, source: model.info.source, params: model.info.baseParams },
      dataset: { name: data.name, examples: data.train.length, validation: data.validation.length, tokensPerEpoch: epochTokens(data.train, run.maxSeqLen).tokens },
      totalSteps: steps,
    });
    emit({ type: 'started', run: rec.record });

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
      if (fault.lost) throw fault.lost;
      emit({ type: 'phase', phase: 'training', message: `Training ${steps} steps` });

      const clock = { pausedTotal: 0, pausedSinceLast: 0, lastElapsed: 0 };
      await train(g, {
        train: data.train, validation: data.validation, padId: model.tokenizer.pad, signal: abort.signal,
        beforeStep: async () => {
          const waited = await gate.wait();
          clock.pausedTotal += waited;
          clock.pausedSinceLast += waited;
          if (!abort.signal.aborted) await rec.maybeSave();
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
      await rec.save();
      emit({ type: 'phase', phase: 'saving', message: 'Saving the adapter' });
      const peft = await adapterFromGraph(g, model.info.name);
      const adapter = await adapters.save({
        name: rec.record.name, baseModel: model.info.name, lora: peft.config,
        trainableParams: g.layout.slots.reduce((n, s) => n + s.r * (s.inFeatures + s.outFeatures), 0),
        origin: 'trained', runId: rec.record.id, runConfig: run,
      }, exportPeftAdapter(peft));
      return { run: await rec.finish(abort.signal.aborted ? 'stopped' : 'completed', adapter.id, engine), adapter };
    } catch (e) {
      // A lost device fails the pending readback (AbortError) before `device.lost` resolves.
      if (!fault.lost && mayBeDeviceLoss(e)) {
        const info = await Promise.race([gpu.device.lost, new Promise<null>((r) => setTimeout(() => r(null), 2000))]);
        if (info) fault.lost = new DeviceLostError(info.reason ?? 'unknown', info.message);
      }
      const err = fault.lost ? lostDuringRun(fault.lost, rec.last) : e;
      await rec.fail(err, engine);
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

function lostDuringRun(e: DeviceLostError, last: StepPoint | null): DeviceLostError {
  const where = last ? `after step ${last.step}` : 'before the first step';
  const lostErr = new DeviceLostError(e.reason, '');
  lostErr.message = `The GPU was lost ${where} (${e.reason}), so training stopped. The run's curves up to there are saved in Runs; ` +
    'the adapter of an interrupted run cannot be read back from a lost device. Start the run again to continue on a new device.';
  return lostErr;
}

function toPoint(e: StepEvent, clock: { pausedTotal: number; pausedSinceLast: number; lastElapsed: number }): StepPoint {
  // The trainer's clock runs through pauses; the studio's curves do not.
  const { pausedTotal, pausedSinceLast } = clock;
  const interval = e.elapsedMs - clock.lastElapsed;
  const tps = pausedSinceLast > 0 && interval > pausedSinceLast ? (e.tokensPerSecond * interval) / (interval - pausedSinceLast) : e.tokensPerSecond;
  return {
    step: e.step, epoch: e.epoch, loss: e.loss, lr: e.lr, gradNorm: e.gradNorm, clipCoef: e.clipCoef, tokensPerSecond: tps,
    elapsedMs: e.elapsedMs - pausedTotal, ...(e.evalLoss !== undefined ? { evalLoss: e.evalLoss } : {}),
    memory: { ...e.memory.current }, memoryTotal: e.memory.total, memoryPeak: e.memory.peakTotal,
  };
}
