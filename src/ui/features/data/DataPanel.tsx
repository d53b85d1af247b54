/** Pick a dataset: the demo, or a file (format detected); preview through the template; token lengths. */
import { useId } from 'react';
import { ErrorBox } from '../../components/ErrorBox';
import { FileDrop } from '../../components/FileDrop';
import { count, percent } from '../../components/format';
import { useRunConfig } from '../../stores/run-config';
import { useSession } from '../../stores/session';
import { TEMPLATE_CHOICES, type TemplateChoice } from '../../../worker/api';
import { DatasetPreview } from './DatasetPreview';
import { LengthHistogram } from './LengthHistogram';
import { useDataPanel } from './store';

const TEMPLATE_LABELS: Record<TemplateChoice, string> = { auto: 'auto (from the format)', alpaca: 'Alpaca', chatml: 'ChatML', llama3: 'Llama 3', model: "model's own chat template", none: 'none (plain text)' };

export function DataPanel() {
  const s = useDataPanel();
  const model = useSession((st) => st.model);
  const dataset = useSession((st) => st.dataset);
  const training = useSession((st) => st.training);
  const maxSeqLen = Number(useRunConfig((st) => st.draft.maxSeqLen));
  const templateId = useId();
  const valId = useId();
  const colId = useId();
  const busy = s.loading || training !== 'idle' || !model;
  return (
    <section className="panel" aria-labelledby="data-title">
      <h2 id="data-title">Dataset</h2>
      <FileDrop label="Dataset file" accept=".json,.jsonl,.csv,.txt" disabled={busy} onFiles={(f) => void s.pick(f[0])}>
        {model?.source === 'demo' && <button type="button" className="link" disabled={busy} onClick={() => void s.loadDemo()}>Use the demo dataset</button>}
      </FileDrop>
      <p className="help">Alpaca (instruction / input / output) as JSON or JSONL, prompt / completion JSONL, chat JSONL, or pre-tokenized {'{"tokens": [...]}'} lines.</p>
      <ErrorBox error={s.error} testId="dataset-error" />
      {s.lengthFix && (
        <p className="row" data-testid="length-fix">
          <button type="button" className="primary" disabled={busy} onClick={() => void s.applyLengthFix()}>
            Use {s.lengthFix.needed} tokens and load {s.file?.name ?? 'the file'}
          </button>
          <span className="muted small">Sets Max sequence length (Configure) to {s.lengthFix.needed}; longer sequences take more memory and time per step.</span>
        </p>
      )}
      <div className="grid">
        <div className="field">
          <label htmlFor={templateId}>Prompt template</label>
          <select id={templateId} value={s.template} onChange={(e) => s.setOption({ template: e.target.value as never })} disabled={busy}>
            {TEMPLATE_CHOICES.map((t) => <option key={t} value={t}>{TEMPLATE_LABELS[t]}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor={valId}>Validation share</label>
          <select id={valId} value={String(s.validationFraction)} onChange={(e) => s.setOption({ validationFraction: Number(e.target.value) })} disabled={busy}>
            {[0, 0.05, 0.1, 0.2].map((v) => <option key={v} value={v}>{v === 0 ? 'none' : `${v * 100}%`}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor={colId}>Column mapping</label>
          <input id={colId} defaultValue={s.columns} placeholder="e.g. instruction=question, output=answer" disabled={busy} aria-describedby={`${colId}-help`}
            onBlur={(e) => s.setColumns(e.target.value.trim())} onKeyDown={(e) => { if (e.key === 'Enter') s.setColumns(e.currentTarget.value.trim()); }} />
          <p id={`${colId}-help`} className="help">For CSV files or other field names; applied when you leave the box.</p>
        </div>
        <label className="check-label">
          <input type="checkbox" checked={s.maskPrompt} onChange={(e) => s.setOption({ maskPrompt: e.target.checked })} disabled={busy} /> Train on responses only (mask the prompt)
        </label>
      </div>
      {s.loading && <p className="muted" role="status">Reading and tokenizing…</p>}
      {dataset && (
        <>
          <dl className="kv" data-testid="dataset-info">
            <dt>Loaded</dt><dd><b>{dataset.name}</b> <span className="muted">{dataset.format}, template {dataset.template}</span></dd>
            <dt>Examples</dt><dd>{count(dataset.examples)} <span className="muted">({count(dataset.train)} train, {count(dataset.validation)} validation)</span></dd>
            <dt>Tokens</dt><dd>{count(dataset.stats.tokens)} <span className="muted">· length min {dataset.stats.min} / mean {dataset.stats.mean.toFixed(0)} / p95 {dataset.stats.p95} / max {dataset.stats.max} · {percent(100 * dataset.stats.lossFraction, 0)} in the loss</span></dd>
          </dl>
          {dataset.warnings.map((w) => <p key={w} className="note warn">{w}</p>)}
          <LengthHistogram lengths={dataset.lengths} maxSeqLen={Number.isInteger(maxSeqLen) ? maxSeqLen : 128} />
          <DatasetPreview preview={dataset.preview} />
        </>
      )}
    </section>
  );
}
