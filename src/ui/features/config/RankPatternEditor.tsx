/**
 * Per-module rank and alpha overrides (PEFT's rank_pattern / alpha_pattern): a pattern is a module
 * name ("q_proj"), a path ("model.layers.0.self_attn.q_proj") or a regex ("layers\.[0-3]\..*").
 */
import { useId, useMemo, useState } from 'react';
import type { Target } from '../../../config/lora-targets';
import { useRunConfig, useValidatedConfig } from '../../stores/run-config';
import { adaptedPaths, patternMatches, patternProblem } from '../../stores/lora-patterns';
import { NumberInput } from '../../components/fields';

type Pattern = Record<string, number>;

export function RankPatternEditor({ layers }: { layers: number }) {
  const draft = useRunConfig((s) => s.draft);
  const set = useRunConfig((s) => s.set);
  const errors = useValidatedConfig().errors;
  const ranks = (draft.rankPattern ?? {}) as Pattern;
  const alphas = (draft.alphaPattern ?? {}) as Pattern;
  const [pattern, setPattern] = useState('');
  const patternId = useId();
  const keys = [...new Set([...Object.keys(ranks), ...Object.keys(alphas)])];
  const targets = (draft.targets ?? []) as Target[];
  const paths = useMemo(() => adaptedPaths(layers, targets), [layers, targets]);
  /** Per pattern: why it cannot be used (error), or that it changes nothing (warning), or how many modules it reaches. */
  const status = (k: string): { level: 'error' | 'warn' | 'ok'; text: string } => {
    const problem = patternProblem(k);
    if (problem) return { level: 'error', text: problem };
    if (!layers) return { level: 'ok', text: '' };
    const n = patternMatches(k, paths);
    return n === 0
      ? { level: 'warn', text: `matches none of the ${paths.length} adapted modules (e.g. ${paths[0] ?? 'none'}), so it changes nothing` }
      : { level: 'ok', text: `${n} module${n === 1 ? '' : 's'}` };
  };
  const update = (field: 'rankPattern' | 'alphaPattern', key: string, v: number | string | undefined) => {
    const cur = { ...((draft[field] ?? {}) as Record<string, unknown>) };
    if (v === undefined || v === '') delete cur[key];
    else cur[key] = v;
    set(field, cur);
  };
  const remove = (key: string) => {
    const drop = (field: 'rankPattern' | 'alphaPattern') => Object.fromEntries(Object.entries((draft[field] ?? {}) as Record<string, unknown>).filter(([k]) => k !== key));
    useRunConfig.getState().patch({ rankPattern: drop('rankPattern'), alphaPattern: drop('alphaPattern') });
  };
  const add = () => {
    const key = pattern.trim();
    if (!key) return;
    update('rankPattern', key, Number(draft.rank) * 2 || 16);
    setPattern('');
  };
  return (
    <div className="pattern-editor">
      <p className="help">Overrides for some modules; others keep the rank and alpha above. Matched like PEFT: the end of the module path, or a regex.</p>
      {keys.length > 0 && (
        <table className="dense">
          <thead><tr><th scope="col">Pattern</th><th scope="col">Rank</th><th scope="col">Alpha</th><th /></tr></thead>
          <tbody>
            {keys.map((k) => {
              const st = status(k);
              return (
              <tr key={k} data-testid="pattern-row">
                <td><code>{k}</code>
                  {st.level === 'error' && <p className="field-error" role="alert">{st.text}</p>}
                  {st.level === 'warn' && <p className="note warn" role="status" data-testid="pattern-warning">Warning: this pattern {st.text}.</p>}
                  {st.level === 'ok' && st.text && <div className="muted small">{st.text}</div>}
                </td>
                <td><NumberInput id={`rank-${k}`} aria-label={`Rank for ${k}`} integer value={ranks[k] ?? ''} onChange={(v) => update('rankPattern', k, v)} /></td>
                <td><NumberInput id={`alpha-${k}`} aria-label={`Alpha for ${k}`} value={alphas[k] ?? ''} onChange={(v) => update('alphaPattern', k, v)} /></td>
                <td><button type="button" className="link" onClick={() => { remove(k); }} aria-label={`Remove override ${k}`}>Remove</button></td>
              </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {(errors.rankPattern || errors.alphaPattern) && !keys.some((k) => patternProblem(k)) && <p className="field-error" role="alert">{errors.rankPattern ?? errors.alphaPattern}</p>}
      <div className="row">
        <label htmlFor={patternId}>Module pattern</label>
        <input id={patternId} list={`${patternId}-list`} value={pattern} placeholder="e.g. layers\.0\..* or q_proj" onChange={(e) => setPattern(e.target.value)}
          onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); add(); } }} />
        <datalist id={`${patternId}-list`}>
          {Array.from({ length: Math.min(layers, 64) }, (_, i) => <option key={i} value={`layers\\.${i}\\..*`}>layer {i}</option>)}
          {['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'].map((m) => <option key={m} value={m} />)}
        </datalist>
        <button type="button" onClick={add} disabled={!pattern.trim()}>Add override</button>
      </div>
    </div>
  );
}
