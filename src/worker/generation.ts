/**
 * The playground in the worker: the base weights are uploaded once per loaded model, and a decoder
 * (KV cache on the GPU) is kept for the base alone and for the adapter last used, so "base" and
 * "base + adapter" can stream side by side; choosing another adapter frees the previous one's
 * decoder. A build that fails frees everything it made. Text streams as deltas of the decoded tokens.
 */
import { createEngine, releaseEngine, type Engine } from '../engine/context';
import type { Gpu } from '../engine/device';
import type { AdapterStore } from '../io/stores/adapters';
import { bytesSource } from '../io/safetensors';
import { importPeftAdapter } from '../io/peft';
import type { BaseWeights } from '../model/graph/base-weights';
import { createDecoder, createDecoderBase, decoderLoraFromPeft, type Decoder } from '../model/generate';
import type { GenerateRequest, GenerateResult } from './api';
import type { LoadedModel } from './model';

/** Positions each playground decoder holds (prompt + new tokens). */
const MAX_LEN = 1024;
/** Adapter decoders kept besides the base's: the playground shows one adapter at a time. */
const ADAPTER_DECODERS = 1;

interface Resident {
  model: LoadedModel;
  engine: Engine;
  base: Promise<BaseWeights>;
  decoders: Map<string, Promise<Decoder>>; // key: adapter id, or '' for the base alone; least recently used first
}

export class GenerationSession {
  private resident: Resident | null = null;
  private aborts = new Set<AbortController>();
  /** Generations building or running on each decoder key: such a decoder is never freed under them. */
  private running = new Map<string, number>();

  constructor(private readonly deps: { gpu: () => Promise<Gpu>; adapters: AdapterStore }) {}

  /**
   * Drop everything on the GPU (a new model was loaded, or training needs the memory); settles
   * once the device has let the memory go (a run awaits it before allocating its own).
   */
  reset(): Promise<void> {
    this.stop();
    const r = this.resident;
    this.resident = null;
    return r ? releaseEngine(r.engine) : Promise.resolve();
  }

  /** Forget one adapter's decoder (it was deleted). */
  forget(id: string): void {
    const d = this.resident?.decoders.get(id);
    if (!d) return;
    this.resident!.decoders.delete(id);
    void d.then((x) => x.destroy(), () => undefined);
  }

  stop(): void {
    for (const a of this.aborts) a.abort();
  }

  private async decoder(model: LoadedModel, adapterId: string | null): Promise<Decoder> {
    const gpu = await this.deps.gpu();
    while (this.resident && (this.resident.model !== model || this.resident.engine.gpu !== gpu)) await this.reset(); // freed before the new copy
    if (!this.resident) {
      const engine = createEngine(gpu);
      const base = createDecoderBase(engine, model.config, { load: model.loader(), format: 'f32' });
      this.resident = { model, engine, base, decoders: new Map() };
    }
    const r = this.resident;
    const key = adapterId ?? '';
    let d = r.decoders.get(key);
    if (d) {
      r.decoders.delete(key); // most recently used last
    } else {
      const built = (async () => {
        const lora = adapterId ? decoderLoraFromPeft(model.config, await this.loadAdapter(adapterId, model)) : null;
        const maxLen = Math.min(MAX_LEN, model.config.maxPositionEmbeddings);
        try {
          return await createDecoder(r.engine, model.config, await r.base, lora, { maxLen });
        } catch (e) {
          // A failed upload or build (out of memory) may have allocated part of its buffers in the
          // shared pool: free the whole playground copy; the next generation builds it again.
          if (this.resident === r) void this.reset();
          throw e;
        }
      })();
      built.catch(() => { if (r.decoders.get(key) === built) r.decoders.delete(key); }); // an unreadable adapter: try again next time
      d = built;
    }
    r.decoders.set(key, d);
    this.evictAdapters(r);
    return d;
  }

  /** Free the decoders of adapters used before the last ADAPTER_DECODERS (never one that is generating). */
  private evictAdapters(r: Resident): void {
    const adapters = [...r.decoders.keys()].filter((k) => k !== '');
    for (const k of adapters.slice(0, Math.max(0, adapters.length - ADAPTER_DECODERS))) {
      if (this.running.get(k)) continue;
      const old = r.decoders.get(k)!;
      r.decoders.delete(k);
      void old.then((x) => x.destroy(), () => undefined);
    }
  }

  private async loadAdapter(id: string, model: LoadedModel) {
    const meta = await this.deps.adapters.meta(id);
    const files = await this.deps.adapters.files(id);
    return importPeftAdapter(bytesSource(files.weights, meta?.name ?? 'adapter_model.safetensors'), files.configJson, model.config);
  }

  async generate(model: LoadedModel, promptIds: number[], req: GenerateRequest, onText: (delta: string) => void): Promise<GenerateResult> {
    const key = req.adapterId ?? '';
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    try {
      return await this.generateOn(await this.decoder(model, req.adapterId), model, promptIds, req, onText);
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
