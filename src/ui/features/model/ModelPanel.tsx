/** Pick the base model: the bundled demo, a Hugging Face repo, or files on disk; progress per file. */
import { useEffect, useId } from 'react';
import { ErrorBox } from '../../components/ErrorBox';
import { FileDrop } from '../../components/FileDrop';
import { ProgressBar } from '../../components/ProgressBar';
import { bytes, count, transfer } from '../../components/format';
import { useLiveRun } from '../../stores/live-run';
import { useSession } from '../../stores/session';
import { useModelPanel, type SourceKind } from './store';
import { SupportedModels } from './SupportedModels';
import { LastLoadedOffer } from './LastLoadedOffer';
import { useLastLoaded } from './last-loaded';

const SOURCES: [SourceKind, string][] = [['demo', 'Bundled demo'], ['hub', 'Hugging Face repo'], ['files', 'Files on disk']];

export function ModelPanel() {
  const s = useModelPanel();
  const model = useSession((st) => st.model);
  const training = useSession((st) => st.training);
  // A run's first phase streams the weights to the GPU (quantized there): shown here with the files.
  const upload = useLiveRun((st) => (st.phase?.phase === 'loading-weights' ? st.phase : null));
  const repoId = useId();
  const tokenId = useId();
  const endpointId = useId();
  const revisionId = useId();
  // The demo is preselected and loads by itself the first time (not kept as "loaded last": what the
  // person loaded before the reload is offered instead, its Hub fields filled in).
  useEffect(() => {
    if (!useSession.getState().model && !useModelPanel.getState().loading) void useModelPanel.getState().load({ kind: 'demo' }, { remember: false });
    void useLastLoaded.getState().fetch();
  }, []);
  const busy = s.loading || training !== 'idle';
  return (
    <section className="panel" aria-labelledby="model-title">
      <h2 id="model-title">Base model</h2>
      <LastLoadedOffer />
      <div role="radiogroup" aria-label="Model source" className="segmented">
        {SOURCES.map(([k, label]) => (
          <label key={k} className={s.kind === k ? 'on' : ''}>
            <input type="radio" name="model-source" value={k} checked={s.kind === k} onChange={() => s.set({ kind: k })} /> {label}
          </label>
        ))}
      </div>
      {s.kind === 'demo' && <p className="help">A small Llama-style model trained for this studio, with its tokenizer: ready to finetune in a minute or two.</p>}
      {s.kind === 'hub' && (
        <div className="grid">
          <div className="field">
            <label htmlFor={repoId}>Repo id</label>
            <input id={repoId} value={s.repo} placeholder="HuggingFaceTB/SmolLM2-135M" onChange={(e) => s.set({ repo: e.target.value })} aria-describedby={`${repoId}-help`} />
            <p id={`${repoId}-help`} className="help">config.json, *.safetensors and tokenizer.json are downloaded into this browser.</p>
          </div>
          <div className="field">
            <label htmlFor={tokenId}>Access token (gated models)</label>
            <input id={tokenId} type="password" autoComplete="off" value={s.token} placeholder="hf_…" onChange={(e) => s.set({ token: e.target.value })} />
            <label className="check-label small">
              <input type="checkbox" checked={s.rememberToken} onChange={(e) => s.set({ rememberToken: e.target.checked })} /> Remember the token in this browser
            </label>
            <p className="help">Off: the token is used for this load only and never stored.</p>
          </div>
          <div className="field">
            <label htmlFor={revisionId}>Revision</label>
            <input id={revisionId} value={s.revision} placeholder="main" onChange={(e) => s.set({ revision: e.target.value })} aria-describedby={`${revisionId}-help`} />
            <p id={`${revisionId}-help`} className="help">A branch, tag or commit of the repo.</p>
          </div>
          <div className="field">
            <label htmlFor={endpointId}>Hub address</label>
            <input id={endpointId} value={s.endpoint} placeholder="https://huggingface.co" onChange={(e) => s.set({ endpoint: e.target.value })} aria-describedby={`${endpointId}-help`} />
            <p id={`${endpointId}-help`} className="help">A mirror or a local stand-in (HF_ENDPOINT). Downloads are cached in this browser: the second load needs no network.</p>
          </div>
        </div>
      )}
      {s.kind === 'files' && (
        <FileDrop label="Model files" multiple folder disabled={busy} onFiles={(files) => s.set({ files })}>
          {s.files.length > 0 && <span>{s.files.length} files ({bytes(s.files.reduce((n, f) => n + f.size, 0))})</span>}
        </FileDrop>
      )}
      {s.kind !== 'demo' && <SupportedModels />}
      <button type="button" className="primary" disabled={busy || (s.kind === 'hub' && !s.repo.trim()) || (s.kind === 'files' && !s.files.length)} onClick={() => void s.load()}>
        {s.loading ? 'Loading…' : 'Load model'}
      </button>
      {Object.values(s.progress).length > 0 && (
        <div className="progress-list" aria-label="Model files">
          {Object.values(s.progress).map((p) => p.deferred ? (
            <p key={p.file} className="small"><span>{p.file}</span> <span className="muted">{p.total !== null ? bytes(p.total) : ''} · read when a run or the playground uploads it to the GPU</span></p>
          ) : (
            <ProgressBar key={p.file} label={p.file} value={p.total ? p.loaded / p.total : p.done ? 1 : null}
              detail={s.rates[p.file] && !p.done ? transfer(s.rates[p.file]) : `${bytes(p.loaded)}${p.total ? ` / ${bytes(p.total)}` : ''}${p.cached ? ' · from the cache' : ''}`} />
          ))}
        </div>
      )}
      {upload && (
        <div className="progress-upload" aria-label="Upload to the GPU" data-testid="model-upload">
          <ProgressBar label={upload.message} value={upload.progress ?? null} detail={upload.transfer && transfer(upload.transfer)} />
        </div>
      )}
      <ErrorBox error={s.error} testId="model-error" />
      {model && (
        <dl className="kv" data-testid="model-info">
          <dt>Loaded</dt><dd><b>{model.name}</b> <span className="muted">({model.config.modelType})</span></dd>
          <dt>Parameters</dt><dd>{count(model.baseParams)} <span className="muted">({bytes(model.weightBytes)} on disk)</span></dd>
          <dt>Shape</dt><dd>{model.config.numLayers} layers · hidden {model.config.hiddenSize} · {model.config.numHeads} heads ({model.config.numKvHeads} kv) · vocab {count(model.config.vocabSize)}</dd>
          <dt>Context</dt><dd>{count(model.config.maxPositionEmbeddings)} positions</dd>
        </dl>
      )}
    </section>
  );
}
