import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEngine } from '../../engine/context';
import { acquireGpu } from '../../engine/device';
import { nodeGpu } from '../../engine/node-gpu';
import { exportPeftAdapter } from '../../io/peft';
import { openModelSpec, stderrProgress } from '../../io/model-source/node';
import { checkSequenceLength } from '../../config/architectures';
import { readDataset } from '../../data/formats/read';
import { prepareParsed, type PreparedDataset } from '../../data/prepare';
import type { ModelTokenizer } from '../../data/tokenizer';
import type { ModelConfig } from '../../config/model-config';
import { DATASET_FLAGS, datasetOptions } from './data';
import { buildTrainGraph } from '../../model/graph/train-graph';
import { planOrExplain, refuseUnfit } from '../../model/plan/fit';
import { adapterFromGraph } from '../../train/adapter-export';
import { parseRunConfig } from '../../config/run-config';
import { train, type StepEvent } from '../../train/trainer';
import { CliUsageError, GPU_LIMITS_FLAG, gpuLimitsOf, parseCliArgs } from '../args';

const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

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
async function loadDataset(file: string, model: ModelConfig, tok: ModelTokenizer | Error, opts: ReturnType<typeof datasetOptions> & { maxLen: number; seed: number }): Promise<PreparedDataset> {
  const parsed = readDataset(await readFile(file), file, { ...opts, vocabSize: model.vocabSize });
  if (parsed.format !== 'tokens' && tok instanceof Error) throw tok;
  const data = prepareParsed(parsed, tok instanceof Error ? null : tok, opts);
  let maxId = -1;
  for (const ex of [...data.train, ...data.validation]) for (const id of ex.ids) if (id > maxId) maxId = id;
  if (maxId >= model.vocabSize) {
    throw new CliUsageError(`${file}: token id ${maxId} is past the model's vocab_size ${model.vocabSize}; tokenizer.json and config.json are from different models`);
  }
  for (const w of data.warnings) console.error(`warning: ${w}`);
  console.log(`${file}: ${data.format}${data.template ? `, template ${data.template}` : ''}; ${JSON.stringify(data.stats)}`);
  return data;
}

/** `train --model <dir|hf:org/name> --data <file> [--config run.json] [--validation <file>] --out <dir>`: headless LoRA finetuning. */
export async function runTrain(argv: string[]): Promise<number> {
  const { values } = parseCliArgs(argv, {
    model: { type: 'string' }, data: { type: 'string' }, config: { type: 'string' }, validation: { type: 'string' }, out: { type: 'string' }, ...DATASET_FLAGS, ...GPU_LIMITS_FLAG,
  });
  const limits = gpuLimitsOf(values['gpu-limits']);
  if (!values.model || !values.data || !values.out) throw new CliUsageError('--model, --data and --out are required');
  const fileConfig = (values.config ? JSON.parse(await readFile(values.config, 'utf8')) : {}) as Record<string, unknown>;
  // A folder or hf:org/name[@revision] (HF_ENDPOINT, HF_TOKEN; downloads are cached and resumed).
  const model = await openModelSpec(values.model, { onProgress: stderrProgress() });
  // Without a maxSeqLen of its own the run takes the default, never more than the model's context,
  // and then no more than the longest example needs (rounded up to a multiple of 8).
  const lengthGiven = fileConfig.maxSeqLen !== undefined;
  const cap = Math.min(parseRunConfig({}).maxSeqLen, model.config.maxPositionEmbeddings);
  let run = parseRunConfig(lengthGiven ? fileConfig : { ...fileConfig, maxSeqLen: cap });
  checkSequenceLength(model.config, run.maxSeqLen);
  const tok = await model.tokenizer().catch((e: Error) => e);
  const dataOpts = { ...datasetOptions(values), maxLen: run.maxSeqLen, seed: run.seed };
  const data = await loadDataset(values.data, model.config, tok, dataOpts);
  const examples = data.train;
  if (!lengthGiven) {
    const longest = Math.max(1, ...examples.map((e) => e.ids.length - 1));
    run = parseRunConfig({ ...fileConfig, maxSeqLen: Math.min(cap, Math.ceil(longest / 8) * 8) });
    console.log(`maxSeqLen ${run.maxSeqLen}: the longest example needs ${longest} (model context ${model.config.maxPositionEmbeddings}); set maxSeqLen in the run config to choose`);
  }
  const extra = values.validation ? await loadDataset(values.validation, model.config, tok, { ...dataOpts, validationFraction: 0 }) : undefined;
  const validation = extra || data.validation.length ? [...data.validation, ...(extra?.train ?? [])] : undefined;

  await model.prepareWeights(); // every weight file at hand and every tensor checked before the GPU is touched
  const gpu = await acquireGpu(await nodeGpu(), { limits });
  const plan = await planOrExplain(model.config, run, gpu);
  console.log(`memory plan: ${Object.entries(plan.byCategory).map(([k, v]) => `${k} ${mib(v)}`).join(', ')}; total ${mib(plan.total)}`);
  await refuseUnfit(model.config, plan, run, gpu);
  const engine = createEngine(gpu);
  const g = await buildTrainGraph(engine, model.config, run, { load: model.loader() });
  await model.close();
  await mkdir(values.out, { recursive: true });
  const lines: string[] = [];
  const events = await train(g, {
    train: examples, validation, padId: tok instanceof Error || tok.pad >= model.config.vocabSize ? 0 : tok.pad,
    onStep: (e) => {
      lines.push(metricsLine(e));
      console.log(`step ${e.step}/${e.totalSteps}  loss ${e.loss.toFixed(4)}${e.evalLoss !== undefined ? `  eval ${e.evalLoss.toFixed(4)}` : ''}  lr ${e.lr.toExponential(2)}  grad-norm ${e.gradNorm.toFixed(3)}  ${e.tokensPerSecond.toFixed(0)} tok/s`);
    },
  });
  const { weights, configJson } = exportPeftAdapter(await adapterFromGraph(g, model.name));
  await writeFile(join(values.out, 'adapter_model.safetensors'), weights);
  await writeFile(join(values.out, 'adapter_config.json'), configJson);
  await writeFile(join(values.out, 'metrics.jsonl'), lines.join('\n') + '\n');
  const last = events[events.length - 1];
  console.log(`wrote ${values.out}/adapter_model.safetensors, adapter_config.json, metrics.jsonl (${events.length} logged steps, final loss ${last?.loss.toFixed(4)}, peak memory ${mib(engine.pool.ledgerSnapshot().peakTotal)})`);
  gpu.device.destroy();
  return 0;
}
