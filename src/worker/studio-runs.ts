/**
 * The studio's training calls: start a run, resume an interrupted one (loading what it was trained
 * on where it can), and list what can be resumed. One tab trains at a time (Web Locks), and every
 * event also goes to the other tabs (read-only view) and to the kept run inputs.
 */
import { parseRunConfig, RunConfigError } from '../config/run-config';
import { planOrExplain, refuseUnfit } from '../model/plan/fit';
import type { FileProgress, StartOptions, StudioApi, TrainEvent, TrainResult } from './api';
import { loadModel } from './model';
import { datasetMatches, explainReload, keepRunInputs, modelMatches, planInputs } from './run-inputs';
import type { StudioState } from './studio-state';
import { acquireTrainingLock, broadcastRun, TrainingElsewhereError } from './tab-lock';

type RunsApi = Pick<StudioApi, 'startTraining' | 'pause' | 'resume' | 'stop' | 'listResumable' | 'loadRunInputs' | 'resumeRun' | 'discardCheckpoint'>;

export function runsApi(s: StudioState): RunsApi {
  return {
    startTraining: (input, onEvent, options) => startTraining(s, input, onEvent, options),
    pause: async () => s.training.pause(),
    resume: async () => s.training.resume(),
    stop: async () => s.training.stop(),
    listResumable: () => listResumable(s),
    async loadRunInputs(runId, onProgress) {
      await s.ready;
      if (s.training.busy) throw new Error('a run is training; stop it before loading another model or dataset');
      const { needs } = await loadInputs(s, runId, (p) => onProgress?.(p));
      return { model: s.loaded.model?.info ?? null, dataset: s.loaded.dataset?.summary ?? null, needs };
    },
    resumeRun: (runId, onEvent) => resumeRun(s, runId, onEvent),
    discardCheckpoint: async (runId) => { await s.checkpoints.delete(runId); await s.runInputs.forget(runId); },
  };
}

/**
 * Hold the training lock for `job`'s whole life, with its events broadcast to the other tabs and
 * its inputs kept for a later resume (`keepInputs`, called once the model and dataset are known).
 */
async function underTrainingLock(
  s: StudioState, onEvent: (e: TrainEvent) => void,
  job: (emit: (e: TrainEvent) => void, keepInputs: () => void) => Promise<TrainResult>,
): Promise<TrainResult> {
  const lock = await acquireTrainingLock();
  if (!lock) throw new TrainingElsewhereError();
  const cast = broadcastRun();
  const kept: { inputs: ReturnType<typeof keepRunInputs> | null } = { inputs: null };
  let final: TrainResult['run'] | null = null;
  try {
    const keepInputs = () => {
      const { modelSpec: spec, model, dataset } = s.loaded;
      kept.inputs = keepRunInputs({ store: s.runInputs, checkpoints: s.checkpoints, spec, model, dataset }, onEvent);
    };
    await s.generation.reset(); // the playground's copy of the model gives its GPU memory to the run
    const result = await job((e) => { cast.event(e); kept.inputs?.onEvent(e); }, keepInputs);
    final = result.run;
    return result;
  } finally {
    await kept.inputs?.end();
    cast.end(final);
    lock.release();
  }
}

async function startTraining(s: StudioState, input: unknown, onEvent: (e: TrainEvent) => void, options?: StartOptions): Promise<TrainResult> {
  await s.ready;
  const run = parseRunConfig(input);
  const m = s.loaded.needModel('training');
  const d = s.loaded.needData('training');
  // Refuse what the GPU cannot allocate before anything starts, with the changes that fit.
  const g = await s.gpu.get();
  await refuseUnfit(m.config, await planOrExplain(m.config, run, g), run, g);
  return underTrainingLock(s, onEvent, (emit, keepInputs) => {
    keepInputs();
    return s.training.start(run, m, d, emit, options);
  });
}

async function resumeRun(s: StudioState, runId: string, onEvent: (e: TrainEvent) => void): Promise<TrainResult> {
  await s.ready;
  if (s.training.busy) throw new Error('a run is already training in this tab; stop it before resuming another');
  return underTrainingLock(s, onEvent, async (emit, keepInputs) => {
    const loading = await loadInputs(s, runId, (p) => onEvent({
      type: 'phase', phase: 'preparing', message: `Loading ${p.file}${p.cached ? " from this browser's storage" : ''}`,
      ...(p.total ? { progress: Math.min(1, p.loaded / p.total) } : {}),
    }));
    // Kept inputs that need the person: say exactly what to load (else the checks below say it, as ever).
    if (loading.kept && loading.needs.length) {
      throw new RunConfigError(`cannot resume "${loading.name}" from step ${loading.step}: ${loading.needs.join('; ')}; then resume`, loading.field);
    }
    const m = s.loaded.needModel('resuming a run (load the model it was trained on)');
    const d = s.loaded.needData('resuming a run (load the dataset it was trained on)');
    keepInputs();
    return s.training.resumeRun(runId, m, d, emit);
  });
}

async function listResumable(s: StudioState): ReturnType<StudioApi['listResumable']> {
  await s.ready;
  const out = [];
  for (const r of (await s.runs.list()).filter((x) => x.status === 'interrupted')) {
    const c = await s.checkpoints.info(r.id);
    if (!c) continue;
    const plan = await planInputs({ saved: c.fingerprints, stored: await s.runInputs.get(r.id), store: s.runInputs, hubCache: s.hubCache, model: s.loaded.model, dataset: s.loaded.dataset });
    out.push({
      run: r, inputs: plan.inputs,
      checkpoint: { step: c.step, totalSteps: c.totalSteps, createdAt: c.createdAt, bytes: c.bytes, model: c.fingerprints.model.name, dataset: c.fingerprints.dataset.name },
    });
  }
  return out;
}

/**
 * Load the run's kept model and dataset where what is loaded does not match its checkpoint;
 * returns what only the person can load (and whether the run's inputs were kept at all).
 */
async function loadInputs(
  s: StudioState, runId: string, onProgress: (p: FileProgress) => void,
): Promise<{ needs: string[]; field: 'model' | 'dataset'; kept: boolean; name: string; step: number }> {
  const [record, info, stored] = await Promise.all([s.runs.get(runId), s.checkpoints.info(runId), s.runInputs.get(runId)]);
  if (!record || !info) return { needs: [], field: 'model', kept: false, name: '', step: 0 }; // resuming says why
  const { loaded } = s;
  const plan = await planInputs({ saved: info.fingerprints, stored, store: s.runInputs, hubCache: s.hubCache, model: loaded.model, dataset: loaded.dataset });
  if (plan.model) {
    const spec = plan.model.spec;
    const m = await loadModel(spec, onProgress, s.hubCache).catch((e: unknown) => { throw explainReload(e, spec, record.name, info.step); });
    await loaded.useModel(m, spec);
  }
  if (plan.dataset && loaded.model) {
    const { file, record: kept } = plan.dataset;
    // A new model re-tokenized the loaded file: it may fit already.
    if (!(await datasetMatches(loaded.dataset, info.fingerprints))) {
      onProgress({ file: file.name, loaded: 0, total: file.size, done: false, cached: true });
      await loaded.useDataset(file, kept.dataset.options);
      onProgress({ file: file.name, loaded: file.size, total: file.size, done: true, cached: true });
    }
  }
  const field = (await modelMatches(loaded.model, info.fingerprints)) ? 'dataset' : 'model';
  return { needs: plan.inputs.needs, field, kept: !!stored, name: record.name, step: info.step };
}
