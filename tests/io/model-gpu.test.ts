/**
 * A checkpoint loaded through a model source streams into the GPU training graph and gives the
 * CPU reference's logits: Llama 3 RoPE scaling (the GPU tables), Qwen2 biases and tied head,
 * F16/BF16/F32 tensors, shards, and NF4 quantization on the way in.
 */
import { describe, expect, it } from 'vitest';
import { openFilesModel } from '../../src/io/model-source';
import { buildTrainGraph } from '../../src/model/graph/train-graph';
import { readFloat32 } from '../../src/engine/readback';
import { forward } from '../../src/reference';
import { parseRunConfig } from '../../src/config/run-config';
import { submitForward } from '../../src/train/step';
import { testEngine } from '../gpu/gpu';
import { asFiles, tinyHfModel } from './model-fixture';

const engine = await testEngine();
const B = 2;
const T = 7;
const tokens = Int32Array.from({ length: B * T }, (_, i) => (i * 5 + 2) % 67);
const targets = Int32Array.from({ length: B * T }, (_, i) => (i * 3 + 1) % 67);

describe.skipIf(!engine)('model source -> GPU graph', () => {
  it.each([
    ['Llama 3 RoPE, 3 shards, f32 base', tinyHfModel({ shards: 3, llama3Rope: true }), 'f32', 2e-4],
    ['Qwen2, 2 shards, f32 base', tinyHfModel({ qwen: true, shards: 2 }), 'f32', 2e-4],
    ['Llama, NF4 base (quantized while streaming)', tinyHfModel({ llama3Rope: true }), 'nf4', null],
  ] as const)('%s', async (_, m, basePrecision, tol) => {
    const src = await openFilesModel(asFiles(m.files));
    const run = parseRunConfig({ basePrecision, microBatch: B, maxSeqLen: T, vocabChunk: 67, targets: ['query'], rank: 2, dropout: 0 });
    const seen: string[] = [];
    const g = await buildTrainGraph(engine!, src.config, run, { load: src.loader({ onTensor: (name) => seen.push(name) }) });
    expect(seen.length).toBe(m.weights.size);
    submitForward(g, { tokens, targets });
    const logits = await readFloat32(engine!.gpu.device, g.ws.logits, B * T * 67);
    const ref = forward({ config: m.config, weights: m.weights }, new Map(), tokens, targets, B, T);
    if (tol === null) {
      // NF4 changes the weights: the logits must still track the reference's, not equal them.
      let num = 0;
      let den = 0;
      for (let i = 0; i < logits.length; i++) {
        num += (logits[i] - ref.logits[i]) ** 2;
        den += ref.logits[i] ** 2;
      }
      expect(Math.sqrt(num / den)).toBeLessThan(0.25);
    } else {
      let worst = 0;
      for (let i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs(logits[i] - ref.logits[i]) / (1 + Math.abs(ref.logits[i])));
      expect(worst).toBeLessThan(tol);
    }
    await src.close();
  });
});
