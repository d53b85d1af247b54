import { loraScaling } from '../../config/lora-config';
import type { ActivationPrecision } from '../../config/run-config';
import { adamwStep, forward, lossAndGrads, type LoraWeights, type RefModel } from '../../reference';
import { adapterKey, type GoldenCase } from './golden-case';
import type { GoldenEngine, GoldenResult } from './golden-engine';

/**
 * The golden case on the CPU reference: forward, backward, one AdamW step, forward again; with
 * `activationPrecision` 'bf16' the reference rounds the saved activations as the GPU stores them
 * (and, with `activationCheckpointing`, recomputes the layers from their stored inputs as the GPU does).
 */
export const cpuGoldenEngineFor = (activationPrecision: ActivationPrecision, opts: { activationCheckpointing?: boolean } = {}): GoldenEngine => ({
  name: activationPrecision === 'bf16' ? 'cpu (bf16 activations)' : 'cpu',
  async run(c: GoldenCase): Promise<GoldenResult> {
    const model: RefModel = { config: c.config, weights: c.weights };
    const lora: LoraWeights = new Map();
    for (const t of c.adapter.tensors) {
      lora.set(t.path, { A: t.A.slice(), B: t.B.slice(), r: t.r, scale: loraScaling(t.r, t.alpha, c.adapter.config.useRslora), ...(t.M ? { m: t.M.slice() } : {}) });
    }
    const { loss, logits, grads } = lossAndGrads(model, lora, c.tokens, c.targets, c.B, c.T, { activationPrecision, ...opts });

    const gradByKey = new Map<string, Float32Array>();
    const after = new Map<string, Float32Array>();
    const hp = { lr: c.adamw.lr, beta1: c.adamw.betas[0], beta2: c.adamw.betas[1], eps: c.adamw.eps, weightDecay: c.adamw.weightDecay };
    for (const [path, g] of grads) {
      const m = lora.get(path)!;
      gradByKey.set(adapterKey(path, 'A'), Float32Array.from(g.dA));
      gradByKey.set(adapterKey(path, 'B'), Float32Array.from(g.dB));
      if (m.m && g.dm) gradByKey.set(adapterKey(path, 'M'), Float32Array.from(g.dm));
      const steps = [['A', m.A, g.dA], ['B', m.B, g.dB], ...(m.m && g.dm ? [['M', m.m, g.dm] as const] : [])] as const;
      for (const [which, p, dp] of steps) {
        adamwStep(p, dp, new Float32Array(p.length), new Float32Array(p.length), 1, hp);
        after.set(adapterKey(path, which), Float32Array.from(p));
      }
    }
    const second = forward(model, lora, c.tokens, c.targets, c.B, c.T, { activationPrecision, ...opts });
    return { logits: Float32Array.from(logits), loss, grads: gradByKey, afterAdamw: after, lossAfterAdamw: second.loss };
  },
});

export const cpuGoldenEngine: GoldenEngine = cpuGoldenEngineFor('f32');
