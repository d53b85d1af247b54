/**
 * Per-module rank and alpha overrides (PEFT's rank_pattern / alpha_pattern): a pattern is a module
 * name ("q_proj"), a path ("model.layers.0.self_attn.q_proj") or a regex ("layers\.[0-3]\..*").
 */
import { useId, useState } from 'react';
import { useRunConfig, useValidatedConfig } from '../../stores/run-config';
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
  const update = (field: 'rankPattern' | 'alphaPattern', key: string, v: number | string | undefined) => {
    const cur = { ...((draft[field] ?? {}) as Record<string, unknown>) };
    if (v === undefined || v === '') delete cur[key];
    else cur[key] = v;
    set(field, cur);
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
            {keys.map((k) => (
              <tr key={k}>
                <td><code>{k}</code></td>
                <td><NumberInput id={`rank-${k}`} aria-label={`Rank for ${k}`} integer value={ranks[k] ?? ''} onChange={(v) => update('rankPattern', k, v)} /></td>
                <td><NumberInput id={`alpha-${k}`} aria-label={`Alpha for ${k}`} value={alphas[k] ?? ''} onChange={(v) => update('alphaPattern', k, v)} /></td>
                <td><button type="button" className="link" onClick={() => { update('rankPattern', k, undefined); update('alphaPattern', k, undefined); }} aria-label={`Remove override ${k}`}>Remove</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(errors.rankPattern || errors.alphaPattern) && <p className="field-error" role="alert">{errors.rankPattern ?? errors.alphaPattern}</p>}
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
