/** The model card fields of an adapter of the library: its name, note, base model, LoRA config and the run it came from. */
import type { ModelCardInput } from '../io/model-card';
import type { AdapterMeta } from '../io/stores/adapters';
import type { RunRecord } from '../io/stores/runs';

/** The run an adapter came from, when it is still in Runs. */
export type RunLookup = (id: string) => Promise<RunRecord | undefined>;

export type CardFields = Omit<ModelCardInput, 'kind' | 'files' | 'merge'>;

export async function cardFields(meta: AdapterMeta, lora: ModelCardInput['lora'], runOf: RunLookup): Promise<CardFields> {
  // A deleted run only leaves its part of the card out.
  const run = meta.runId ? await runOf(meta.runId).catch(() => undefined) : undefined;
  return { title: meta.name, baseModel: meta.baseModel, lora, run, note: meta.note };
}
