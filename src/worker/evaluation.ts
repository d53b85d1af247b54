/**
 * The Evaluate panel's work in the worker: read the task (a bundled demo set, an uploaded JSONL
 * checked line by line, or the loaded dataset's validation split), then score the base model
 * and/or one adapter (or one fully finetuned model) of the library on it with src/train/eval, one after the other on the
 * studio's GPU, reporting progress. One evaluation at a time, and never while a run trains (both
 * need the GPU's memory).
 */
import type { PeftAdapter } from '../config/adapter';
import { DatasetError } from '../data/errors';
import { decodeUtf8 } from '../data/text';
import { importPeftAdapter } from '../io/peft';
import { bytesSource } from '../io/safetensors';
import {
  detectTaskKind, evaluateDatasetPerplexity, evaluateExact, evaluateMultipleChoice, parseExactTask, parseMcTask, type EvalTarget,
} from '../train/eval';
import type { ModelConfig } from '../config/model-config';
import type { TensorLoader } from '../io/model-source/types';
import { demoUrl } from './demo';
import { fullModelAsBase } from './full-models';
import { DEMO_TASKS, type EvalKind, type EvalProgress, type EvalReport, type EvalRequest, type EvalScore, type EvalTaskSource } from './evaluation-types';
import type { LoadedModel } from './model';
import type { StudioState } from './studio-state';

/** Task files above this are refused before they are read (a task is items, not a corpus). */
export const MAX_TASK_BYTES = 64 * 2 ** 20;

type Scored = Omit<EvalScore, 'adapterId' | 'name' | 'seconds'>;

interface Task {
  name: string;
  kind: EvalKind;
  n: number;
  score(t: EvalTarget): Promise<Scored>;
}

async function taskText(src: Exclude<EvalTaskSource, { kind: 'validation' }>): Promise<{ name: string; text: string }> {
  if (src.kind === 'bundled') {
    if (!DEMO_TASKS.some((t) => t.file === src.file)) throw new DatasetError(`"${src.file}" is not one of the bundled tasks (${DEMO_TASKS.map((t) => t.file).join(', ')})`);
    const res = await fetch(demoUrl(`tasks/${src.file}`));
    if (!res.ok) throw new DatasetError(`the bundled task ${src.file} could not be fetched (HTTP ${res.status})`);
    return { name: src.file, text: decodeUtf8(new Uint8Array(await res.arrayBuffer()), src.file) };
  }
  const f = src.file;
  if (f.size > MAX_TASK_BYTES) throw new DatasetError(`${f.name}: ${(f.size / 2 ** 20).toFixed(0)} MiB is above the limit of ${MAX_TASK_BYTES / 2 ** 20} MiB for a task file; keep a sample of its items`);
  return { name: f.name, text: decodeUtf8(new Uint8Array(await f.arrayBuffer()), f.name) };
}

