/**
 * A name and a note that can be edited in place (runs, adapters): the name and the note as text,
 * and "Edit" opening a small form; Enter in the name saves, Escape cancels.
 */
import { useId, useState } from 'react';

export function NameNoteEditor({ kind, name, note, onSave, testId }: {
  /** "run" or "adapter", for the labels. */
  kind: string; name: string; note?: string; onSave(patch: { name: string; note: string }): Promise<void>; testId?: string;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState({ name, note: note ?? '' });
  const [error, setError] = useState<string | null>(null);
  const nameId = useId();
  const noteId = useId();
  const open = () => { setDraft({ name, note: note ?? '' }); setError(null); setEditing(true); };
  const save = async () => {
    if (!draft.name.trim()) { setError(`a ${kind} needs a name`); return; }
    try {
      await onSave({ name: draft.name.trim(), note: draft.note.trim() });
      setEditing(false);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  if (!editing) {
    return (
      <span className="name-note" data-testid={testId}>
        <span className="name">{name}</span>{' '}
        <button type="button" className="link small" onClick={open} aria-label={`Edit the name and note of ${kind} ${name}`}>Edit</button>
        {note && <span className="note-text small">{note}</span>}
      </span>
    );
  }
  return (
    <form className="name-note-form" onSubmit={(e) => { e.preventDefault(); void save(); }} onKeyDown={(e) => { if (e.key === 'Escape') setEditing(false); }}>
      <label htmlFor={nameId} className="small">Name</label>
      <input id={nameId} value={draft.name} autoFocus onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
      <label htmlFor={noteId} className="small">Note</label>
      <textarea id={noteId} rows={2} value={draft.note} placeholder="what this one is for, what you saw" onChange={(e) => setDraft({ ...draft, note: e.target.value })} />
      {error && <p className="field-error" role="alert">{error}</p>}
      <div className="row">
        <button type="submit" className="primary">Save</button>
        <button type="button" onClick={() => setEditing(false)}>Cancel</button>
      </div>
    </form>
  );
}
