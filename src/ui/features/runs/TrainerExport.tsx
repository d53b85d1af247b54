/** A run as the files of a cluster trainer (Axolotl, TRL + PEFT, torchtune), to take it to a multi-GPU machine. */
import { useState } from 'react';
import type { RunRecord } from '../../../worker/api';
import { studio } from '../../client';
import { ErrorBox, toShown } from '../../components/ErrorBox';
import { saveFile } from '../../components/download';

const TRAINERS = [
  { value: 'axolotl', label: 'Axolotl (YAML config)' },
  { value: 'trl', label: 'TRL + PEFT (Python script)' },
  { value: 'torchtune', label: 'torchtune (YAML config)' },
] as const;
type Trainer = (typeof TRAINERS)[number]['value'];

export function TrainerExport({ runs }: { runs: RunRecord[] }) {
  const [runId, setRunId] = useState('');
  const [trainer, setTrainer] = useState<Trainer>('axolotl');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<{ name: string; message: string } | null>(null);
  const chosen = runs.some((r) => r.id === runId) ? runId : runs[0]?.id ?? '';
  const download = async () => {
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const d = await studio().exportTrainer(chosen, trainer);
      saveFile(d, 'application/zip');
      setMessage(`Downloaded ${d.name}: ${d.files.join(', ')}. Start it on the training machine with: ${d.launch}${d.notes.length ? `. Notes: ${d.notes.join('; ')}` : ''}`);
    } catch (e) {
      setError(toShown(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="trainer-export-title">
      <h3 id="trainer-export-title">Run it on a cluster trainer</h3>
      <div className="row">
        <label htmlFor="trainer-run">Run</label>
        <select id="trainer-run" value={chosen} onChange={(e) => setRunId(e.target.value)}>
          {runs.map((r) => <option key={r.id} value={r.id}>{r.name}</option>)}
        </select>
        <label htmlFor="trainer-kind">Trainer</label>
        <select id="trainer-kind" value={trainer} onChange={(e) => setTrainer(e.target.value as Trainer)}>
          {TRAINERS.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
        </select>
        <button type="button" onClick={() => void download()} disabled={busy || !chosen}>Download trainer files</button>
      </div>
      <p className="help">The run&apos;s base model, LoRA and optimizer settings, schedule, batch, length and seed, with its dataset as JSONL, in the format that trainer reads (docs/scale-out.md maps every field).</p>
      {message && <p role="status" className="note info" data-testid="trainer-export-message">{message}</p>}
      <ErrorBox error={error} onDismiss={() => setError(null)} testId="trainer-export-error" />
    </section>
  );
}
