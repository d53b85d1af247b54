/**
 * One headless training run, shared by `train` and `sweep`: open the model, read the data, size
 * the run, plan and check memory, build the graph, train, write the PEFT adapter and metrics.jsonl
 * to `out`. The caller owns the GPU (one device can serve several runs one after another); each
 * run has an engine of its own, so its ledger's peak is that run's.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEngine, releaseEngine, type Engine } from '../../engine/context';
import type { PipelineCache } from '../../engine/pipelines';
import type { Gpu } from '../../engine/device';
import { exportPeftAdapter } from '../../io/peft';
import { openModelSpec, stderrProgress } from '../../io/model-source/node';
import type { ModelSource } from '../../io/model-source/model';
import { checkSequenceLength } from '../../config/architectures';
import { readDataset } from '../../data/formats/read';
import { prepareParsed, type PreparedDataset } from '../../data/prepare';
import type { ModelTokenizer } from '../../data/tokenizer';
import type { ModelConfig } from '../../config/model-config';
import { countLoraParams } from '../../config/param-count';
import type { datasetOptions } from './data';
import { buildTrainGraph, loraConfigOf } from '../../model/graph/train-graph';
import { planOrExplain, refuseUnfit } from '../../model/plan/fit';
import { adapterFromGraph } from '../../train/adapter-export';
import { fullModelConfigJson, fullModelSafetensors } from '../../model/export/full-model';
import { parseRunConfig, type RunConfig } from '../../config/run-config';
import { train, type StepEvent } from '../../train/trainer';
import type { BestEvaluation } from '../../train/early-stopping';
import { CliUsageError } from '../args';

export const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

function metricsLine(e: StepEvent): string {
  return JSON.stringify({
    step: e.step, loss: e.loss, lr: e.lr, grad_norm: e.gradNorm, tokens_per_s: e.tokensPerSecond, elapsed_ms: Math.round(e.elapsedMs),
    ...(e.evalLoss !== undefined ? { eval_loss: e.evalLoss } : {}), memory: { ...e.memory.current, total: e.memory.total, peak_total: e.memory.peakTotal },
  });
}

/**
 * A dataset for training: pre-tokenized {"tokens": [...]} JSONL as it is, anything else (Alpaca,
 * chat, ShareGPT, prompt/completion, CSV, plain text) through the model's tokenizer, cut to the
 * run's maxSeqLen. The tokenizer is needed only for text data, so its absence is reported only then.
 */
export async function loadDataset(file: string, model: ModelConfig, tok: ModelTokenizer | Error, opts: ReturnType<typeof datasetOptions> & { maxLen: number; seed: number }, log: (l: string) => void = console.log): Promise<PreparedDataset> {
  const parsed = readDataset(await readFile(file), file, { ...opts, vocabSize: model.vocabSize });
  if (parsed.format !== 'tokens' && tok instanceof Error) throw tok;
  const data = prepareParsed(parsed, tok instanceof Error ? null : tok, opts);
  let maxId = -1;
  for (const ex of [...data.train, ...data.validation]) for (const id of ex.ids) if (id > maxId) maxId = id;
  if (maxId >= model.vocabSize) {
    throw new CliUsageError(`${file}: token id ${maxId} is past the model's vocab_size ${model.vocabSize}; tokenizer.json and config.json are from different models`);
  }
  for (const w of data.warnings) console.error(`warning: ${w}`);
  log(`${file}: ${data.format}${data.template ? `, template ${data.template}` : ''}; ${JSON.stringify(data.stats)}`);
  return data;
}

export interface TrainRunInput {
  /** A folder or hf:org/name[@revision]. */
  modelSpec: string;
  dataFile: string;
  validationFile?: string;
  /** The run config as given (partial; defaults filled in). */
  config: Record<string, unknown>;
  dataOptions: ReturnType<typeof datasetOptions>;
  gpu: Gpu;
  out: string;
  log?: (line: string) => void;
  /** Pipelines to reuse from earlier runs on the same GPU (a sweep): compiled once, not per run. */
  pipelines?: PipelineCache;
}

export interface TrainRunResult {
  run: RunConfig;
  events: StepEvent[];
  trainableParams: number;
  peakMemoryBytes: number;
  wallTimeS: number;
  /** Validation losses in the order evaluated (empty without validation data or evalEvery). */
  evalLosses: number[];
  /** Early stopping: the evaluation whose adapter was written, and the step the run stopped after (when it stopped early). */
  best?: BestEvaluation;
  stoppedEarlyAt?: number;
}

export async function trainRun(o: TrainRunInput): Promise<TrainRunResult> {
  const log = o.log ?? console.log;
  const started = performance.now();
  const model = await openModelSpec(o.modelSpec, { onProgress: stderrProgress() });
  let open = true;
  const close = async () => {
    if (open) await model.close();
    open = false;
  };
  try {
    return await trainOpened(o, model, close, started, log);
  } finally {
    await close();
  }
}

