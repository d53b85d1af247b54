// Progress of a transfer in bytes (downloads in the model panel, the base model's upload to the GPU):
// the average rate and the time left, no figure from too little data, and the phase events of an
// upload with what the GPU does with the weights.
import { describe, expect, it } from 'vitest';
import { TransferRate } from '../../src/core/transfer-rate';
import { transfer } from '../../src/ui/components/format';
import type { TrainEvent } from '../../src/worker/api';
import { uploadProgress } from '../../src/worker/upload-progress';

describe('transfer rate and time left', () => {
  it('is the average since the first figure, and waits for half a second and 1% of the bytes', () => {
    let t = 0;
    const r = new TransferRate(() => t);
    expect(r.update(0, 1000)).toEqual({ done: 0, total: 1000, bytesPerS: null, etaS: null });
    t = 400;
    expect(r.update(200, 1000).bytesPerS).toBeNull(); // 0.4 s: too early
    t = 2000;
    const f = r.update(500, 1000);
    expect(f.bytesPerS).toBe(250);
    expect(f.etaS).toBe(2);
    expect(transfer(f)).toBe('500 B / 1000 B · 250 B/s · 2s left');
  });

  it('has no time left without a total, and none once done', () => {
    let t = 0;
    const r = new TransferRate(() => t);
    r.update(0, null);
    t = 1000;
    expect(r.update(4096, null)).toEqual({ done: 4096, total: null, bytesPerS: 4096, etaS: null });
    expect(transfer({ done: 10, total: 10, bytesPerS: 5, etaS: 0 })).toBe('10 B / 10 B · 5 B/s');
  });
});

describe('upload progress events', () => {
  it('reports bytes of the total, at most one event per interval, naming the quantization', () => {
    const events: TrainEvent[] = [];
    const p = uploadProgress(1000, 'nf4', (e) => events.push(e), 60_000);
    p.start();
    p.onRead(100);
    p.onTensor('model.layers.0.mlp.up_proj.weight');
    p.onRead(100); // within the interval: no event
    expect(events).toHaveLength(1);
    const first = events[0];
    expect(first).toMatchObject({ type: 'phase', phase: 'loading-weights', progress: 0, transfer: { done: 0, total: 1000 } });
    expect(first.type === 'phase' && first.message).toBe('Uploading the base model to the GPU, quantized to NF4 on the GPU');
    const every = uploadProgress(1000, 'bf16', (e) => events.push(e), 0);
    every.onTensor('model.embed_tokens.weight');
    every.onRead(500);
    expect(events[1]).toMatchObject({ progress: 0.5, message: 'Uploading the base model to the GPU, stored as bf16: model.embed_tokens.weight' });
  });
});