/** The task, parsed and checked (errors name the file and line), ready to score any target. */
async function readTask(req: EvalRequest, s: StudioState, m: LoadedModel): Promise<Task> {
  if (req.task.kind === 'validation') {
    const d = s.loaded.needData('evaluating its validation split');
    const examples = d.validation;
    if (examples.length === 0) throw new DatasetError(`${d.name} has no validation examples: set a validation share in Model & data, or pick a task file`);
    return {
      name: `validation split of ${d.name}`, kind: 'perplexity', n: examples.length,
      score: async (t) => {
        const r = await evaluateDatasetPerplexity(t, examples);
        return { n: r.n, perplexity: r.perplexity, mean_loss: r.mean_loss };
      },
    };
  }
  const { name, text } = await taskText(req.task);
  const kind = detectTaskKind(text, name);
  if (kind === 'mc') {
    const items = parseMcTask(text, name, m.config.vocabSize);
    return {
      name, kind, n: items.length,
      score: async (t) => {
        const r = await evaluateMultipleChoice(t, items, m.tokenizer, name);
        return { n: r.n, acc: r.acc, acc_norm: r.acc_norm };
      },
    };
  }
  if (kind === 'exact') {
    const items = parseExactTask(text, name);
    const o = req.exact ?? { maxNewTokens: 32, normalizeWhitespace: true, normalizeCase: false };
    if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 1 || o.maxNewTokens > 1024) throw new RangeError(`new tokens per answer must be a whole number from 1 to 1024, got ${o.maxNewTokens}`);
    return {
      name, kind, n: items.length,
      score: async (t) => {
        const r = await evaluateExact(t, items, m.tokenizer, { maxNewTokens: o.maxNewTokens, normalize: { whitespace: o.normalizeWhitespace, case: o.normalizeCase } });
        return { n: r.n, exact_match: r.exact_match };
      },
    };
  }
  throw new DatasetError(`${name}, line 1: not a task item: expected "context" and "choices" (multiple choice) or "prompt" and "answer" (exact match), one JSON object per line; for the perplexity of a dataset, load it in Model & data and pick its validation split`);
}

export class EvaluationSession {
  private running = false;

  constructor(private readonly s: StudioState) {}

  private async adapter(id: string, m: LoadedModel): Promise<{ adapter: PeftAdapter; name: string }> {
    const meta = await this.s.adapters.meta(id);
    if (!meta) throw new RangeError(`adapter ${id} is not in the library (was it deleted?)`);
    const files = await this.s.adapters.files(id);
    return { adapter: await importPeftAdapter(bytesSource(files.weights, meta.name), files.configJson, m.config), name: meta.name };
  }

  async evaluate(req: EvalRequest, onProgress?: (p: EvalProgress) => void): Promise<EvalReport> {
    const m = this.s.loaded.needModel('evaluating');
    if (this.s.training.busy) throw new Error('a run is training; evaluate once it has ended (both need the GPU)');
    if (this.running) throw new Error('an evaluation is running already; wait for it to finish');
    if (!req.base && !req.adapterId && !req.fullModelId) throw new RangeError('choose the base model, an adapter, or both to evaluate');
    this.running = true;
    try {
      const task = await readTask(req, this.s, m);
      // Adapters and full models are read (and checked against the model) before any scoring starts.
      type Who = { adapterId: string | null; fullModelId?: string; name: string; adapter: PeftAdapter | null; weights?: { config: ModelConfig; load: TensorLoader } };
      const who: Who[] = [];
      if (req.base) who.push({ adapterId: null, name: 'base model', adapter: null });
      if (req.adapterId) who.push({ adapterId: req.adapterId, ...(await this.adapter(req.adapterId, m)) });
      if (req.fullModelId) {
        const full = await fullModelAsBase(this.s.fullModels, req.fullModelId, m);
        who.push({ adapterId: null, fullModelId: req.fullModelId, name: full.name, adapter: null, weights: full });
      }
      const gpu = await this.s.gpu.get();
      const pad = m.tokenizer.pad >= 0 && m.tokenizer.pad < m.config.vocabSize ? m.tokenizer.pad : 0;
      const scores: EvalScore[] = [];
      for (const [index, w] of who.entries()) {
        onProgress?.({ name: w.name, index, count: who.length, done: 0, total: task.n });
        const started = performance.now();
        const r = await task.score({
          gpu, model: w.weights?.config ?? m.config, load: w.weights?.load ?? m.loader(), adapter: w.adapter, pad,
          onProgress: (done, total) => onProgress?.({ name: w.name, index, count: who.length, done, total }),
        });
        scores.push({ adapterId: w.adapterId, ...(w.fullModelId ? { fullModelId: w.fullModelId } : {}), name: w.name, ...r, seconds: (performance.now() - started) / 1000 });
      }
      return { task: task.name, kind: task.kind, n: task.n, scores };
    } finally {
      this.running = false;
    }
  }
}
