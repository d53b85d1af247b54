/** "Last time: <repo> and <dataset>. Load them again": what the person loaded before a reload, in one click. */
import { ErrorBox } from '../../components/ErrorBox';
import { bytes } from '../../components/format';
import { useSession } from '../../stores/session';
import { useDataPanel } from '../data/store';
import { useLastLoaded } from './last-loaded';
import { useModelPanel } from './store';

export function LastLoadedOffer() {
  const { last, loading, error, load } = useLastLoaded();
  const model = useSession((st) => st.model);
  const dataset = useSession((st) => st.dataset);
  const training = useSession((st) => st.training);
  const modelLoading = useModelPanel((st) => st.loading);
  const dataLoading = useDataPanel((st) => st.loading);
  const busy = loading || modelLoading || dataLoading || training !== 'idle';
  const m = last?.model?.canLoad && last.model.name !== model?.name ? last.model : null;
  const d = last?.dataset?.kept && (m || last.dataset.name !== dataset?.name) ? last.dataset : null;
  if (!m && !d) return <ErrorBox error={error} testId="last-loaded-error" />;
  const where = m?.kind === 'hub' ? (m.cached ? "Hugging Face, in this browser's cache" : 'Hugging Face, downloads again') : m?.kind === 'url' ? m.base : 'bundled';
  return (
    <div className="banner" role="region" aria-label="Loaded last time" data-testid="last-loaded">
      <p>
        Last time you loaded {m && <><b>{m.name}</b> <span className="muted">({where})</span></>}
        {m && d && ' and '}{d && <><b>{d.name}</b> <span className="muted">({bytes(d.bytes)})</span></>}.{' '}
        <button type="button" className="primary" disabled={busy} onClick={() => void load()}>
          {loading ? 'Loading…' : m && d ? 'Load them again' : 'Load it again'}
        </button>
      </p>
      <ErrorBox error={error} testId="last-loaded-error" />
    </div>
  );
}
