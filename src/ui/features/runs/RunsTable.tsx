/** The list of runs: name and note (editable), status, figures, and what can be done with each. */
import { useState } from 'react';
import type { RunRecord } from '../../../worker/api';
import { ErrorBox } from '../../components/ErrorBox';
import { NameNoteEditor } from '../../components/NameNoteEditor';
import { bytes, date, duration, loss } from '../../components/format';
import { resumeWithInputs } from '../../stores/resume-run';
import { useSession } from '../../stores/session';
import { useRuns } from './store';

/** "5.3600 (step 50)", the best validation loss and where it was measured. */
export function bestVal(r: RunRecord): string {
  const b = r.final?.bestVal;
  if (b) return `${loss(b.loss)} (step ${b.step})`;
  return loss(r.final?.valLoss);
}

export function RunsTable({ colors }: { colors: Record<string, string> }) {
  const { runs, selected, checkpoints, toggle, remove, edit } = useRuns();
  const training = useSession((s) => s.training);
  const [resumeError, setResumeError] = useState<{ name: string; message: string } | null>(null);
  const live = (r: RunRecord) => r.status === 'running' || r.status === 'paused';
  const resume = (id: string) => {
    setResumeError(null);
    void resumeWithInputs(id).then((o) => { if (!o.ok) setResumeError(o.error); });
  };
  return (
    <>
      <ErrorBox error={resumeError} onDismiss={() => setResumeError(null)} testId="runs-resume-error" />
      <div className="table-scroll">
        <table className="dense" data-testid="runs-table">
          <thead>
            <tr>
              <th scope="col">Compare</th><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col">Steps</th>
              <th scope="col" title="mean of the last 10 training losses">Train loss (last 10)</th><th scope="col" title="the lowest validation loss, and after which step">Best val loss</th>
              <th scope="col">Peak memory</th><th scope="col">Wall time</th><th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id} data-testid="run-row">
                <td><input type="checkbox" aria-label={`Compare ${r.name}`} checked={selected.includes(r.id)} onChange={(e) => toggle(r.id, e.target.checked)} /></td>
                <td>
                  <span className="swatch" style={{ background: colors[r.id] ?? 'transparent' }} />
                  <NameNoteEditor kind="run" name={r.name} note={r.note} onSave={(p) => edit(r.id, p)} testId="run-name" />
                  <div className="muted small">{r.model.name} · {r.dataset.name}</div>
                </td>
                <td>
                  <span className={`status ${r.status}`} title={r.error?.message}>{r.status}</span>
                  {r.stoppedEarly && <div className="muted small">stopped early (step {r.stoppedEarly.step}); {r.fullModelId ? 'model' : 'adapter'} from step {r.adapterStep ?? r.stoppedEarly.step}</div>}
                </td>
                <td>{date(r.createdAt)}</td>
                <td>{r.final?.steps ?? r.pointCount} / {r.totalSteps}</td>
                <td>{loss(r.final?.trainLossMean ?? r.final?.trainLoss)}</td>
                <td>{bestVal(r)}{r.baseValLoss !== undefined && <div className="muted small">base {loss(r.baseValLoss)}</div>}</td>
                <td>{r.final ? bytes(r.final.peakMemory) : '–'}</td>
                <td>{r.final ? duration(r.final.wallMs) : '–'}</td>
                <td className="actions"><div className="row">
                  {checkpoints[r.id] !== undefined && !live(r) && (r.status === 'stopped' || r.status === 'interrupted') && (
                    <button type="button" disabled={training !== 'idle'} onClick={() => resume(r.id)} aria-label={`Resume ${r.name} from step ${checkpoints[r.id]}`}>
                      Resume
                    </button>
                  )}
                  <button type="button" className="danger" aria-label={`Delete run ${r.name}`} disabled={live(r)} onClick={() => void remove(r.id)}>Delete</button>
                </div></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
