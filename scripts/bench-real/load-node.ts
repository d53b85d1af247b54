// Load time and host memory of a base model to the GPU in Node (download excluded: a folder on
// disk): open, read the weights in chunks, quantize on the GPU (`--cpu`: the f32 loader, every
// tensor converted and packed in JavaScript, the path before the GPU quantizer). Prints one JSON line.
//   node --expose-gc --import tsx --import ./scripts/raw-import.mjs scripts/bench-real/load-node.ts <dir> [--format nf4] [--cpu]
import { parseArgs } from 'node:util';
import { createEngine } from '../../src/engine/context';
import { acquireGpu } from '../../src/engine/device';
import { nodeGpu } from '../../src/engine/node-gpu';
import { openModelSpec } from '../../src/io/model-source/node';
import type { TensorLoader } from '../../src/io/model-source/types';
import { createDecoderBase } from '../../src/model/generate/base';
import type { WeightFormat } from '../../src/reference/quant/packed';
import { measureMemory } from './memory';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { format: { type: 'string', default: 'nf4' }, cpu: { type: 'boolean', default: false } } });
const dir = positionals[0];
if (!dir) throw new Error('usage: load-node.ts <model dir> [--format nf4] [--cpu]');
const format = values.format as WeightFormat;
const gpu = await acquireGpu(await nodeGpu(), { limits: 'adapter' });
const engine = createEngine(gpu);
let read = 0;
const { result, memory } = await measureMemory(async () => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const model = await openModelSpec(dir);
  const load = model.loader({ onRead: (b) => (read += b) });
  const f32Only: TensorLoader = (name, range) => load(name, range); // no `raw`: the CPU packer
  await createDecoderBase(engine, model.config, { format, load: values.cpu ? f32Only : load });
  await gpu.device.queue.onSubmittedWorkDone();
  const loadMs = performance.now() - t0;
  // CPU time of the process (JavaScript and, on SwiftShader, the GPU's threads): not inflated by other load.
  const c = process.cpuUsage(c0);
  await model.close();
  return { loadMs, cpuMs: (c.user + c.system) / 1000, tensors: (await model.tensorIndex()).size };
});
console.log(JSON.stringify({
  path: values.cpu ? 'cpu' : 'gpu', format, loadMs: Math.round(result.loadMs), cpuMs: Math.round(result.cpuMs), readBytes: read, tensors: result.tensors,
  gpuBytes: engine.pool.ledgerSnapshot().total, ...memory,
}));
engine.pool.destroyAll();
process.exit(0);
