/**
 * One evaluation end to end on an engine: build what the kind needs (the training graph's forward
 * for mc and perplexity, a KV-cache decoder for exact match), score, free the buffers.
 */
import { createEngine, releaseEngine, type Engine } from '../../engine/context';
import type { Gpu } from '../../engine/device';
import type { PipelineCache } from '../../engine/pipelines';
import type { TensorLoader } from '../../io/model-source/types';
import type { PeftAdapter } from '../../config/adapter';
import type { ModelConfig } from '../../config/model-config';
import type { TokenizedExample } from '../../data/batching';
import type { ModelTokenizer } from '../../data/tokenizer';
import { createDecoder, createDecoderBase, decoderLoraFromPeft } from '../../model/generate';
import { buildEvalGraph, positionsFor, scoreRows, type EvalGraphOptions } from './eval-graph';
import { evaluateExactMatch, type ExactOptions, type ExactResult } from './exact-match';
import { mcRows, mcScores, tokenizeMc, type McResult } from './multiple-choice';
import { evaluatePerplexity, type PerplexityResult } from './perplexity';
import type { ExactItem, McItem } from './task-file';

export interface EvalTarget {
  /** Each evaluation makes an engine of its own on it and frees that engine's buffers at the end. */
  gpu: Gpu;
  /** Pipelines compiled by earlier work on the same GPU (a sweep), reused. */
  pipelines?: PipelineCache;
  model: ModelConfig;
  load: TensorLoader;
  /** null: the base model alone. */
  adapter: PeftAdapter | null;
  /** Pad id of the rows (never scored). */
  pad?: number;
  graph?: Partial<Omit<EvalGraphOptions, 'maxSeqLen'>>;
  /** Rows scored (mc, perplexity) or items generated (exact match) so far, of all. */
  onProgress?: (done: number, total: number) => void;
}

async function freeing<R>(t: EvalTarget, f: (e: Engine) => Promise<R>): Promise<R> {
  const e: Engine = { ...createEngine(t.gpu), ...(t.pipelines ? { pipelines: t.pipelines } : {}) };
  try {
    return await f(e);
  } finally {
    await releaseEngine(e);
  }
}

export function evaluateMultipleChoice(t: EvalTarget, items: readonly McItem[], tok: ModelTokenizer | null, file = 'task'): Promise<McResult> {
  const tokenized = tokenizeMc(items, tok, file);
  const T = positionsFor(tokenized.flatMap((it) => it.choices.map((c) => it.context.length + c.length - 1)), t.model);
  const rows = mcRows(tokenized, T);
  return freeing(t, async (engine) => {
    const g = await buildEvalGraph(engine, t.model, t.load, t.adapter, { ...t.graph, maxSeqLen: T });
    return mcScores(items, tokenized, rows, await scoreRows(g, rows, t.pad ?? 0, t.onProgress));
  });
}

export function evaluateDatasetPerplexity(t: EvalTarget, examples: readonly TokenizedExample[]): Promise<PerplexityResult> {
  const T = positionsFor(examples.map((e) => e.ids.length - 1), t.model);
  return freeing(t, async (engine) => {
    const g = await buildEvalGraph(engine, t.model, t.load, t.adapter, { ...t.graph, maxSeqLen: T });
    return evaluatePerplexity(g, examples, t.pad ?? 0, t.onProgress);
  });
}

export function evaluateExact(t: EvalTarget, items: readonly ExactItem[], tok: ModelTokenizer, o: ExactOptions = {}): Promise<ExactResult> {
  const longest = Math.max(...items.map((it) => tok.encode(it.prompt, { addSpecialTokens: true }).length));
  const maxLen = Math.min(t.model.maxPositionEmbeddings, longest + (o.maxNewTokens ?? 64));
  return freeing(t, async (engine) => {
    const base = await createDecoderBase(engine, t.model, { load: t.load, format: t.graph?.basePrecision, vocabChunk: t.graph?.vocabChunk });
    const dec = await createDecoder(engine, t.model, base, t.adapter ? decoderLoraFromPeft(t.model, t.adapter) : null, { maxLen });
    return evaluateExactMatch(dec, tok, items, { onProgress: t.onProgress, ...o });
  });
}
