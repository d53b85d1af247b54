/**
 * The playground in the worker: the base weights are uploaded once per loaded model, and one
 * decoder (KV cache on the GPU) is kept per adapter, plus one for the base alone, so "base" and
 * "base + adapter" can stream side by side. Text streams as deltas of the decoded tokens.
 */
import { createEngine, type Engine } from '../engine/context';
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

interface Resident {
  model: LoadedModel;
  engine: Engine;
  base: Promise<BaseWeights>;
  decoders: Map<string, Promise<Decoder>>; // key: adapter id, or '' for the base alone
}

export class GenerationSession {
  private resident: Resident | null = null;
  private aborts = new Set<AbortController>();

  constructor(private readonly deps: { gpu: () => Promise<Gpu>; adapters: AdapterStore }) {}

  /** Drop everything on the GPU (a new model was loaded, or training needs the memory). */
  reset(): void {
    this.stop();
    if (this.resident) this.resident.engine.pool.destroyAll();
    this.resident = null;
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
    if (!this.resident || this.resident.model !== model || this.resident.engine.gpu !== gpu) {
      this.reset();
      const engine = createEngine(gpu);
      const base = createDecoderBase(engine, model.config, { load: model.loader(), format: 'f32' });
      this.resident = { model, engine, base, decoders: new Map() };
    }
    const r = this.resident;
    const key = adapterId ?? '';
    let d = r.decoders.get(key);
    if (!d) {
      d = (async () => {
        const lora = adapterId ? decoderLoraFromPeft(model.config, await this.loadAdapter(adapterId, model)) : null;
        const maxLen = Math.min(MAX_LEN, model.config.maxPositionEmbeddings);
        return createDecoder(r.engine, model.config, await r.base, lora, { maxLen });
      })();
      r.decoders.set(key, d);
      d.catch(() => r.decoders.delete(key));
    }
    return d;
  }

  private async loadAdapter(id: string, model: LoadedModel) {
    const meta = await this.deps.adapters.meta(id);
    const files = await this.deps.adapters.files(id);
    return importPeftAdapter(bytesSource(files.weights, meta?.name ?? 'adapter_model.safetensors'), files.configJson, model.config);
  }

  async generate(model: LoadedModel, promptIds: number[], req: GenerateRequest, onText: (delta: string) => void): Promise<GenerateResult> {
    const dec = await this.decoder(model, req.adapterId);
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
