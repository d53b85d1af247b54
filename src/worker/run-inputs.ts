/**
 * The worker's side of one-click resume. When a run starts (or resumes) it records how the model
 * was loaded and keeps the dataset file (src/io/stores/run-inputs.ts); a failure there never stops
 * the run, it becomes a warning. Before a resume it plans what to load: nothing when the loaded
 * model and dataset match the checkpoint's fingerprints; else the stored model source (the demo,
 * or a Hub repo through the browser's cache) and the stored dataset copy with the run's options.
 * What only the person can bring back (picked files, a gated repo that is no longer cached, a
 * dataset that was too large to keep) is named as a sentence. The fingerprints are checked again
 * when the run resumes, exactly as without this.
 */
import type { Fingerprints } from '../config/fingerprints';
import type { HubCache } from '../io/model-source/hub/cache';
import { isCommitHash } from '../io/model-source/hub/repo-spec';
import type { RunInputs, RunInputStore, StoredModelSource } from '../io/stores/run-inputs';
import { datasetFingerprint, modelFingerprint } from '../train/fingerprint';
import type { CheckpointStore } from '../io/stores/checkpoints';
import type { DatasetOptions, ModelSourceSpec, ResumeInputs, TrainEvent } from './api';
import type { LoadedDataset } from './dataset';
import type { LoadedModel } from './model';

export type RunInputsStore = RunInputStore<DatasetOptions>;
export type StoredInputs = RunInputs<DatasetOptions>;

/** How a model was loaded, as kept: never a token; for picked files, only their names. */
export function storedSource(spec: ModelSourceSpec): StoredModelSource {
  switch (spec.kind) {
    case 'demo':
      return { kind: 'demo' };
    case 'hub':
      return { kind: 'hub', repo: spec.repo, ...(spec.revision ? { revision: spec.revision } : {}), ...(spec.endpoint ? { endpoint: spec.endpoint } : {}), withToken: !!spec.token };
    case 'files':
      return { kind: 'files', names: spec.files.map((f) => f.name) };
    case 'url':
      return { kind: 'url' };
  }
}

/**
 * Keep what the run was started with. Returns a warning for the run's events when the dataset
 * could not be kept (too large, no room) or nothing could be saved; never throws.
 */
export async function recordRunInputs(store: RunInputsStore, runId: string, runName: string, spec: ModelSourceSpec, model: LoadedModel, data: LoadedDataset): Promise<string | null> {
  try {
    const r = await store.save({ runId, runName, model: { name: model.info.name, source: storedSource(spec) }, file: data.file, fileName: data.name, options: data.options });
    return r.dataset.notKept ? `${r.dataset.notKept}, so resuming this run after a reload will ask for the file again` : null;
  } catch (e) {
    return `could not keep this run's inputs for resuming after a reload (${(e as Error)?.message ?? String(e)}); training goes on, and resuming will ask for the model and dataset`;
  }
}

/**
 * Around one run: keep how its inputs were loaded once it has an id (its 'started' event; a
 * failure becomes a 'warning' event), and at its end forget them when it left no checkpoint.
 */
export function keepRunInputs(
  at: { store: RunInputsStore; checkpoints: CheckpointStore; spec: ModelSourceSpec | null; model: LoadedModel | null; dataset: LoadedDataset | null },
  onEvent: (e: TrainEvent) => void,
): { onEvent(e: TrainEvent): void; end(): Promise<void> } {
  const { store, spec, model, dataset } = at;
  let runId: string | null = null;
  let saving: Promise<void> = Promise.resolve();
  return {
    onEvent(e) {
      if (e.type === 'started' && !runId && spec && model && dataset) {
        runId = e.run.id;
        saving = recordRunInputs(store, e.run.id, e.run.name, spec, model, dataset).then((warning) => { if (warning) onEvent({ type: 'warning', message: warning }); });
      }
      onEvent(e);
    },
    async end() {
      await saving;
      if (!runId) return;
      try {
        if (!(await at.checkpoints.info(runId))) await store.forget(runId);
      } catch {
        // The checkpoints cannot be read (no storage): keep the inputs; deleting the run drops them.
      }
    },
  };
}

// Fingerprints of what is loaded, computed once per loaded object.
const modelHashes = new WeakMap<LoadedModel, Promise<string>>();
const datasetHashes = new WeakMap<LoadedDataset, Promise<string>>();
const modelHash = (m: LoadedModel) => {
  let h = modelHashes.get(m);
  if (!h) modelHashes.set(m, (h = modelFingerprint(m.info.name, m.config, m.info.weightBytes).then((f) => f.hash)));
  return h;
};
const datasetHash = (d: LoadedDataset) => {
  let h = datasetHashes.get(d);
  if (!h) datasetHashes.set(d, (h = datasetFingerprint(d.name, d.train, d.validation).then((f) => f.hash)));
  return h;
};
export const modelMatches = async (m: LoadedModel | null, saved: Fingerprints) => !!m && (await modelHash(m)) === saved.model.hash;
export const datasetMatches = async (d: LoadedDataset | null, saved: Fingerprints) => !!d && (await datasetHash(d)) === saved.dataset.hash;

