/** What the studio stores in this browser, by category and item, with delete buttons. */
import { useEffect } from 'react';
import { ErrorBox } from '../../components/ErrorBox';
import { bytes } from '../../components/format';
import { useSession } from '../../stores/session';
import type { StorageReport } from '../../../worker/api';
import { useStorage } from './store';

function Persistence({ persisted, onAsk }: { persisted: boolean | null; onAsk: () => void }) {
  if (persisted === null) return <p className="muted" data-testid="persisted">This browser does not say whether it keeps the studio's data under storage pressure.</p>;
  return persisted
    ? <p className="note info" data-testid="persisted">Persistent storage: granted. The browser will not evict the studio's data to free space.</p>
    : (
      <p className="note warn" data-testid="persisted">
        Persistent storage: not granted. The browser may evict cached models, checkpoints and adapters when the disk runs low.{' '}
        <button type="button" onClick={onAsk}>Ask the browser again</button>
      </p>
    );
}

function Quota({ report }: { report: StorageReport }) {
  if (report.quota === null || report.usage === null) return null;
  return (
    <p data-testid="quota">
      This site uses {bytes(report.usage)} of the {bytes(report.quota)} the browser allows ({bytes(Math.max(0, report.quota - report.usage))} free).
      <meter min={0} max={report.quota} value={report.usage} aria-label="Browser storage used" style={{ marginLeft: 8 }} />
    </p>
  );
}

export function StoragePanel() {
  const s = useStorage();
  const version = useSession((x) => x.libraryVersion);
  const training = useSession((x) => x.training);
  useEffect(() => { void s.refresh(); }, [version]); // eslint-disable-line react-hooks/exhaustive-deps
  const busy = s.busy !== null;
  return (
    <section className="panel" aria-labelledby="storage-title">
      <h2 id="storage-title">Storage</h2>
      {s.busy && <p role="status" className="muted">{s.busy}…</p>}
      <ErrorBox error={s.error} testId="storage-error" />
      {!s.report ? <p className="muted">Measuring…</p> : (
        <>
          <Quota report={s.report} />
          <Persistence persisted={s.report.persisted} onAsk={() => void s.askPersist()} />
          {s.report.categories.map((c) => (
            <section key={c.category} aria-labelledby={`storage-${c.category}`} data-testid={`storage-${c.category}`}>
              <h3 id={`storage-${c.category}`}>{c.label}: {bytes(c.bytes)}</h3>
              <p className="muted small">{c.available ? c.description : 'not available in this browser'}</p>
              {c.items.length === 0 ? <p className="muted small">Nothing stored.</p> : (
                <table className="dense">
                  <thead><tr><th scope="col">Name</th><th scope="col">Size</th><th scope="col">Actions</th></tr></thead>
                  <tbody>
                    {c.items.map((i) => (
                      <tr key={i.id} data-testid="storage-item">
                        <td>{i.name}</td>
                        <td>{bytes(i.bytes)}</td>
                        <td>
                          <button type="button" disabled={busy || (training !== 'idle' && c.category !== 'adapters')} aria-label={`Delete ${c.label.toLowerCase()} item ${i.name} (${bytes(i.bytes)})`}
                            onClick={() => { if (confirm(`Delete ${i.name} (${bytes(i.bytes)}) from ${c.label.toLowerCase()}?`)) void s.remove(c.category, i.id, i.name); }}>
                            Delete
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {c.items.length > 1 && (
                <button type="button" disabled={busy || (training !== 'idle' && c.category !== 'adapters')} aria-label={`Delete all ${c.label.toLowerCase()} (${bytes(c.bytes)})`}
                  onClick={() => { if (confirm(`Delete all ${c.label.toLowerCase()} (${bytes(c.bytes)})?`)) void s.remove(c.category, undefined, `all ${c.label.toLowerCase()}`); }}>
                  Delete all {c.label.toLowerCase()}
                </button>
              )}
            </section>
          ))}
        </>
      )}
    </section>
  );
}
