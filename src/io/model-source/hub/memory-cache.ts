/** A HubCache in memory: for tests, and for one session where no persistent storage exists. */
import { bytesSource } from '../../safetensors/byte-source';
import type { HubCache } from './cache';
import { flatRepoCache, type FlatStore } from './flat-cache';

export function memoryCache(): HubCache {
  const repos = new Map<string, FlatStore>();
  return {
    location: 'memory',
    repo(repoId) {
      let store = repos.get(repoId);
      if (!store) repos.set(repoId, (store = memoryStore()));
      return flatRepoCache(store, repoId);
    },
  };
}

function memoryStore(): FlatStore {
  const files = new Map<string, Uint8Array>();
  return {
    readText: async (p) => (files.has(p) ? new TextDecoder().decode(files.get(p)) : null),
    writeText: async (p, t) => void files.set(p, new TextEncoder().encode(t)),
    size: async (p) => files.get(p)?.byteLength ?? null,
    async writer(p, offset) {
      const chunks: Uint8Array[] = [(files.get(p) ?? new Uint8Array(0)).subarray(0, offset)];
      const flush = () => {
        const total = chunks.reduce((n, c) => n + c.byteLength, 0);
        const out = new Uint8Array(total);
        let at = 0;
        for (const c of chunks) (out.set(c, at), (at += c.byteLength));
        files.set(p, out);
      };
      return {
        write: async (c) => void chunks.push(c.slice()),
        close: async () => flush(),
      };
    },
    async open(p, name) {
      const b = files.get(p);
      if (!b) throw new Error(`memory cache: ${p} is missing`);
      return bytesSource(b, name);
    },
    remove: async (p) => void files.delete(p),
  };
}
