/** The fields a sweep varies: tick one, then type its values (numbers) or tick them (options). */
import { useId } from 'react';
import { FIELD_HELP } from '../../stores/field-help';
import { labelOf } from '../../stores/field-labels';
import { SWEEP_FIELDS, type BuiltSweep, type FieldSpec } from './axes';
import { useSweep } from './store';

function FieldRow({ spec, error }: { spec: FieldSpec; error?: string }) {
  const pick = useSweep((s) => s.picks[spec.field]);
  const setPick = useSweep((s) => s.pick);
  const alpha = useSweep((s) => s.alpha);
  const setAlpha = useSweep((s) => s.set);
  const id = useId();
  const label = labelOf(spec.field);
  const errorId = `${id}-error`;
  return (
    <fieldset className={`sweep-field${pick.on ? ' on' : ''}${error ? ' invalid' : ''}`} data-testid={`sweep-field-${spec.field}`}>
      <legend>
        <label className="check-label">
          <input type="checkbox" checked={pick.on} onChange={(e) => setPick(spec.field, { on: e.target.checked })} aria-describedby={pick.on ? `${id}-help` : undefined} />
          Vary {label}
        </label>
      </legend>
      {pick.on && <p id={`${id}-help`} className="help">{FIELD_HELP[spec.field]}</p>}
      {pick.on && spec.kind === 'numbers' && (
        <div className="field inline">
          <label htmlFor={id}>{label}: values to try</label>
          <input id={id} type="text" inputMode="decimal" value={pick.text} placeholder={spec.example} aria-invalid={!!error}
            aria-describedby={error ? errorId : undefined} onChange={(e) => setPick(spec.field, { text: e.target.value })} />
        </div>
      )}
      {pick.on && spec.kind === 'options' && (
        <div className="target-grid" role="group" aria-label={`${label}: values to try`}>
          {spec.options.map(([value, text]) => (
            <label key={value} className="check-label">
              <input type="checkbox" checked={pick.chosen.includes(value)}
                onChange={(e) => setPick(spec.field, { chosen: e.target.checked ? [...pick.chosen, value] : pick.chosen.filter((v) => v !== value) })} />
              {text}
            </label>
          ))}
        </div>
      )}
      {pick.on && spec.field === 'rank' && (
        <div role="radiogroup" aria-label="Alpha of each run" className="preset-row">
          <label className="check-label"><input type="radio" name={`${id}-alpha`} checked={alpha === 'tied'} onChange={() => setAlpha({ alpha: 'tied' })} /> alpha = 2 × rank</label>
          <label className="check-label"><input type="radio" name={`${id}-alpha`} checked={alpha === 'fixed'} onChange={() => setAlpha({ alpha: 'fixed' })} /> alpha fixed (Configure's)</label>
        </div>
      )}
      {error && <p id={errorId} className="field-error" role="alert">{error}</p>}
    </fieldset>
  );
}

export function AxesEditor({ built }: { built: BuiltSweep }) {
  return (
    <div className="sweep-axes">
      {SWEEP_FIELDS.map((spec) => <FieldRow key={spec.field} spec={spec} error={built.errors[spec.field]} />)}
    </div>
  );
}
