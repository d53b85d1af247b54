/**
 * Deletes with undo: the item goes to the worker's trash at once (it leaves every list), and a
 * notice offers Undo for a few seconds; when the offer ends (or another delete replaces it) the
 * trash is emptied for good. One offer at a time.
 */
import { create } from 'zustand';
import { messageOf } from '../client';

export const UNDO_MS = 10_000;

interface Offer {
  id: number;
  message: string;
  undo: () => Promise<void>;
  commit: () => Promise<void>;
}

interface UndoState {
  offer: Omit<Offer, 'undo' | 'commit'> | null;
  error: string | null;
}

export const useUndo = create<UndoState>()(() => ({ offer: null, error: null }));

let current: Offer | null = null;
let timer: ReturnType<typeof setTimeout> | null = null;
let next = 1;

function clear(): Offer | null {
  const o = current;
  current = null;
  if (timer) clearTimeout(timer);
  timer = null;
  useUndo.setState({ offer: null });
  return o;
}

/** Make the pending delete final now (the offer ends). */
export async function commitPending(): Promise<void> {
  const o = clear();
  if (o) await o.commit().catch((e: unknown) => useUndo.setState({ error: messageOf(e) }));
}

/**
 * `trash` has already hidden the item; offer to undo it with `undo`, and `commit` it when the
 * offer ends. A delete while another offer is open makes that one final first.
 */
export async function offerUndo(message: string, undo: () => Promise<void>, commit: () => Promise<void>): Promise<void> {
  await commitPending();
  current = { id: next++, message, undo, commit };
  useUndo.setState({ offer: { id: current.id, message }, error: null });
  timer = setTimeout(() => void commitPending(), UNDO_MS);
}

/**
 * Delete an entry of a library (an adapter, a finetuned model) as a person expects: into the trash
 * now, every view told (`changed`), with an offer to undo; deleted for good when the offer ends.
 */
export async function trashWithUndo(o: {
  what: string; trash(): Promise<void>; restore(): Promise<void>; deleteForGood(): Promise<void>; changed(): Promise<void>;
}): Promise<void> {
  await o.trash();
  await o.changed();
  await offerUndo(`Deleted ${o.what}.`, async () => {
    await o.restore();
    await o.changed();
  }, o.deleteForGood);
}

export async function undoPending(): Promise<void> {
  const o = clear();
  if (o) await o.undo().catch((e: unknown) => useUndo.setState({ error: `could not undo: ${messageOf(e)}` }));
}

// A page that goes away makes its pending delete final (the next studio would, a minute later, anyway).
if (typeof window !== 'undefined') window.addEventListener('pagehide', () => void commitPending());
