/**
 * The playground in the worker: the base weights are uploaded once per loaded model, and a decoder
 * (KV cache on the GPU) is kept for the base alone and for the adapter last used, so "base" and
 * "base + adapter" can stream side by side; choosing another adapter frees the previous one's
 * decoder. A fully finetuned model takes an adapter's place: its own weights (the stored
 * model.safetensors, in place of the base's) and decoder, in an engine of its own that is released
 * whole when it is evicted. A build that fails frees everything it made. Text streams as deltas of
 * the decoded tokens.
 */
import { createEngine, releaseEngine, type Engine } from '../engine/context';
import type { Gpu } from '../engine/device';
import type { AdapterStore } from '../io/stores/adapters';
import type { FullModelStore } from '../io/stores/full-models';
import { bytesSource } from '../io/safetensors';
import { importPeftAdapter } from '../io/peft';
import type { BaseWeights } from '../model/graph/base-weights';
import { createDecoder, createDecoderBase, decoderLoraFromPeft, type Decoder } from '../model/generate';
import type { GenerateRequest, GenerateResult } from './api';
import { fullModelAsBase } from './full-models';
import type { LoadedModel } from './model';

/** Positions each playground decoder holds (prompt + new tokens). */
const MAX_LEN = 1024;
/** Adapter (or finetuned model) decoders kept besides the base's: the playground shows one at a time. */
const ADAPTER_DECODERS = 1;

/** A decoder and how to free it (a finetuned model's frees its own weights with it). */
interface Held {
  decoder: Decoder;
  /** Settles once the device has let the memory go. */
  free(): Promise<void>;
}

interface Resident {
  model: LoadedModel;
  engine: Engine;
  base: Promise<BaseWeights>;
  decoders: Map<string, Promise<Held>>; // key: decoderKey(); least recently used first
}

const FULL = 'full:';

/** '' for the base alone, the adapter's id, or `full:<id>` for a fully finetuned model. */
function decoderKey(req: Pick<GenerateRequest, 'adapterId' | 'fullModelId'>): string {
  return req.fullModelId ? FULL + req.fullModelId : req.adapterId ?? '';
}

/** Free a decoder once built (a build in flight is freed when it ends; a failed one freed itself). */
const free = (d: Promise<Held>): Promise<void> => d.then((x) => x.free(), () => undefined);

/** Positions each decoder holds: MAX_LEN, or fewer when the model has fewer. */
const maxLenOf = (m: LoadedModel) => Math.min(MAX_LEN, m.config.maxPositionEmbeddings);

export class GenerationSession {
  private resident: Resident | null = null;
  private aborts = new Set<AbortController>();
  /** Generations building or running on each decoder key: such a decoder is never freed under them. */
  private running = new Map<string, number>();

  constructor(private readonly deps: { gpu: () => Promise<Gpu>; adapters: AdapterStore; fullModels?: FullModelStore }) {}

  /**
   * Drop everything on the GPU (a new model was loaded, or training needs the memory); settles
   * once the device has let the memory go (a run awaits it before allocating its own).
   */
  async reset(): Promise<void> {
    this.stop();
    const r = this.resident;
    this.resident = null;
    if (!r) return;
    // The shared engine's pool holds the base and adapter decoders; each finetuned model's engine is
    // its own, freed once built (a build in flight would otherwise keep its weights).
    const own = [...r.decoders].filter(([k]) => k.startsWith(FULL)).map(([, d]) => free(d));
    await Promise.all([releaseEngine(r.engine), ...own]);
  }

  /** Forget the decoder of one adapter or finetuned model (it was deleted). */
  forget(id: string): void {
    for (const key of [id, decoderKey({ adapterId: null, fullModelId: id })]) {
      const d = this.resident?.decoders.get(key);
      if (!d) continue;
      this.resident!.decoders.delete(key);
      void free(d);
    }
  }

  stop(): void {
    for (const a of this.aborts) a.abort();
  }

  private async decoder(model: LoadedModel, req: Pick<GenerateRequest, 'adapterId' | 'fullModelId'>): Promise<Decoder> {
    const gpu = await this.deps.gpu();
    while (this.resident && (this.resident.model !== model || this.resident.engine.gpu !== gpu)) await this.reset(); // freed before the new copy
    if (!this.resident) {
      const engine = createEngine(gpu);
      const base = createDecoderBase(engine, model.config, { load: model.loader(), format: 'f32' });
      this.resident = { model, engine, base, decoders: new Map() };
    }
    const r = this.resident;
    const key = decoderKey(req);
    let d = r.decoders.get(key);
    if (d) {
      r.decoders.delete(key); // most recently used last
    } else {
      const built = req.fullModelId ? this.buildFull(r, req.fullModelId, gpu) : this.buildOnBase(r, req.adapterId);
      built.catch(() => { if (r.decoders.get(key) === built) r.decoders.delete(key); }); // an unreadable adapter: try again next time
      d = built;
    }
    r.decoders.set(key, d);
    this.evictAdapters(r);
    return (await d).decoder;
  }

