/**
 * Evaluate: the base model and/or an adapter (or a fully finetuned model) on a task, scores side by side. Tasks: the sets
 * bundled with the demo, a JSONL file of the person's, or the loaded dataset's validation split.
 */
import { useId } from 'react';
import { DEMO_TASKS, type AdapterMeta, type EvalReport, type EvalScore } from '../../../worker/api';
import { ErrorBox } from '../../components/ErrorBox';
import { FileDrop } from '../../components/FileDrop';
import { ProgressBar } from '../../components/ProgressBar';
import { useSession } from '../../stores/session';
import { useFullModels } from '../adapters/full-models-store';
import { FULL, useEvaluate } from './store';

type Metric = 'acc' | 'acc_norm' | 'exact_match' | 'perplexity' | 'mean_loss';

const METRICS: { key: Metric; label: string; higherIsBetter: boolean; format(x: number): string }[] = [
  { key: 'acc', label: 'Accuracy (acc)', higherIsBetter: true, format: (x) => x.toFixed(3) },
  { key: 'acc_norm', label: 'Accuracy by length in bytes (acc_norm)', higherIsBetter: true, format: (x) => x.toFixed(3) },
  { key: 'exact_match', label: 'Exact match', higherIsBetter: true, format: (x) => x.toFixed(3) },
  { key: 'perplexity', label: 'Perplexity', higherIsBetter: false, format: (x) => (x >= 1000 ? x.toExponential(2) : x.toFixed(2)) },
  { key: 'mean_loss', label: 'Mean loss (nats per token)', higherIsBetter: false, format: (x) => x.toFixed(4) },
];

/** Who a score is of: the base model, an adapter, or a fully finetuned model ("full"). */
const whose = (s: EvalScore) => (s.fullModelId ? 'full' : s.adapterId ? 'adapter' : 'base');
const HEADS = { base: () => 'base model', adapter: (s: EvalScore) => `adapter ${s.name}`, full: (s: EvalScore) => `finetuned model ${s.name}` };

const KIND_WORDS = { mc: 'multiple choice', exact: 'exact match', perplexity: 'perplexity' } as const;

/** The newest adapter: what a person most likely wants to score after a run. */
const newest = (adapters: AdapterMeta[]) => adapters.reduce<AdapterMeta | null>((a, b) => (!a || b.createdAt > a.createdAt ? b : a), null);

function Results({ report }: { report: EvalReport }) {
  const shown = METRICS.filter((m) => report.scores.some((s) => s[m.key] !== undefined));
  const best = (m: (typeof METRICS)[number]) => {
    const vals = report.scores.map((s) => s[m.key]).filter((v): v is number => v !== undefined && Number.isFinite(v));
    return vals.length > 1 && new Set(vals).size > 1 ? (m.higherIsBetter ? Math.max(...vals) : Math.min(...vals)) : undefined;
  };
  const cell = (s: EvalScore, m: (typeof METRICS)[number], b: number | undefined) => {
    const v = s[m.key];
    return v === undefined ? '–' : v === b ? <b>{m.format(v)}</b> : m.format(v);
  };
  return (
    <div className="table-scroll">
      <table className="dense" data-testid="eval-results">
        <caption className="muted small">{report.task}: {KIND_WORDS[report.kind]}, {report.n} {report.kind === 'perplexity' ? 'examples' : 'items'}</caption>
        <thead>
          <tr><th scope="col">Metric</th>{report.scores.map((s) => <th key={s.fullModelId ?? s.adapterId ?? 'base'} scope="col">{HEADS[whose(s)](s)}</th>)}</tr>
        </thead>
        <tbody>
          {shown.map((m) => {
            const b = best(m);
            return (
              <tr key={m.key}>
                <th scope="row">{m.label}</th>
                {report.scores.map((s, i) => <td key={i} data-testid={`eval-${m.key}-${whose(s)}`}>{cell(s, m, b)}</td>)}
              </tr>
            );
          })}
          <tr><th scope="row">n</th>{report.scores.map((s, i) => <td key={i} data-testid={`eval-n-${whose(s)}`}>{s.n}</td>)}</tr>
          <tr><th scope="row">Time</th>{report.scores.map((s, i) => <td key={i}>{s.seconds.toFixed(1)} s</td>)}</tr>
        </tbody>
      </table>
    </div>
  );
}

