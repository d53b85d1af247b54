/**
 * The playground's second output, as one <select>: an adapter on the base model, or a fully
 * finetuned model in the base model's place. Adapters keep their id as the option's value; a
 * finetuned model's is prefixed, so the two libraries' ids can never be confused.
 */
import type { AdapterMeta, FullModelMeta } from '../../../worker/api';

const FULL = 'full:';

export interface TunedChoice {
  adapterId: string | null;
  fullModelId: string | null;
}

export const choiceValue = (c: TunedChoice): string => (c.fullModelId ? FULL + c.fullModelId : c.adapterId ?? '');

export function parseChoice(value: string): TunedChoice {
  if (value.startsWith(FULL)) return { adapterId: null, fullModelId: value.slice(FULL.length) };
  return { adapterId: value || null, fullModelId: null };
}

/** The choice after the listings arrive: kept while it exists, else the newest adapter, else the newest finetuned model of the loaded model. */
export function validChoice(c: TunedChoice, adapters: readonly AdapterMeta[], full: readonly FullModelMeta[], modelName: string | null): TunedChoice {
  const gone = (c.adapterId !== null && !adapters.some((a) => a.id === c.adapterId)) || (c.fullModelId !== null && !full.some((m) => m.id === c.fullModelId));
  if (!gone && (c.adapterId || c.fullModelId)) return c;
  if (adapters.length) return { adapterId: adapters[0].id, fullModelId: null };
  const own = full.find((m) => m.baseModel === modelName);
  return { adapterId: null, fullModelId: own?.id ?? null };
}

/** The second output's title. */
export function tunedTitle(c: TunedChoice, adapters: readonly AdapterMeta[] | null, full: readonly FullModelMeta[] | null): string {
  if (c.fullModelId) return `Finetuned model ${full?.find((m) => m.id === c.fullModelId)?.name ?? ''}`.trim();
  if (c.adapterId) return `Base + ${adapters?.find((a) => a.id === c.adapterId)?.name ?? 'adapter'}`;
  return 'Base + adapter (choose one)';
}
