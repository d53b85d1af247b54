/** Download the comparison: settings and metrics as CSV or JSON, curves as CSV (each run's points read afresh). */
import { useState } from 'react';
import type { RunRecord, StepPoint } from '../../../worker/api';
import { messageOf, studio } from '../../client';
import { saveBlob } from '../../components/download';
import { curvesCsv, runsCsv, runsJson } from './export';

const csv = (text: string) => new Blob([text], { type: 'text/csv;charset=utf-8' });

export function ExportButtons({ runs }: { runs: RunRecord[] }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const curves = async () => {
    setBusy(true);
    setError(null);
    try {
      // A live run's curve grows: read every selected run's points now rather than what is drawn.
      const points: Record<string, StepPoint[]> = {};
      for (const r of runs) points[r.id] = await studio().runPoints(r.id);
      saveBlob(csv(curvesCsv(runs, points)), 'runs-curves.csv');
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="row export-buttons" role="group" aria-label="Export the comparison">
      <span className="muted small">Export:</span>
      <button type="button" onClick={() => saveBlob(csv(runsCsv(runs)), 'runs-comparison.csv')}>Settings and metrics (CSV)</button>
      <button type="button" onClick={() => saveBlob(new Blob([runsJson(runs)], { type: 'application/json' }), 'runs-comparison.json')}>Settings and metrics (JSON)</button>
      <button type="button" onClick={() => void curves()} disabled={busy}>Curves (CSV)</button>
      {error && <p className="field-error" role="alert">Could not export the curves: {error}</p>}
    </div>
  );
}
