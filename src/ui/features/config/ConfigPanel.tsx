/** Every knob of a run, each labelled and explained in one line, with the estimate beside it. */
import { useEffect, useState } from 'react';
import { ConfigCheck, ConfigNumber, ConfigSelect } from '../../components/fields';
import { TrainButton } from '../../components/TrainButton';
import { useLiveEstimate } from '../../stores/estimate';
import { STUDIO_DEFAULTS, useRunConfig, useValidatedConfig } from '../../stores/run-config';
import { useSession } from '../../stores/session';
import { EstimateBox } from './EstimateBox';
import { OptimizerFields } from './OptimizerFields';
import { RankPatternEditor } from './RankPatternEditor';
import { TargetPicker } from './TargetPicker';

/** [value, label, what it does in one line] of every training method of RunConfig. */
const METHODS = [
  ['lora', 'LoRA', 'Trains small low-rank adapters beside the frozen model: little memory, any base precision.'],
  ['full', 'Full finetuning', 'Trains every base weight in f32 with its gradient and optimizer state (about 16 bytes per parameter with AdamW): needs basePrecision f32.'],
] as const;
const PRECISIONS = [['nf4', 'NF4 4-bit (QLoRA)'], ['int8', 'int8'], ['f16', 'f16'], ['bf16', 'bf16'], ['f32', 'f32']] as const;
const ACTIVATION_PRECISIONS = [['f32', 'f32'], ['bf16', 'bf16 (half the activation memory)']] as const;
const SCHEDULES = [['constant', 'constant'], ['cosine', 'cosine'], ['warmup-cosine', 'warmup + cosine'], ['linear', 'warmup + linear decay']] as const;
/** Schedules that warm up, and those that end at the final ratio (src/train/schedule.ts). */
const WARMS_UP = ['warmup-cosine', 'linear'];
const COSINE = ['cosine', 'warmup-cosine'];

/** The per-layer overrides, folded away until opened; opened by itself when one of them is invalid. */
function PatternDetails({ invalid, layers }: { invalid: boolean; layers: number }) {
  const [open, setOpen] = useState(invalid);
  useEffect(() => { if (invalid) setOpen(true); }, [invalid]);
  return (
    <details open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Per-layer rank (advanced)</summary>
      <RankPatternEditor layers={layers} />
    </details>
  );
}

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
  // The LM head's vocabulary chunk matters only when the vocabulary is larger than one chunk.
  const showVocabChunk = !model || model.config.vocabSize > Number(draft.vocabChunk) || !!errors.vocabChunk;
  return (
    <div className="config-layout">
      <form className="config-form" aria-label="Run configuration" onSubmit={(e) => e.preventDefault()}>
        {continueFrom && (
          <p className="banner">
            Continuing from adapter <b>{continueFrom.name}</b>: rank, alpha and targets must stay as the adapter has them.{' '}
            <button type="button" className="link" onClick={() => continueTraining(null)}>Start fresh instead</button>
          </p>
        )}
        <section aria-labelledby="sec-method">
          <h3 id="sec-method">Method</h3>
          <div className="grid">
            <ConfigSelect field="method" options={METHODS.map(([v, l]) => [v, l] as const)} help={METHODS.find(([k]) => k === draft.method)?.[2]} />
          </div>
        </section>

        <section aria-labelledby="sec-lora">
          <h3 id="sec-lora">LoRA</h3>
          {/* Full finetuning trains every weight: the adapter settings do not apply, so they are shown but cannot be edited. */}
          {draft.method === 'full' && <p className="help" data-testid="lora-unused">Not used by full finetuning: every base weight is trained, there is no adapter.</p>}
          <fieldset className="plain" disabled={draft.method === 'full'}>
          <div className="grid">
            <ConfigNumber field="rank" integer />
            <div>
              <ConfigNumber field="alpha" />
              <button type="button" className="chip" onClick={() => set('alpha', 2 * rank)} disabled={!Number.isFinite(rank) || Number(draft.alpha) === 2 * rank}>
                alpha = 2 x rank ({Number.isFinite(rank) ? 2 * rank : '?'})
              </button>
            </div>
            <ConfigNumber field="dropout" />
            <ConfigCheck field="useRslora" />
            <ConfigCheck field="useDora" />
          </div>
          <TargetPicker />
          <PatternDetails invalid={!!(errors.rankPattern || errors.alphaPattern)} layers={model?.config.numLayers ?? 0} />
          </fieldset>
        </section>

        <section aria-labelledby="sec-base">
          <h3 id="sec-base">Base weights</h3>
          <div className="grid">
            <ConfigSelect field="basePrecision" options={PRECISIONS} />
            {draft.basePrecision === 'nf4' || errors.doubleQuant ? <ConfigCheck field="doubleQuant" /> : <div />}
          </div>
        </section>

        <section aria-labelledby="sec-opt">
          <h3 id="sec-opt">Optimizer</h3>
          <OptimizerFields />
        </section>

        <section aria-labelledby="sec-sched">
          <h3 id="sec-sched">Schedule and length</h3>
          <div className="grid">
            <ConfigSelect field="schedule" options={SCHEDULES} />
            {WARMS_UP.includes(String(draft.schedule)) && <ConfigNumber field="warmupSteps" integer />}
            {COSINE.includes(String(draft.schedule)) && <ConfigNumber field="minLrRatio" />}
            <fieldset className="field">
              <legend>Run length</legend>
              <label className="check-label"><input type="radio" name="length" checked={!bySteps} onChange={() => set('maxSteps', undefined)} /> epochs</label>
              <label className="check-label"><input type="radio" name="length" checked={bySteps} onChange={() => set('maxSteps', STUDIO_DEFAULTS.maxSteps)} /> steps</label>
            </fieldset>
            {bySteps ? <ConfigNumber field="maxSteps" integer /> : <ConfigNumber field="epochs" />}
          </div>
        </section>

        <section aria-labelledby="sec-batch">
          <h3 id="sec-batch">Batches and sequences</h3>
          <div className="grid">
            <ConfigNumber field="microBatch" integer />
            <ConfigNumber field="gradAccumulation" integer />
            <ConfigNumber field="maxSeqLen" integer />
            <ConfigNumber field="gradClip" />
            <ConfigCheck field="activationCheckpointing" />
            <ConfigSelect field="activationPrecision" options={ACTIVATION_PRECISIONS} />
          </div>
        </section>

        <section aria-labelledby="sec-run">
          <h3 id="sec-run">Reproducibility, logging and checkpoints</h3>
          <div className="grid">
            <ConfigNumber field="seed" integer />
            <ConfigNumber field="evalEvery" integer />
            <ConfigNumber field="earlyStoppingPatience" integer />
            {(Number(draft.earlyStoppingPatience ?? 0) > 0 || !!errors.earlyStoppingMinDelta) && <ConfigNumber field="earlyStoppingMinDelta" />}
            <ConfigNumber field="logEvery" integer />
            {showVocabChunk && <ConfigNumber field="vocabChunk" integer />}
            <ConfigNumber field="checkpointEverySteps" integer />
            {Number(draft.checkpointEverySteps ?? 0) === 0 && <ConfigNumber field="checkpointEveryMinutes" />}
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
