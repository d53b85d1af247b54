/** One adapter of the library: name and note (editable), shape, size, and its actions. */
import { NameNoteEditor } from '../../components/NameNoteEditor';
import { NumberInput } from '../../components/fields';
import { bytes, count, date } from '../../components/format';
import type { AdapterMeta } from '../../../worker/api';
import { useLibrary } from './store';

export function AdapterRow({ a, canTry, canContinue, onTry, onContinue }: {
  a: AdapterMeta; canTry: boolean; canContinue: boolean; onTry(): void; onContinue(): void;
}) {
  const lib = useLibrary();
  const busy = lib.busy !== null;
  const merging = lib.mergeChecked.includes(a.id);
  // Each button's accessible name starts with its visible label (WCAG 2.5.3), then says which adapter.
  return (
    <tr data-testid="adapter-row">
      <td>
        <input type="checkbox" aria-label={`Merge ${a.name}`} checked={merging}
          onChange={(e) => lib.setMerge({ mergeChecked: e.target.checked ? [...lib.mergeChecked, a.id] : lib.mergeChecked.filter((x) => x !== a.id) })} />
        {merging && (
          <NumberInput id={`w-${a.id}`} aria-label={`Merge weight of ${a.name}`} value={lib.mergeWeights[a.id] ?? 1}
            onChange={(v) => lib.setMerge({ mergeWeights: { ...lib.mergeWeights, [a.id]: v } })} />
        )}
      </td>
      <td><NameNoteEditor kind="adapter" name={a.name} note={a.note} onSave={(p) => lib.edit(a.id, p)} testId="adapter-name" /><div className="muted small">{a.origin}</div></td>
      <td>{a.baseModel || '–'}</td>
      <td>r {a.lora.r} · α {a.lora.alpha}{a.lora.useRslora ? ' (rs)' : ''}<div className="muted small">{a.lora.targetModules.join(', ')}</div></td>
      <td>{count(a.trainableParams)}</td>
      <td>{bytes(a.sizeBytes)}</td>
      <td>{date(a.createdAt)}</td>
      <td className="actions"><div className="row">
        <button type="button" onClick={() => void lib.download(a.id, 'zip')} disabled={busy} aria-label={`Download zip: ${a.name} as a PEFT adapter`}>Download zip</button>
        <button type="button" onClick={() => void lib.download(a.id, 'files')} disabled={busy} aria-label={`Download 2 files: ${a.name} as adapter_model.safetensors and adapter_config.json`}>Download 2 files</button>
        <button type="button" onClick={onTry} disabled={!canTry} aria-label={`Try ${a.name} in the playground`}>Try</button>
        <button type="button" onClick={onContinue} disabled={!canContinue} aria-label={`Continue training ${a.name}`}>Continue training</button>
        <button type="button" className="danger" onClick={() => void lib.remove(a.id)} disabled={busy} aria-label={`Delete ${a.name}`}>Delete</button>
      </div></td>
    </tr>
  );
}