export function EvaluatePanel({ adapters }: { adapters: AdapterMeta[] }) {
  const ev = useEvaluate();
  const fullModels = useFullModels((s) => s.models);
  const model = useSession((s) => s.model);
  const dataset = useSession((s) => s.dataset);
  const training = useSession((s) => s.training);
  const ids = { task: useId(), adapter: useId(), tokens: useId() };
  const adapterId = ev.adapterId ?? newest(adapters)?.id ?? '';
  const exactTask = ev.task === 'upload' || DEMO_TASKS.some((t) => t.file === ev.task && t.kind === 'exact');
  const nothing = !ev.base && !adapterId;
  const blocked = !model ? 'Load a base model first (Model & data).' : training !== 'idle' ? 'A run is training: evaluate once it has ended.' : nothing ? 'Choose the base model, an adapter, or both.' : null;
  return (
    <section aria-labelledby="eval-title" className="evaluate" data-testid="evaluate-panel">
      <h3 id="eval-title">Evaluate on a task</h3>
      <p className="help">
        Scores the base model and an adapter side by side: multiple choice by the log-likelihood of each choice (acc; acc_norm divides by the choice's length in bytes),
        exact match of greedy answers, or the perplexity of the loaded dataset's validation split.
      </p>
      <div className="grid">
        <div className="field">
          <label htmlFor={ids.task}>Task</label>
          <select id={ids.task} value={ev.task} onChange={(e) => ev.set({ task: e.target.value })} disabled={ev.running}>
            {DEMO_TASKS.map((t) => <option key={t.file} value={t.file}>{t.title} ({t.file})</option>)}
            <option value="validation" disabled={!dataset || dataset.validation === 0}>Validation split of the loaded dataset (perplexity)</option>
            <option value="upload">A task file of yours (JSONL)…</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.adapter}>Adapter to evaluate</label>
          <select id={ids.adapter} value={adapterId} onChange={(e) => ev.set({ adapterId: e.target.value })} disabled={ev.running}>
            <option value="">none (base model only)</option>
            {adapters.map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
            {fullModels.length > 0 && (
              <optgroup label="Fully finetuned models">
                {fullModels.map((m) => <option key={m.id} value={FULL + m.id}>{m.name}</option>)}
              </optgroup>
            )}
          </select>
        </div>
        <div className="field check">
          <input id={`${ids.adapter}-base`} type="checkbox" checked={ev.base} onChange={(e) => ev.set({ base: e.target.checked })} disabled={ev.running} />
          <label htmlFor={`${ids.adapter}-base`}>Base model too (the reference)</label>
        </div>
        {exactTask && (
          <>
            <div className="field">
              <label htmlFor={ids.tokens}>New tokens per answer (exact match)</label>
              <input id={ids.tokens} type="number" min={1} max={1024} value={ev.maxNewTokens} disabled={ev.running}
                onChange={(e) => ev.set({ maxNewTokens: Math.max(1, Math.min(1024, Math.round(Number(e.target.value) || 1))) })} />
            </div>
            <div className="field">
              <span className="label">Compare answers ignoring</span>
              <label className="check-label"><input type="checkbox" checked={ev.normalizeWhitespace} onChange={(e) => ev.set({ normalizeWhitespace: e.target.checked })} disabled={ev.running} /> extra whitespace</label>
              <label className="check-label"><input type="checkbox" checked={ev.normalizeCase} onChange={(e) => ev.set({ normalizeCase: e.target.checked })} disabled={ev.running} /> letter case</label>
            </div>
          </>
        )}
      </div>
      {ev.task === 'upload' && (
        <FileDrop label="Task file" accept=".jsonl,.json,.txt" disabled={ev.running} onFiles={(f) => ev.set({ upload: f[0] })}>
          <span className="muted small" data-testid="eval-upload-name">{ev.upload ? `chosen: ${ev.upload.name}` : 'one JSON object a line: {"context", "choices", "answer"} or {"prompt", "answer"}'}</span>
        </FileDrop>
      )}
      <div className="row">
        <button type="button" onClick={() => void ev.run(adapterId)} disabled={ev.running || blocked !== null}>{ev.running ? 'Evaluating…' : 'Evaluate'}</button>
        {blocked && !ev.running && <span className="muted small">{blocked}</span>}
      </div>
      {ev.running && (
        <ProgressBar label={ev.progress ? `Evaluating: ${ev.progress.name} (${ev.progress.index + 1} of ${ev.progress.count})` : "Reading the task"}
          value={ev.progress && ev.progress.total > 0 ? ev.progress.done / ev.progress.total : null}
          detail={ev.progress ? `${ev.progress.done} / ${ev.progress.total}` : undefined} />
      )}
      <ErrorBox error={ev.error} testId="eval-error" />
      {ev.report && <Results report={ev.report} />}
    </section>
  );
}
