/**
 * The real-shape bench's model load in the browser, in a worker as the studio loads it: the files
 * are first downloaded into the Origin Private File System (not timed: the download), then opened
 * from there (File objects, read by slices) and streamed to the GPU in chunks, quantized there
 * (src/model/graph/weight-stream.ts). The runner measures this worker's JS heap and ArrayBuffers
 * through CDP while it loads (scripts/bench-real/run.mjs).
 *   in:  { type: 'download', folder, files: [{ name, url }] }  ->  { type: 'downloaded', bytes, ms }
 *   in:  { type: 'load', folder, format, limits }              ->  { type: 'loaded', loadMs, readBytes, gpuBytes, tensors }
 *   any failure                                                ->  { type: 'error', message }
 */
import { createEngine } from '../engine/context';
import { acquireGpu } from '../engine/device';
import { fileModelFiles } from '../io/model-source/local-files';
import { openModel } from '../io/model-source/model';
import { createDecoderBase } from '../model/generate/base';
import type { WeightFormat } from '../reference/quant/packed';

type Msg =
  | { type: 'download'; folder: string; files: { name: string; url: string }[] }
  | { type: 'load'; folder: string; format: WeightFormat; limits: 'adapter' | 'default' };

const ROOT = 'studio-bench-models';

async function folderHandle(folder: string, create: boolean): Promise<FileSystemDirectoryHandle> {
  const root = await (await navigator.storage.getDirectory()).getDirectoryHandle(ROOT, { create });
  return root.getDirectoryHandle(folder, { create });
}

async function download(folder: string, files: { name: string; url: string }[]): Promise<{ bytes: number; ms: number }> {
  const t0 = performance.now();
  const dir = await folderHandle(folder, true);
  let bytes = 0;
  for (const f of files) {
    const res = await fetch(f.url);
    if (!res.ok || !res.body) throw new Error(`${f.url}: HTTP ${res.status}`);
    const out = await (await dir.getFileHandle(f.name, { create: true })).createWritable();
    await res.body.pipeTo(out); // streamed to disk, never whole in memory
    bytes += (await (await dir.getFileHandle(f.name)).getFile()).size;
  }
  return { bytes, ms: performance.now() - t0 };
}

async function load(folder: string, format: WeightFormat, limits: 'adapter' | 'default') {
  const gpu = await acquireGpu(navigator.gpu, { limits });
  const engine = createEngine(gpu);
  const t0 = performance.now();
  const dir = await folderHandle(folder, false);
  const files: File[] = [];
  for await (const h of (dir as unknown as { values(): AsyncIterable<FileSystemHandle> }).values()) {
    if (h.kind === 'file') files.push(await (h as FileSystemFileHandle).getFile());
  }
  const model = await openModel(fileModelFiles(files, folder));
  let readBytes = 0;
  await createDecoderBase(engine, model.config, { format, load: model.loader({ onRead: (b) => (readBytes += b) }) });
  await gpu.device.queue.onSubmittedWorkDone();
  const loadMs = performance.now() - t0;
  const result = { loadMs, readBytes, gpuBytes: engine.pool.ledgerSnapshot().total, tensors: (await model.tensorIndex()).size };
  engine.pool.destroyAll();
  gpu.device.destroy();
  return result;
}

self.onmessage = async (e: MessageEvent<Msg>) => {
  try {
    const m = e.data;
    if (m.type === 'download') self.postMessage({ type: 'downloaded', ...(await download(m.folder, m.files)) });
    else self.postMessage({ type: 'loaded', ...(await load(m.folder, m.format, m.limits)) });
  } catch (err) {
    self.postMessage({ type: 'error', message: `${(err as Error).name}: ${(err as Error).message}` });
  }
};
