/**
 * The generation loop over a decoder: run the prompt, then per new token one readback of the last
 * logits, a draw on the CPU (sampling.ts) and one decode step, until a stop id, the token budget,
 * the end of the cache, or an abort. Tokens stream through `onToken` as they are chosen.
 */
import { Prng, SAMPLING_STREAM } from '../../core/rng';
import type { ModelConfig } from '../../config/model-config';
import { checkSampling, sampleToken } from './sampling';


export interface GenerateOptions {
  /** New tokens at most (default 128; never past the cache). */
  maxNewTokens?: number;
  /** 0 (default) = greedy. */
  temperature?: number;
  /** Keep the k most likely tokens (0 = off, default). */
  topK?: number;
  /** Nucleus mass (1 = off, default). */
  topP?: number;
  /** Seed of the draws: the same seed, prompt and options give the same tokens (default 0). */
  seed?: number;
  /** Token ids that end the text (default: the model's eos_token_id). Not included in the result. */
  stopIds?: readonly number[];
  /** Run with the adapter (default when the decoder has one) or the base model alone. */
  useAdapter?: boolean;
  /** Called with each new token as soon as it is chosen. */
  onToken?: (id: number, info: TokenInfo) => void;
  /** Checked between tokens (and between prompt chunks): the tokens so far are returned. */
  signal?: AbortSignal;
}

export interface TokenInfo {
  /** 0-based index among the new tokens. */
  index: number;
  /** Position of the token in the sequence (prompt included). */
  position: number;
  /** ms since generate started. */
  elapsedMs: number;
}

export type StopReason = 'stop' | 'maxTokens' | 'length' | 'aborted';

export interface GenerationStats {
  promptTokens: number;
  newTokens: number;
  stopReason: StopReason;
  /** The stop id met, when stopReason is 'stop'. */
  stopId?: number;
  /** Prompt (prefill) time, ms. */
  prefillMs: number;
  /** Time of the new tokens after the prompt, ms. */
  decodeMs: number;
  /** Decode steps (one token each) per second after the prompt. */
  tokensPerSecond: number;
}

/** What the loop needs of a decoder. */
export interface Steppable {
  readonly model: ModelConfig;
  readonly maxLen: number;
  readonly position: number;
  readonly hasAdapter: boolean;
  reset(useAdapter?: boolean): void;
  feed(ids: readonly number[], signal?: AbortSignal): Promise<Float32Array>;
}

export function defaultStopIds(model: ModelConfig): number[] {
  const e = model.eosTokenId;
  return e === undefined ? [] : Array.isArray(e) ? [...e] : [e];
}

export async function runGeneration(dec: Steppable, prompt: readonly number[], o: GenerateOptions): Promise<{ ids: number[]; stats: GenerationStats }> {
  const sampling = { temperature: o.temperature ?? 0, topK: o.topK ?? 0, topP: o.topP ?? 1 };
  checkSampling(sampling);
  const maxNew = o.maxNewTokens ?? 128;
  if (!Number.isSafeInteger(maxNew) || maxNew < 0) throw new RangeError(`maxNewTokens must be an integer >= 0, got ${maxNew}`);
  if (prompt.length === 0) throw new RangeError('generate: the prompt is empty (give at least one token, e.g. BOS)');
  if (prompt.length > dec.maxLen) {
    throw new RangeError(`generate: the prompt has ${prompt.length} tokens but the decoder holds ${dec.maxLen} positions; shorten the prompt or build the decoder with a larger maxLen`);
  }
  const rng = new Prng(o.seed ?? 0, SAMPLING_STREAM);
  const stops = new Set(o.stopIds ?? defaultStopIds(dec.model));
  const started = performance.now();
  const ids: number[] = [];
  let steps = 0; // decode steps run after the prompt
  const stats = (stopReason: StopReason, prefillEnd: number, stopId?: number): GenerationStats => {
    const decodeMs = Math.max(0, performance.now() - prefillEnd);
    return {
      promptTokens: prompt.length, newTokens: ids.length, stopReason, ...(stopId !== undefined ? { stopId } : {}),
      prefillMs: prefillEnd - started, decodeMs, tokensPerSecond: decodeMs > 0 ? (1000 * steps) / decodeMs : 0,
    };
  };

  dec.reset(o.useAdapter ?? dec.hasAdapter);
  let logits: Float32Array;
  try {
    logits = await dec.feed(prompt, o.signal);
  } catch (e) {
    if (o.signal?.aborted) return { ids, stats: stats('aborted', performance.now()) };
    throw e;
  }
  const prefillEnd = performance.now();
  for (;;) {
    if (ids.length >= maxNew) return { ids, stats: stats('maxTokens', prefillEnd) };
    if (o.signal?.aborted) return { ids, stats: stats('aborted', prefillEnd) };
    const id = sampleToken(logits, sampling, rng);
    if (stops.has(id)) return { ids, stats: stats('stop', prefillEnd, id) };
    ids.push(id);
    o.onToken?.(id, { index: ids.length - 1, position: dec.position, elapsedMs: performance.now() - started });
    if (ids.length >= maxNew) return { ids, stats: stats('maxTokens', prefillEnd) };
    if (dec.position >= dec.maxLen) return { ids, stats: stats('length', prefillEnd) };
    try {
      logits = await dec.feed([id], o.signal);
      steps++;
    } catch (e) {
      if (o.signal?.aborted) return { ids, stats: stats('aborted', prefillEnd) };
      throw e;
    }
  }
}