  /** The base alone, or base + adapter, on the shared copy of the base weights. */
  private async buildOnBase(r: Resident, adapterId: string | null): Promise<Held> {
    const lora = adapterId ? decoderLoraFromPeft(r.model.config, await this.loadAdapter(adapterId, r.model)) : null;
    try {
      const decoder = await createDecoder(r.engine, r.model.config, await r.base, lora, { maxLen: maxLenOf(r.model) });
      return { decoder, free: async () => decoder.destroy() };
    } catch (e) {
      // A failed upload or build (out of memory) may have allocated part of its buffers in the
      // shared pool: free the whole playground copy; the next generation builds it again.
      if (this.resident === r) void this.reset();
      throw e;
    }
  }

  /**
   * A finetuned model's own weights (its model.safetensors streamed in, as evaluation reads it;
   * refused unless it is a finetune of the loaded model, whose tokenizer the prompt went through)
   * and decoder, in an engine of their own: freeing it frees both, whatever a failed build left.
   */
  private async buildFull(r: Resident, id: string, gpu: Gpu): Promise<Held> {
    if (!this.deps.fullModels) throw new Error('this studio keeps no finetuned models');
    const full = await fullModelAsBase(this.deps.fullModels, id, r.model, { verb: 'try it in the playground', passive: 'run' });
    const own = createEngine(gpu);
    try {
      const base = await createDecoderBase(own, full.config, { load: full.load, format: 'f32' });
      const decoder = await createDecoder(own, full.config, base, null, { maxLen: maxLenOf(r.model) });
      return { decoder, free: () => { decoder.destroy(); return releaseEngine(own); } };
    } catch (e) {
      void releaseEngine(own);
      throw e;
    }
  }

  /** Free the decoders of adapters used before the last ADAPTER_DECODERS (never one that is generating). */
  private evictAdapters(r: Resident): void {
    const adapters = [...r.decoders.keys()].filter((k) => k !== '');
    for (const k of adapters.slice(0, Math.max(0, adapters.length - ADAPTER_DECODERS))) {
      if (this.running.get(k)) continue;
      const old = r.decoders.get(k)!;
      r.decoders.delete(k);
      void free(old);
    }
  }

  private async loadAdapter(id: string, model: LoadedModel) {
    const meta = await this.deps.adapters.meta(id);
    const files = await this.deps.adapters.files(id);
    return importPeftAdapter(bytesSource(files.weights, meta?.name ?? 'adapter_model.safetensors'), files.configJson, model.config);
  }

  async generate(model: LoadedModel, promptIds: number[], req: GenerateRequest, onText: (delta: string) => void): Promise<GenerateResult> {
    if (req.adapterId && req.fullModelId) throw new RangeError('choose an adapter or a finetuned model, not both');
    const key = decoderKey(req);
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    try {
      return await this.generateOn(await this.decoder(model, req), model, promptIds, req, onText);
    } finally {
      const n = (this.running.get(key) ?? 1) - 1;
      if (n > 0) this.running.set(key, n);
      else this.running.delete(key);
    }
  }

  private async generateOn(dec: Decoder, model: LoadedModel, promptIds: number[], req: GenerateRequest, onText: (delta: string) => void): Promise<GenerateResult> {
    const abort = new AbortController();
    this.aborts.add(abort);
    const ids: number[] = [];
    let shown = '';
    const maxNew = Math.max(0, Math.min(req.maxNewTokens, dec.maxLen - promptIds.length));
    if (promptIds.length >= dec.maxLen) throw new RangeError(`the prompt has ${promptIds.length} tokens; the playground holds ${dec.maxLen}. Shorten it.`);
    try {
      await dec.generate(promptIds, {
        maxNewTokens: maxNew, temperature: req.temperature, topK: req.topK, topP: req.topP, seed: req.seed,
        stopIds: req.stopAtEos ? model.stopIds : [], signal: abort.signal,
        onToken: (id) => {
          ids.push(id);
          const text = model.tokenizer.decode(ids, { skipSpecialTokens: true });
          // A multi-byte character can span tokens: hold back a trailing replacement char.
          const stable = text.endsWith('\uFFFD') ? text.slice(0, -1) : text;
          if (stable.length > shown.length && stable.startsWith(shown)) {
            onText(stable.slice(shown.length));
            shown = stable;
          }
        },
      });
    } finally {
      this.aborts.delete(abort);
    }
    const text = model.tokenizer.decode(ids, { skipSpecialTokens: true });
    if (text.length > shown.length && text.startsWith(shown)) onText(text.slice(shown.length));
    const stats = dec.lastStats;
    const stoppedBy = stats?.stopReason === 'stop' ? 'eos' : stats?.stopReason === 'aborted' ? 'stopped' : 'length';
    return { text, tokens: ids.length, tokensPerSecond: stats?.tokensPerSecond ?? 0, stoppedBy };
  }
}
