import { afterAll, describe, expect, it } from 'vitest';
import { prepareSampleLabelsChunk } from '../../src/engine/kernels/sample-labels';
import { writeBuffer } from '../../src/engine/upload';
import { sampleLabels } from '../../src/reference/ops/sample-labels';
import { softcapForward } from '../../src/reference/ops/softcap';
import { rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();

describe.skipIf(!engine)('sampled labels (Gumbel-max) vs src/reference/ops/sample-labels.ts', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  /** Sample on the GPU chunk by chunk (each chunk's logits written into one packed block, as the LM head does). */
  async function gpuSample(logits: Float32Array, targets: Int32Array, N: number, V: number, chunk: number, seed: number, step: number, softcap: number | null) {
    const [block, tg, score, index] = await Promise.all([
      upload(e, new Float32Array(N * chunk), 'logits chunk', 'workspace'), upload(e, new Uint32Array(targets.buffer.slice(0)), 'targets', 'activations'),
      upload(e, new Float32Array(N), 'best score', 'workspace'), upload(e, new Float32Array(N), 'best index', 'workspace'),
    ]);
    for (let v0 = 0; v0 < V; v0 += chunk) {
      const Vc = Math.min(chunk, V - v0);
      const packed = new Float32Array(N * Vc);
      for (let n = 0; n < N; n++) packed.set(logits.subarray(n * V + v0, n * V + v0 + Vc), n * Vc);
      writeBuffer(e.gpu.device, block, packed);
      const op = await prepareSampleLabelsChunk(e, { best: { score, index }, logits: block, targets: tg, N, V, v0, Vc, seed, softcap });
      op.setStep(step);
      run(e, op);
      await e.gpu.device.queue.onSubmittedWorkDone();
      op.destroy();
    }
    const f = await read(e, tg, N);
    const out = new Int32Array(f.buffer, f.byteOffset, N).slice();
    for (const b of [block, tg, score, index]) e.pool.destroy(b);
    return out;
  }

  for (const [name, softcap] of [['plain logits', null], ['with a final softcap of 3', 3]] as const) {
    it(`${name}: the same labels as the reference over 3 vocabulary chunks (the last one short), ignored rows kept`, async () => {
      const N = 13, V = 301; // the last chunk, 45 entries, ends inside a Philox block
      const logits = rand(N * V, 11, 4);
      const targets = Int32Array.from({ length: N }, (_, n) => (n % 4 === 3 ? -100 : (7 * n) % V));
      const got = await gpuSample(logits, targets, N, V, 128, 42, 17, softcap);
      const capped = new Float32Array(N * V);
      if (softcap) softcapForward(capped, logits, N * V, softcap);
      const want = sampleLabels(softcap ? capped : logits, targets, N, V, 42, 17);
      expect(Array.from(got)).toEqual(Array.from(want));
      for (let n = 3; n < N; n += 4) expect(got[n]).toBe(-100);
      // another step draws other labels
      const other = sampleLabels(logits, targets, N, V, 42, 18);
      expect(Array.from(other)).not.toEqual(Array.from(sampleLabels(logits, targets, N, V, 42, 17)));
    });
  }

  it('the draw is from softmax(logits): frequencies over 20000 rows of the reference (the GPU makes the same draws) match the probabilities', () => {
    const N = 20000, V = 4;
    const row = [0, 1, 2, -1];
    const logits = Float32Array.from({ length: N * V }, (_, i) => row[i % V]);
    const got = sampleLabels(logits, new Int32Array(N), N, V, 5, 0);
    const z = row.reduce((s, x) => s + Math.exp(x), 0);
    for (let v = 0; v < V; v++) {
      const p = Math.exp(row[v]) / z;
      const freq = got.filter((x) => x === v).length / N;
      // 4.5 standard deviations of a binomial proportion: a wrong sampler fails, a right one passes
      expect(Math.abs(freq - p), `label ${v}: frequency ${freq} vs probability ${p.toFixed(3)}`).toBeLessThan(4.5 * Math.sqrt(p * (1 - p) / N));
    }
  });
});