/** Whether a Hub repo's model files (config, tokenizer, weights) are all in the cache. */
export async function hubCached(cache: HubCache, repo: string, revision = 'main'): Promise<boolean> {
  try {
    const rc = cache.repo(repo);
    const commit = isCommitHash(revision) ? revision : await rc.readRef(revision);
    const manifest = commit ? await rc.readManifest(commit) : null;
    if (!commit || !manifest) return false;
    const needed = manifest.files.filter((f) => /^(config\.json|tokenizer(_config)?\.json|.*\.safetensors(\.index\.json)?)$/.test(f.path));
    for (const f of needed) if ((await rc.stored(commit, f)) !== f.size) return false;
    return needed.some((f) => f.path === 'config.json');
  } catch {
    return false;
  }
}

export interface InputPlan {
  /** The model to load first; null when the loaded one fits or none can be loaded by itself. */
  model: { spec: ModelSourceSpec; what: string } | null;
  /** Load the kept dataset copy with the run's options (after the model), unless what is loaded then fits. */
  dataset: { record: StoredInputs; file: File } | null;
  /** Shown to the person: what resuming loads by itself, and what only they can load. */
  inputs: ResumeInputs;
}

/** What resuming a run with these saved fingerprints needs, given what is loaded and what was kept. */
export async function planInputs(args: {
  saved: Fingerprints; stored: StoredInputs | undefined; store: RunInputsStore; hubCache: HubCache; model: LoadedModel | null; dataset: LoadedDataset | null;
}): Promise<InputPlan> {
  const { saved, stored, model, dataset } = args;
  const plan: InputPlan = { model: null, dataset: null, inputs: { loads: [], needs: [] } };
  const modelOk = await modelMatches(model, saved);
  if (!modelOk) {
    const src = stored?.model.source;
    const name = stored?.model.name ?? saved.model.name;
    if (src?.kind === 'demo') {
      plan.model = { spec: { kind: 'demo' }, what: 'the demo model' };
    } else if (src?.kind === 'hub') {
      const cached = await hubCached(args.hubCache, src.repo, src.revision);
      const spec: ModelSourceSpec = { kind: 'hub', repo: src.repo, ...(src.revision ? { revision: src.revision } : {}), ...(src.endpoint ? { endpoint: src.endpoint } : {}) };
      if (cached) plan.model = { spec, what: `${src.repo} from this browser's cache` };
      else if (!src.withToken) plan.model = { spec, what: `${src.repo} from the Hub (it is no longer in this browser's cache)` };
      else plan.inputs.needs.push(`load "${src.repo}" in Model & data with your access token (the repo is gated or private, and no longer in this browser's cache)`);
    } else if (src?.kind === 'files') {
      plan.inputs.needs.push(`pick the files of the model "${name}" again in Model & data (${src.names.join(', ')}): they came from your disk, which this page cannot open by itself`);
    } else if (src?.kind === 'url') {
      plan.inputs.needs.push(`load the model "${name}" again in Model & data from the address it came from`);
    } else {
      plan.inputs.needs.push(`load the model "${saved.model.name}" in Model & data`);
    }
    if (plan.model) plan.inputs.loads.push(plan.model.what);
  }
  if (!modelOk || !(await datasetMatches(dataset, saved))) {
    const name = saved.dataset.name;
    const file = stored ? await args.store.dataset(stored) : null;
    if (stored && file) {
      plan.dataset = { record: stored, file };
      plan.inputs.loads.push(name);
    } else if (modelOk || dataset?.name !== name) {
      // (A new model re-tokenizes the loaded dataset: the same file may then fit.)
      const with_ = "with the run's options (template, prompt masking, max sequence length, validation split, seed)";
      plan.inputs.needs.push(stored?.dataset.notKept ? `${stored.dataset.notKept}: load it again in Model & data ${with_}`
        : stored?.dataset.hash ? `the copy of "${name}" kept for resuming was deleted (Storage tab); load it again in Model & data ${with_}`
        : `load the dataset "${name}" in Model & data ${with_}`);
    }
  }
  return plan;
}

/** The model the checkpoint was trained on could not be loaded by itself: say what to do. */
export function explainReload(e: unknown, spec: ModelSourceSpec, runName: string, step: number): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  const what = spec.kind === 'hub' ? `"${spec.repo}"` : 'the demo model';
  err.message = `cannot resume "${runName}" from step ${step}: loading ${what} failed (${err.message}); load it in Model & data, then resume`;
  return err;
}
