/**
 * One training run at a time in the worker: build the graph on the GPU (weights streamed in),
 * train with pause / resume / stop, stream typed events to the page, save the curves every few
 * seconds, a resumable checkpoint at the run's cadence (between steps) and on stop, and at the
 * end the adapter (or, for full finetuning, the whole model) and the run. A run interrupted by a reload or a lost GPU resumes from its last
 * checkpoint (`resumeRun`), on a new device if need be, after its fingerprints are checked
 * against the loaded model and dataset. NaN or infinity stops the run and keeps the last good
 * checkpoint.
 */
import type { AdapterStore } from '../io/stores/adapters';
import type { CheckpointStore } from '../io/stores/checkpoints';
import type { FullModelStore } from '../io/stores/full-models';
import type { RunStore } from '../io/stores/runs';
import type { Gpu } from '../engine/device';
import { fingerprintMismatches } from '../train/fingerprint';
import { loraConfigOf } from '../model/graph/train-graph';
import { loraParamsFrom } from '../model/graph/lora-state';
import { loraLayout } from '../model/plan/lora-layout';
import { RunConfigError, type RunConfig } from '../config/run-config';
import type { StartOptions, TrainEvent, TrainResult } from './api';
import type { LoadedDataset } from './dataset';
import type { LoadedModel } from './model';
import { PauseGate } from './pause-gate';
import { adapterTensors } from './adapter-tensors';
import { fingerprintsOf, trainRun, type Resume, type TrainingFaults } from './training-run';

export type { TrainingFaults };

export interface TrainingDeps {
  gpu: () => Promise<Gpu>;
  runs: RunStore;
  adapters: AdapterStore;
  fullModels: FullModelStore;
  checkpoints: CheckpointStore;
  faults?: TrainingFaults;
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
    return this.exclusive(emit, (abort, gate) => this.runOnce({ run, model, data, emit, abort, gate, opts, resume: null }));
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
    return this.exclusive(emit, (abort, gate) => this.runOnce({ run: record.config, model, data, emit, abort, gate, opts: { name: record.name }, resume: { record, checkpoint, fingerprints } }));
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

  private async runOnce(r: { run: RunConfig; model: LoadedModel; data: LoadedDataset; emit: (e: TrainEvent) => void; abort: AbortController; gate: PauseGate; opts: StartOptions; resume: Resume | null }): Promise<TrainResult> {
    const { adapters } = this.deps;
    const id = r.opts.initialAdapterId;
    if (id && r.run.method === 'full') {
      throw new RunConfigError('continuing an adapter trains that adapter (LoRA): set Method to LoRA in Configure, or start full finetuning from the base model', 'method');
    }
    return trainRun({
      ...this.deps, ...r, gpu: await this.deps.gpu(),
      initialLora: id ? () => continueFrom(adapters, id, r.run, r.model) : undefined,
    });
  }
}

/** The flat LoRA parameters of a stored adapter, after checking that the run has its shape. */
async function continueFrom(store: AdapterStore, id: string, run: RunConfig, model: LoadedModel): Promise<Float32Array<ArrayBuffer>> {
  const meta = await store.meta(id);
  if (!meta) throw new Error(`adapter ${id} is not in the library (deleted?)`);
  const want = loraConfigOf(run);
  const a = meta.lora;
  const same = (x: object, y: object) => JSON.stringify(Object.entries(x).sort()) === JSON.stringify(Object.entries(y).sort());
  if (a.r !== want.r || a.alpha !== want.alpha || a.useRslora !== want.useRslora || !!a.useDora !== !!want.useDora || [...a.targetModules].sort().join() !== [...want.targetModules].sort().join()
    || !same(a.rankPattern, want.rankPattern) || !same(a.alphaPattern, want.alphaPattern)) {
    throw new RunConfigError(`continuing "${meta.name}" needs the adapter's shape: rank ${a.r}, alpha ${a.alpha}${a.useRslora ? ' (rsLoRA)' : ''}${a.useDora ? ', DoRA' : ''}, ` +
      `targets ${a.targetModules.join(', ')}; this run has rank ${want.r}, alpha ${want.alpha}, targets ${want.targetModules.join(', ')}`, 'rank');
  }
  return loraParamsFrom(loraLayout(model.config, want), await adapterTensors(store, id, model.config));
}
