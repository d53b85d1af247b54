/**
 * `eval --model <dir> [--adapter <dir>] --task <file.jsonl> [--kind mc|exact|perplexity]`: score the
 * base model, or the base model with a PEFT adapter, on a task file; prints JSON with `n`, the
 * metrics and `per_example`. The kind is read from the file when not given (choices -> mc,
 * prompt + answer -> exact, any dataset -> perplexity).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireGpu, type Gpu } from '../../engine/device';
import type { PipelineCache } from '../../engine/pipelines';
import { nodeGpu } from '../../engine/node-gpu';
import { fileSource } from '../../io/node-file-source';
import { importPeftAdapter, type PeftAdapter } from '../../io/peft';
import { openModelSpec, stderrProgress } from '../../io/model-source/node';
import type { ModelSource } from '../../io/model-source/model';
import type { ModelConfig } from '../../config/model-config';
import { decodeUtf8 } from '../../data/text';
import {
  detectTaskKind, evaluateDatasetPerplexity, evaluateExact, evaluateMultipleChoice, parseExactTask, parseMcTask, TASK_KINDS, type TaskKind,
} from '../../train/eval';
import { DATASET_FLAGS, datasetOptions } from './data';
import { loadDataset } from './train-run';
import { CliUsageError, GPU_LIMITS_FLAG, gpuLimitsOf, parseCliArgs } from '../args';

export const EVAL_FLAGS = {
  kind: { type: 'string' }, 'micro-batch': { type: 'string' }, 'max-new-tokens': { type: 'string' }, stop: { type: 'string' }, normalize: { type: 'string' },
} as const;

export async function readAdapterDir(dir: string, model: ModelConfig): Promise<PeftAdapter> {
  const weights = await fileSource(join(dir, 'adapter_model.safetensors'));
  try {
    return await importPeftAdapter(weights, await readFile(join(dir, 'adapter_config.json'), 'utf8'), model);
  } finally {
    await weights.close();
  }
}

const intFlag = (name: string, v: string | undefined, dflt: number) => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new CliUsageError(`--${name} must be a positive integer, got "${v}"`);
  return n;
};

function normalization(spec: string | undefined): { whitespace?: boolean; case?: boolean } {
  if (!spec) return {};
  const parts = spec.split(',').map((s) => s.trim());
  for (const p of parts) if (p !== 'whitespace' && p !== 'case') throw new CliUsageError(`--normalize takes whitespace, case or whitespace,case; got "${p}"`);
  return { whitespace: parts.includes('whitespace'), case: parts.includes('case') };
}

export interface TaskEvalRequest {
  task: string;
  kind?: string;
  values: Record<string, string | boolean | undefined>;
  /** Reuse compiled pipelines (a sweep). */
  pipelines?: PipelineCache;
}

/** Score one task file on an opened model (an adapter or none); the JSON `eval` prints. Used by `sweep` too. */
export async function evaluateTaskFile(model: ModelSource, adapter: PeftAdapter | null, gpu: Gpu, r: TaskEvalRequest): Promise<Record<string, unknown>> {
  const text = decodeUtf8(await readFile(r.task), r.task);
  const kind = (r.kind ?? detectTaskKind(text, r.task)) as TaskKind;
  if (!TASK_KINDS.includes(kind)) throw new CliUsageError(`--kind must be one of ${TASK_KINDS.join(', ')}, got "${kind}"`);
  const tok = await model.tokenizer().catch((e: Error) => e);
  const target = {
    gpu, pipelines: r.pipelines, model: model.config, load: model.loader(), adapter,
    pad: tok instanceof Error || tok.pad >= model.config.vocabSize ? 0 : tok.pad,
    graph: { microBatch: intFlag('micro-batch', r.values['micro-batch'] as string | undefined, 8) },
  };
  if (kind === 'mc') {
    const items = parseMcTask(text, r.task, model.config.vocabSize);
    return { task: r.task, kind, ...(await evaluateMultipleChoice(target, items, tok instanceof Error ? null : tok, r.task)) };
  }
  if (kind === 'exact') {
    if (tok instanceof Error) throw tok;
    const items = parseExactTask(text, r.task);
    const o = { maxNewTokens: intFlag('max-new-tokens', r.values['max-new-tokens'] as string | undefined, 64), stop: r.values.stop as string | undefined, normalize: normalization(r.values.normalize as string | undefined) };
    return { task: r.task, kind, ...(await evaluateExact(target, items, tok, o)) };
  }
  const data = await loadDataset(r.task, model.config, tok, { ...datasetOptions(r.values), validationFraction: 0, maxLen: model.config.maxPositionEmbeddings - 1, seed: 0 }, (l) => console.error(l));
  return { task: r.task, kind, ...(await evaluateDatasetPerplexity(target, data.train)) };
}

export async function runEval(argv: string[]): Promise<number> {
  const { values } = parseCliArgs(argv, {
    model: { type: 'string' }, adapter: { type: 'string' }, task: { type: 'string' }, ...EVAL_FLAGS, ...DATASET_FLAGS, ...GPU_LIMITS_FLAG,
  });
  if (!values.model || !values.task) throw new CliUsageError('--model and --task are required');
  const limits = gpuLimitsOf(values['gpu-limits']);
  const model = await openModelSpec(values.model, { onProgress: stderrProgress() });
  try {
    const adapter = values.adapter ? await readAdapterDir(values.adapter, model.config) : null;
    await model.prepareWeights();
    const gpu = await acquireGpu(await nodeGpu(), { limits });
    try {
      const result = await evaluateTaskFile(model, adapter, gpu, { task: values.task, kind: values.kind, values });
      console.log(JSON.stringify({ model: values.model, adapter: values.adapter ?? null, ...result }, null, 2));
    } finally {
      gpu.device.destroy();
    }
  } finally {
    await model.close();
  }
  return 0;
}