async function trainOpened(o: TrainRunInput, model: ModelSource, close: () => Promise<void>, started: number, log: (l: string) => void): Promise<TrainRunResult> {
  // Without a maxSeqLen of its own the run takes the default, never more than the model's context,
  // and then no more than the longest example needs (rounded up to a multiple of 8).
  const lengthGiven = o.config.maxSeqLen !== undefined;
  const cap = Math.min(parseRunConfig({}).maxSeqLen, model.config.maxPositionEmbeddings);
  let run = parseRunConfig(lengthGiven ? o.config : { ...o.config, maxSeqLen: cap });
  checkSequenceLength(model.config, run.maxSeqLen);
  const tok = await model.tokenizer().catch((e: Error) => e);
  const dataOpts = { ...o.dataOptions, maxLen: run.maxSeqLen, seed: run.seed };
  const data = await loadDataset(o.dataFile, model.config, tok, dataOpts, log);
  const examples = data.train;
  if (!lengthGiven) {
    const longest = Math.max(1, ...examples.map((e) => e.ids.length - 1));
    run = parseRunConfig({ ...o.config, maxSeqLen: Math.min(cap, Math.ceil(longest / 8) * 8) });
    log(`maxSeqLen ${run.maxSeqLen}: the longest example needs ${longest} (model context ${model.config.maxPositionEmbeddings}); set maxSeqLen in the run config to choose`);
  }
  const extra = o.validationFile ? await loadDataset(o.validationFile, model.config, tok, { ...dataOpts, validationFraction: 0 }, log) : undefined;
  const validation = extra || data.validation.length ? [...data.validation, ...(extra?.train ?? [])] : undefined;

  await model.prepareWeights(); // every weight file at hand and every tensor checked before the GPU is touched
  const plan = await planOrExplain(model.config, run, o.gpu);
  log(`memory plan: ${Object.entries(plan.byCategory).map(([k, v]) => `${k} ${mib(v)}`).join(', ')}; total ${mib(plan.total)}`);
  await refuseUnfit(model.config, plan, run, o.gpu);
  const engine: Engine = { ...createEngine(o.gpu), ...(o.pipelines ? { pipelines: o.pipelines } : {}) };
  try {
    let read = 0;
    const loadStart = performance.now();
    const g = await buildTrainGraph(engine, model.config, run, { load: model.loader({ onRead: (b) => (read += b) }) });
    log(`base model on the GPU in ${((performance.now() - loadStart) / 1000).toFixed(1)} s: ${mib(read)} read in chunks, stored as ${run.basePrecision}${run.basePrecision === 'nf4' || run.basePrecision === 'int8' ? ' (quantized on the GPU)' : ''}`);
    const ledger = engine.pool.ledgerSnapshot().total;
    log(`GPU memory after the build: ${mib(ledger)} (${ledger === plan.total ? 'equal to the plan' : `the plan said ${mib(plan.total)}`})`);
    await close();
    await mkdir(o.out, { recursive: true });
    const lines: string[] = [];
    const evalLosses: number[] = [];
    if (run.earlyStoppingPatience > 0 && !validation) log('warning: earlyStoppingPatience is set but there is no validation data (--validation or --validation-split): the run will not stop early');
    let best: BestEvaluation | undefined;
    let stoppedEarlyAt: number | undefined;
    const events = await train(g, {
      train: examples, validation, padId: tok instanceof Error || tok.pad >= model.config.vocabSize ? 0 : tok.pad,
      onStep: (e) => {
        lines.push(metricsLine(e));
        if (e.evalLoss !== undefined) evalLosses.push(e.evalLoss);
        log(`step ${e.step}/${e.totalSteps}  loss ${e.loss.toFixed(4)}${e.evalLoss !== undefined ? `  eval ${e.evalLoss.toFixed(4)}` : ''}  lr ${e.lr.toExponential(2)}  grad-norm ${e.gradNorm.toFixed(3)}  ${e.tokensPerSecond.toFixed(0)} tok/s`);
      },
      onBest: (b) => { best = b; },
      onEarlyStop: (e) => {
        stoppedEarlyAt = e.step;
        log(`early stopping after step ${e.step}: no improvement of the validation loss for ${e.patience} evaluations`);
      },
    });
    // With early stopping the adapter written is the best evaluation's (it says which step in best.json).
    const fromBest = best && g.lora.best;
    if (fromBest) {
      log(`best validation loss ${best!.loss.toFixed(4)} after step ${best!.step}: writing that step's adapter`);
      await writeFile(join(o.out, 'best.json'), JSON.stringify({ step: best!.step, eval_loss: best!.loss, stopped_early_at: stoppedEarlyAt ?? null }, null, 2) + '\n');
    }
    if (g.full) {
      // Full finetuning: the whole trained model in Hugging Face layout instead of an adapter.
      await writeFile(join(o.out, 'model.safetensors'), await fullModelSafetensors(engine, g.full, fromBest ? g.lora.best : undefined));
      await writeFile(join(o.out, 'config.json'), fullModelConfigJson(model.configJson));
    } else {
      const { weights, configJson } = exportPeftAdapter(await adapterFromGraph(g, model.name, fromBest ? g.lora.best : undefined));
      await writeFile(join(o.out, 'adapter_model.safetensors'), weights);
      await writeFile(join(o.out, 'adapter_config.json'), configJson);
    }
    await writeFile(join(o.out, 'metrics.jsonl'), lines.join('\n') + '\n');
    const peakMemoryBytes = engine.pool.ledgerSnapshot().peakTotal;
    const last = events[events.length - 1];
    log(`wrote ${o.out}/${g.full ? 'model.safetensors, config.json' : 'adapter_model.safetensors, adapter_config.json'}, metrics.jsonl (${events.length} logged steps, final loss ${last?.loss.toFixed(4)}, peak memory ${mib(peakMemoryBytes)})`);
    const lora = loraConfigOf(run);
    return {
      run, events, evalLosses, peakMemoryBytes, ...(best ? { best } : {}), ...(stoppedEarlyAt !== undefined ? { stoppedEarlyAt } : {}), wallTimeS: (performance.now() - started) / 1000,
      trainableParams: g.full ? g.lora.layout.params : countLoraParams(model.config, { r: lora.r, targetModules: lora.targetModules, rankPattern: lora.rankPattern, useDora: lora.useDora }),
    };
  } finally {
    await releaseEngine(engine);
  }
}
