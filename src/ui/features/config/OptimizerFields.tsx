/** The optimizer select, one line on what the chosen one does, and its own hyper-parameters. */
import { ConfigCheck, ConfigNumber, ConfigSelect } from '../../components/fields';
import { useRunConfig } from '../../stores/run-config';

/** [value, label, what it does in one line] of every optimizer of RunConfig. */
export const OPTIMIZERS = [
  ['adamw', 'AdamW', 'Adapts each parameter\'s step from running averages of the gradient and its square: two states per trainable parameter.'],
  ['sgd', 'SGD', 'Plain gradient steps, with momentum if set: the least memory, and a larger learning rate (1e-2 or more).'],
  ['lion', 'Lion', 'Steps every parameter by the sign of a momentum mix: one state per parameter; take a learning rate 3-10x smaller than AdamW\'s.'],
  ['adafactor', 'Adafactor', 'Keeps AdamW\'s second moment as row and column averages and no first moment: a small fraction of AdamW\'s optimizer memory.'],
  ['sophia', 'Sophia', 'Divides momentum by a diagonal Hessian estimate (one more forward and backward every k steps) and clips each step: a learning rate like Lion\'s.'],
] as const;

const optimizerHelp = (v: unknown) => OPTIMIZERS.find(([k]) => k === v)?.[2];

export function OptimizerFields() {
  const draft = useRunConfig((s) => s.draft);
  const set = useRunConfig((s) => s.set);
  const opt = draft.optimizer;
  const firstMoment = draft.adafactorBeta1 !== null && draft.adafactorBeta1 !== undefined;
  return (
    <div className="grid">
      <ConfigSelect field="optimizer" options={OPTIMIZERS.map(([v, l]) => [v, l] as const)} help={optimizerHelp(opt)} />
      <ConfigNumber field="learningRate" />
      {opt === 'sgd' && (
        <>
          <ConfigNumber field="momentum" />
          <ConfigCheck field="nesterov" />
        </>
      )}
      {opt === 'adamw' && (
        <>
          <ConfigNumber field={['betas', 0]} help="AdamW's first-moment decay (0.9 typical)." />
          <ConfigNumber field={['betas', 1]} help="AdamW's second-moment decay (0.999 typical; 0.95 for short runs)." />
          <ConfigNumber field="eps" />
        </>
      )}
      {opt === 'lion' && (
        <>
          <ConfigNumber field={['lionBetas', 0]} help="How much of the new gradient the update's sign sees (0.9)." />
          <ConfigNumber field={['lionBetas', 1]} help="Decay of Lion's momentum (0.99)." />
        </>
      )}
      {opt === 'adafactor' && (
        <>
          <div className="field check">
            <input id="adafactor-first-moment" type="checkbox" checked={firstMoment} onChange={(e) => set('adafactorBeta1', e.target.checked ? 0.9 : null)} />
            <label htmlFor="adafactor-first-moment">First moment (beta1)</label>
            <p className="help">Off saves one state per parameter, the point of Adafactor; on smooths the steps like AdamW's m.</p>
          </div>
          {firstMoment && <ConfigNumber field="adafactorBeta1" />}
          <ConfigNumber field="adafactorDecayRate" />
          <ConfigNumber field="adafactorClipThreshold" />
          <ConfigCheck field="adafactorScaleParameter" />
          <ConfigNumber field={['adafactorEps', 0]} help="Added to the squared gradient (1e-30)." />
          {draft.adafactorScaleParameter === true && <ConfigNumber field={['adafactorEps', 1]} help="The smallest parameter scale (1e-3)." />}
        </>
      )}
      {opt === 'sophia' && (
        <>
          <ConfigNumber field={['sophiaBetas', 0]} help="Decay of Sophia's gradient average (0.965)." />
          <ConfigNumber field={['sophiaBetas', 1]} help="Decay of its Hessian average (0.99)." />
          <ConfigNumber field="sophiaRho" />
          <ConfigNumber field="sophiaHessianEvery" integer />
        </>
      )}
      <ConfigNumber field="weightDecay" />
    </div>
  );
}
