/**
 * Deleting runs, adapters and fully finetuned models with undo: a delete first moves the item to the trash (it leaves
 * every listing, the resume banner and the playground at once); undo restores it; the page empties
 * the trash when the undo offer ends, and a new studio empties what a closed page left there.
 */
import type { AdapterStore } from '../io/stores/adapters';
import type { CheckpointStore } from '../io/stores/checkpoints';
import type { FullModelStore } from '../io/stores/full-models';
import type { RunRecord, RunStore } from '../io/stores/runs';
import type { GenerationSession } from './generation';
import type { RunInputsStore } from './run-inputs';

interface Stores {
  runs: RunStore;
  adapters: AdapterStore;
  /** Absent where a caller keeps no full models (the library's own tests). */
  fullModels?: FullModelStore;
  checkpoints: CheckpointStore;
  runInputs: RunInputsStore;
  generation: Pick<GenerationSession, 'forget'>;
}

/** A run for good: its checkpoint, its curves and record, and the inputs kept to resume it. */
export async function deleteRunForGood(s: Pick<Stores, 'checkpoints' | 'runs' | 'runInputs'>, id: string): Promise<void> {
  await s.checkpoints.delete(id);
  await s.runs.delete(id);
  await s.runInputs.forget(id);
}

/** An adapter for good, and the playground's copy of it. */
export async function deleteAdapterForGood(s: Pick<Stores, 'adapters' | 'generation'>, id: string): Promise<void> {
  await s.adapters.delete(id);
  s.generation.forget(id);
}

/** Delete for good what is in the trash (`olderThanMs`: only what was put there that long ago, e.g. by a page now closed). */
export async function emptyTrash(s: Stores, olderThanMs = 0): Promise<void> {
  const due = (t: number | undefined) => t !== undefined && Date.now() - t >= olderThanMs;
  for (const r of await s.runs.trashed()) if (due(r.trashedAt)) await deleteRunForGood(s, r.id);
  for (const a of await s.adapters.trashed()) if (due(a.trashedAt)) await deleteAdapterForGood(s, a.id);
  for (const m of (await s.fullModels?.trashed()) ?? []) {
    if (!due(m.trashedAt)) continue;
    await s.fullModels!.delete(m.id);
    s.generation.forget(m.id);
  }
}

/**
 * Rename a run and/or change its note. Its adapter (or full model) follows a rename while it still
 * carries the run's name (a stopped run's adapter: the name and "(step N)").
 */
export async function editRun(s: Pick<Stores, 'runs' | 'adapters' | 'fullModels'>, id: string, patch: { name?: string; note?: string }): Promise<RunRecord> {
  const before = await s.runs.get(id);
  if (!before) throw new Error(`run ${id} is not in Runs (deleted in another tab?)`);
  const name = patch.name?.trim();
  if (patch.name !== undefined && !name) throw new Error('a run needs a name');
  const after = await s.runs.update(id, { ...(name ? { name } : {}), ...(patch.note !== undefined ? { note: patch.note.trim() || undefined } : {}) });
  if (name && name !== before.name && before.adapterId) {
    const adapter = await s.adapters.meta(before.adapterId);
    if (adapter?.name.startsWith(before.name)) await s.adapters.edit(adapter.id, { name: name + adapter.name.slice(before.name.length) });
  }
  if (name && name !== before.name && before.fullModelId && s.fullModels) {
    const model = await s.fullModels.meta(before.fullModelId);
    if (model?.name.startsWith(before.name)) await s.fullModels.edit(model.id, { name: name + model.name.slice(before.name.length) });
  }
  return after;
}
