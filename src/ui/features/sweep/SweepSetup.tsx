/**
 * Setting up a sweep: what it starts from (the Configure draft), the fields it varies, the tasks
 * every run is scored on, then how many runs that makes and the memory of the largest, and Start.
 */
import { useId, useMemo } from 'react';
import { DEMO_TASKS } from '../../../worker/api';
import { bytes, count } from '../../components/format';
import { useValidatedConfig } from '../../stores/run-config';
import { useSession } from '../../stores/session';
import { labelOf } from '../../stores/field-labels';
import { AxesEditor } from './AxesEditor';
import { axesWords } from '../../../train/sweep/grid';
import { axesCount, buildSweep } from './axes';
import { useSweepPlan } from './plan';
import { useSweep } from './store';

function BaseSummary() {
  const { config, errors } = useValidatedConfig();
  const setTab = useSession((s) => s.setTab);
  const edit = <button type="button" className="link" onClick={() => setTab('configure')}>Edit them in Configure</button>;
  if (!config) return <p className="field-error" role="alert">Fix the fields marked in Configure first ({Object.keys(errors).map(labelOf).join(', ')}). {edit}</p>;
  const length = config.maxSteps !== undefined ? `${config.maxSteps} steps` : `${config.epochs} epoch${config.epochs === 1 ? '' : 's'}`;
  return (
    <p data-testid="sweep-base">
      Every run starts from the Configure settings: rank {config.rank}, alpha {config.alpha}, {config.targets.join(' + ')}, {config.basePrecision} base,{' '}
      {config.optimizer} at learning rate {config.learningRate}, {config.schedule}, {length}, seed {config.seed}. {edit}
    </p>
  );
}

function Tasks() {
  const tasks = useSweep((s) => s.tasks);
  const set = useSweep((s) => s.set);
  const dataset = useSession((s) => s.dataset);
  const toggle = (t: string, on: boolean) => set({ tasks: on ? [...tasks, t] : tasks.filter((x) => x !== t) });
  return (
    <fieldset className="sweep-tasks">
      <legend>Score every run on</legend>
      <p className="help">Each run's adapter is evaluated on these once it is trained; their scores become columns of the table. The validation loss is always measured (set Eval every in Configure).</p>
      {DEMO_TASKS.map((t) => (
        <label key={t.file} className="check-label">
          <input type="checkbox" checked={tasks.includes(t.file)} onChange={(e) => toggle(t.file, e.target.checked)} /> {t.title} <code>{t.file}</code>
        </label>
      ))}
      <label className="check-label">
        <input type="checkbox" checked={tasks.includes('validation')} disabled={!dataset?.validation} onChange={(e) => toggle('validation', e.target.checked)} />
        Perplexity of the validation split{dataset && !dataset.validation ? ' (the dataset has no validation share)' : ''}
      </label>
    </fieldset>
  );
}

/** "60 steps", or "30–60 steps" when the runs differ. */
function stepsWords(steps: number[]): string {
  const lo = Math.min(...steps);
  const hi = Math.max(...steps);
  return lo === hi ? `${count(lo)} steps` : `${count(lo)}–${count(hi)} steps`;
}

export function SweepSetup() {
  const { config } = useValidatedConfig();
  const picks = useSweep((s) => s.picks);
  const alpha = useSweep((s) => s.alpha);
  const tasks = useSweep((s) => s.tasks);
  const name = useSweep((s) => s.name);
  const { plan, planError, live, start, set, sweeps } = useSweep();
  const model = useSession((s) => s.model);
  const dataset = useSession((s) => s.dataset);
  const training = useSession((s) => s.training);
  const built = useMemo(() => (config ? buildSweep(config, { picks, alpha }) : null), [config, picks, alpha]);
  useSweepPlan(built ?? { request: null, count: 0, errors: {}, notes: [] });
  const nameId = useId();
  const whyId = useId();
  const largest = plan?.runs[plan.largest];
  const unfit = plan?.runs.findIndex((r) => r.problems.length > 0) ?? -1;
  const blocker = !model ? 'Load a base model first (Model & data).' : !dataset ? 'Load a dataset first (Model & data).'
    : !config ? 'Fix the Configure settings first.' : !built?.request ? (built && Object.keys(built.errors).length ? 'Fix the values marked above.' : 'Tick at least one field to vary.')
    : planError ? planError : !plan ? 'Planning the runs…' : unfit >= 0 ? `Run ${unfit + 1} (${plan.runs[unfit].label}) does not fit this GPU: ${plan.runs[unfit].problems[0]}`
    : training !== 'idle' || live ? 'A run is training.' : null;
  const onStart = () => {
    if (!built?.request) return;
    const taskSources = tasks.map((t) => (t === 'validation' ? { kind: 'validation' as const } : { kind: 'bundled' as const, file: t }));
    void start({ ...built.request, tasks: taskSources, ...(name.trim() ? { name: name.trim() } : {}) });
  };
  return (
    <section aria-labelledby="sweep-setup-title" className="sweep-setup">
      <h3 id="sweep-setup-title">New sweep</h3>
      <BaseSummary />
      {built && <AxesEditor built={built} />}
      <Tasks />
      {built?.notes.map((n) => <p key={n} className="muted small">{n}</p>)}
      <div className="sweep-start">
        <p data-testid="sweep-summary" role="status" aria-live="polite">
          {built?.request ? (
            <>
              <b>{built.count} {built.count === 1 ? 'run' : 'runs'}</b> ({axesCount(built.request.axes)})
              {plan && largest && <>, {stepsWords(plan.runs.map((r) => r.steps))} each. The largest, {largest.label}, needs <b data-testid="sweep-largest-memory">{bytes(largest.memoryBytes)}</b> of GPU memory ({count(largest.trainableParams)} trainable parameters).</>}
            </>
          ) : 'No sweep yet: tick the fields to vary.'}
        </p>
        <div className="field inline">
          <label htmlFor={nameId}>Sweep name</label>
          <input id={nameId} type="text" value={name} placeholder={built?.request ? `Sweep ${sweeps.length + 1}: ${axesWords(built.request.axes.map(([f]) => f))}` : 'Sweep'} onChange={(e) => set({ name: e.target.value })} />
        </div>
        <button type="button" className="primary" disabled={blocker !== null} aria-describedby={whyId} onClick={onStart}>
          Start sweep{built?.request ? ` (${built.count} ${built.count === 1 ? 'run' : 'runs'})` : ''}
        </button>
        <p id={whyId} className="muted small" data-testid="sweep-why">{blocker ?? 'The runs train one after another in this tab; each is kept in Runs with its adapter in the library.'}</p>
      </div>
    </section>
  );
}
