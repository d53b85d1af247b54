/** Before a run: trainable parameters, memory by category against the GPU's limits, tokens and steps, and the advice. */
import { CATEGORIES } from '../../../core/memory-categories';
import { bytes, count, percent } from '../../components/format';
import { CATEGORY_COLORS } from '../../components/colors';
import { useValidatedConfig } from '../../stores/run-config';
import { useSession } from '../../stores/session';
import { useEstimate } from '../../stores/estimate';
import { labelOf } from '../../stores/field-labels';
import { guidance, memoryFixes } from './guidance';

export function EstimateBox() {
  const { estimate, error, pending } = useEstimate();
  const { config, errors, adjusted } = useValidatedConfig();
  const model = useSession((s) => s.model);
  const dataset = useSession((s) => s.dataset);
  if (!model) return <p className="muted">Load a base model to see what this run costs.</p>;
  // An estimate of an earlier config would mislead: nothing is shown until every field is valid.
  if (!config) {
    const fields = [...new Set(Object.keys(errors).map(labelOf))];
    return <p className="muted" data-testid="estimate" role="status">The estimate appears once every field is valid (fix: {fields.join(', ')}).</p>;
  }
  const notes = [...adjusted.map((a) => ({ ...a, level: 'info' as const })), ...guidance(config, estimate, dataset, model.config.maxPositionEmbeddings)];
  const e = estimate;
  const cap = e ? Math.min(e.limits.maxBufferSize, e.limits.maxStorageBufferBindingSize) : 0;
  return (
    <div className="estimate" aria-live="polite" aria-busy={pending} data-testid="estimate">
      {error && <p className="field-error" role="alert">{error}</p>}
      {e && (
        <>
          <dl className="kv">
            <dt>Trainable parameters</dt>
            <dd data-testid="trainable-params">{count(e.trainableParams)} <span className="muted">({percent(e.trainablePercent, 3)} of {count(e.baseParams)})</span></dd>
            <dt>Tokens per epoch</dt>
            <dd>{e.examples ? <>{count(e.tokensPerEpoch)} <span className="muted">({count(e.lossTokensPerEpoch)} in the loss)</span></> : <span className="muted">load a dataset</span>}</dd>
            <dt>Optimizer steps</dt>
            <dd data-testid="steps">{e.steps ? count(e.steps) : '–'} {config && <span className="muted">(effective batch {config.microBatch * config.gradAccumulation})</span>}</dd>
          </dl>
          <h3>GPU memory <span className="muted">{bytes(e.memory.total)}</span></h3>
          <div className="mem-bar" role="img" aria-label={`Memory estimate: ${CATEGORIES.map((c) => `${c} ${bytes(e.memory.byCategory[c])}`).join(', ')}`}>
            {CATEGORIES.map((c) => (
              <span key={c} style={{ flexGrow: e.memory.byCategory[c], background: CATEGORY_COLORS[c] }} title={`${c}: ${bytes(e.memory.byCategory[c])}`} />
            ))}
          </div>
          <ul className="legend">
            {CATEGORIES.map((c) => (
              <li key={c}><i style={{ background: CATEGORY_COLORS[c] }} />{c}{c === 'activations' && config.activationPrecision === 'bf16' ? ' (bf16)' : ''} {bytes(e.memory.byCategory[c])}</li>
            ))}
          </ul>
          <p className="muted small">
            Largest buffer {bytes(e.memory.largest.bytes)} of the {bytes(cap)} this GPU allows per buffer ({percent((100 * e.memory.largest.bytes) / cap, 0)}).
            Browsers do not report total GPU memory; the plan is exact for what the run allocates.
          </p>
          {e.problems.length > 0 && config && (
            <div className="error-box" role="alert">
              {e.problems.join(' ')} {memoryFixes(config).length > 0 && <>Options: {memoryFixes(config).join('; ')}.</>}
            </div>
          )}
        </>
      )}
      {notes.length > 0 && (
        <ul className="notes" aria-label="Advice">
          {notes.map((n, i) => <li key={i} className={n.level}><b>{labelOf(n.field)}</b>: {n.text}</li>)}
        </ul>
      )}
    </div>
  );
}
