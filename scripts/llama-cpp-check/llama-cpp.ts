/**
 * The part of node-llama-cpp the check uses, loaded from the temporary folder it was installed in
 * (never a dependency of the app): load a GGUF (optionally with LoRA GGUFs), read the logits after
 * every token of a sequence, tokenize text with a vocabulary-only load.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// node-llama-cpp is not installed in the app, so its types are not available here.
type Any = any;

export interface LlamaCpp {
  /** Logits (T, V) after each token of `tokens`, with the adapters applied at scale 1. */
  logits(modelPath: string, tokens: readonly number[], adapters?: string[]): Promise<Float32Array[]>;
  /** Token ids of `text` (no BOS, special-token text not parsed), from a vocabulary-only load. */
  tokenizer(modelPath: string): Promise<{ tokenize(text: string): number[]; close(): Promise<void> }>;
  close(): Promise<void>;
}

export async function openLlamaCpp(installDir: string): Promise<LlamaCpp> {
  const mod: Any = await import(pathToFileURL(join(installDir, 'node_modules/node-llama-cpp/dist/index.js')).href);
  const llama: Any = await mod.getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  return {
    async logits(modelPath, tokens, adapters = []) {
      const model: Any = await llama.loadModel({ modelPath, gpuLayers: 0 });
      try {
        // f32 KV cache and no flash attention: the cache would otherwise round keys and values to f16.
        const ctx: Any = await model.createContext({
          contextSize: 256, batchSize: 256, flashAttention: false, threads: 2,
          experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32',
          ...(adapters.length ? { lora: { adapters: adapters.map((filePath) => ({ filePath, scale: 1 })) } } : {}),
        });
        const seq: Any = ctx.getSequence();
        const out: Any[] = await seq.controlledEvaluate(tokens.map((t) => [t, { generateNext: { logits: true } }]));
        const V: number = model.tokens.vocabSize ?? out[0].next.logits.size;
        const rows = tokens.map((_, i) => {
          const row = new Float32Array(V);
          for (const [id, v] of out[i].next.logits as Map<number, number>) row[id] = v;
          return row;
        });
        await ctx.dispose();
        return rows;
      } finally {
        await model.dispose();
      }
    },
    async tokenizer(modelPath) {
      const model: Any = await llama.loadModel({ modelPath, gpuLayers: 0, vocabOnly: true });
      return { tokenize: (text) => [...model.tokenize(text, false)], close: () => model.dispose() };
    },
    close: () => llama.dispose(),
  };
}
