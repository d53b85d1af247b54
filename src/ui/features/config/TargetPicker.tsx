/** The six LoRA target switches, their Hugging Face module names, and the two common presets. */
import { TARGET_MODULES, TARGETS, type Target } from '../../../config/lora-targets';
import { FIELD_HELP } from '../../stores/field-help';
import { useRunConfig, useValidatedConfig } from '../../stores/run-config';

const LABELS: Record<Target, string> = { query: 'Query', key: 'Key', value: 'Value', projection: 'Output projection', mlp: 'MLP', head: 'LM head' };
const PRESETS: [string, Target[]][] = [
  ['query + value', ['query', 'value']],
  ['all linear layers', ['query', 'key', 'value', 'projection', 'mlp']],
];

export function TargetPicker() {
  const targets = (useRunConfig((s) => s.draft.targets) as Target[] | undefined) ?? [];
  const set = useRunConfig((s) => s.set);
  const error = useValidatedConfig().errors.targets;
  const toggle = (t: Target, on: boolean) => set('targets', TARGETS.filter((x) => (x === t ? on : targets.includes(x))));
  return (
    <fieldset className={`targets${error ? ' invalid' : ''}`} aria-describedby="targets-help">
      <legend>LoRA targets</legend>
      <p id="targets-help" className="help">{FIELD_HELP.targets}</p>
      <div className="preset-row" role="group" aria-label="Target presets">
        {PRESETS.map(([name, list]) => (
          <button key={name} type="button" className="chip" aria-pressed={list.length === targets.length && list.every((t) => targets.includes(t))} onClick={() => set('targets', list)}>
            {name}
          </button>
        ))}
      </div>
      <div className="target-grid">
        {TARGETS.map((t) => (
          <label key={t} className="check-label">
            <input type="checkbox" checked={targets.includes(t)} onChange={(e) => toggle(t, e.target.checked)} />
            {LABELS[t]} <code>{TARGET_MODULES[t].join(', ')}</code>
          </label>
        ))}
      </div>
      {error && <p className="field-error" role="alert">{error}</p>}
    </fieldset>
  );
}
