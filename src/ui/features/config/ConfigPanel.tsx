/** Every knob of a run, each labelled and explained in one line, with the estimate beside it. */
import { ConfigCheck, ConfigNumber, ConfigSelect } from '../../components/fields';
import { useRunConfig, useValidatedConfig } from '../../stores/run-config';
import { useSession } from '../../stores/session';
import { EstimateBox } from './EstimateBox';
import { RankPatternEditor } from './RankPatternEditor';
import { TargetPicker } from './TargetPicker';
import { TrainButton } from './TrainButton';
import { useLiveEstimate } from './estimate-store';

const PRECISIONS = [['nf4', 'NF4 4-bit (QLoRA)'], ['int8', 'int8'], ['f16', 'f16'], ['bf16', 'bf16'], ['f32', 'f32']] as const;
const SCHEDULES = [['constant', 'constant'], ['cosine', 'cosine'], ['warmup-cosine', 'warmup + cosine'], ['linear', 'warmup + linear decay']] as const;

export function ConfigPanel() {
  useLiveEstimate();
  const draft = useRunConfig((s) => s.draft);
  const set = useRunConfig((s) => s.set);
  const reset = useRunConfig((s) => s.reset);
  const { errors } = useValidatedConfig();
  const model = useSession((s) => s.model);
  const continueFrom = useSession((s) => s.continueFrom);
  const continueTraining = useSession((s) => s.continueTraining);
  const rank = Number(draft.rank);
  const bySteps = draft.maxSteps !== undefined;
  return (
    <div className="config-layout">
      <form className="config-form" aria-label="Run configuration" onSubmit={(e) => e.preventDefault()}>
        {continueFrom && (
          <p className="banner">
            Continuing from adapter <b>{continueFrom.name}</b>: rank, alpha and targets must stay as the adapter has them.{' '}
            <button type="button" className="link" onClick={() => continueTraining(null)}>Start fresh instead</button>
          </p>
        )}
        <section aria-labelledby="sec-lora">
          <h3 id="sec-lora">LoRA</h3>
          <div className="grid">
            <ConfigNumber field="rank" label="Rank (r)" integer />
            <div>
              <ConfigNumber field="alpha" label="Alpha" />
              <button type="button" className="chip" onClick={() => set('alpha', 2 * rank)} disabled={!Number.isFinite(rank) || Number(draft.alpha) === 2 * rank}>
                alpha = 2 x rank ({Number.isFinite(rank) ? 2 * rank : '?'})
              </button>
            </div>
            <ConfigNumber field="dropout" label="LoRA dropout" />
            <ConfigCheck field="useRslora" label="rsLoRA scaling" />
          </div>
          <TargetPicker />
          <details>
            <summary>Per-layer rank (advanced)</summary>
            <RankPatternEditor layers={model?.config.numLayers ?? 0} />
          </details>
        </section>

        <section aria-labelledby="sec-base">
          <h3 id="sec-base">Base weights</h3>
          <div className="grid">
            <ConfigSelect field="basePrecision" label="Base precision" options={PRECISIONS} />
            {draft.basePrecision === 'nf4' || errors.doubleQuant ? <ConfigCheck field="doubleQuant" label="Double quantization" /> : <div />}
          </div>
        </section>

        <section aria-labelledby="sec-opt">
          <h3 id="sec-opt">Optimizer</h3>
          <div className="grid">
            <ConfigSelect field="optimizer" label="Optimizer" options={[['adamw', 'AdamW'], ['sgd', 'SGD']]} />
            <ConfigNumber field="learningRate" label="Learning rate" />
            {draft.optimizer === 'sgd' ? (
              <>
                <ConfigNumber field="momentum" label="Momentum" />
                <ConfigCheck field="nesterov" label="Nesterov" />
              </>
            ) : (
              <>
                <ConfigNumber field={['betas', 0]} label="Beta 1" help="AdamW's first-moment decay (0.9 typical)." />
                <ConfigNumber field={['betas', 1]} label="Beta 2" help="AdamW's second-moment decay (0.999 typical; 0.95 for short runs)." />
                <ConfigNumber field="eps" label="Epsilon" />
              </>
            )}
            <ConfigNumber field="weightDecay" label="Weight decay" />
          </div>
        </section>

        <section aria-labelledby="sec-sched">
          <h3 id="sec-sched">Schedule and length</h3>
          <div className="grid">
            <ConfigSelect field="schedule" label="LR schedule" options={SCHEDULES} />
            <ConfigNumber field="warmupSteps" label="Warmup steps" integer />
            <ConfigNumber field="minLrRatio" label="Final LR ratio" />
            <fieldset className="field">
              <legend>Run length</legend>
              <label className="check-label"><input type="radio" name="length" checked={!bySteps} onChange={() => set('maxSteps', undefined)} /> epochs</label>
              <label className="check-label"><input type="radio" name="length" checked={bySteps} onChange={() => set('maxSteps', 100)} /> steps</label>
            </fieldset>
            {bySteps ? <ConfigNumber field="maxSteps" label="Max steps" integer /> : <ConfigNumber field="epochs" label="Epochs" />}
          </div>
        </section>

        <section aria-labelledby="sec-batch">
          <h3 id="sec-batch">Batches and sequences</h3>
          <div className="grid">
            <ConfigNumber field="microBatch" label="Micro-batch" integer />
            <ConfigNumber field="gradAccumulation" label="Gradient accumulation" integer />
            <ConfigNumber field="maxSeqLen" label="Max sequence length" integer />
            <ConfigNumber field="gradClip" label="Gradient clipping" />
            <ConfigCheck field="activationCheckpointing" label="Activation checkpointing" />
          </div>
        </section>

        <section aria-labelledby="sec-run">
          <h3 id="sec-run">Reproducibility and logging</h3>
          <div className="grid">
            <ConfigNumber field="seed" label="Seed" integer />
            <ConfigNumber field="evalEvery" label="Eval every (steps)" integer />
            <ConfigNumber field="logEvery" label="Log every (steps)" integer />
            <ConfigNumber field="vocabChunk" label="LM-head vocabulary chunk" integer />
            <ConfigNumber field="checkpointEverySteps" label="Checkpoint every (steps)" integer />
            {Number(draft.checkpointEverySteps ?? 0) === 0 && <ConfigNumber field="checkpointEveryMinutes" label="Checkpoint every (minutes)" />}
          </div>
        </section>
        <p><button type="button" className="link" onClick={reset}>Reset every field to the studio's defaults</button></p>
      </form>
      <aside className="config-side" aria-label="Estimate">
        <h2>Before you train</h2>
        <EstimateBox />
        <TrainButton />
      </aside>
    </div>
  );
}
