import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runConfigSchema, parseRunConfig } from '../../src/config/run-config';
import { parseFieldDocs } from '../../src/ui/stores/field-help';
import { STUDIO_DEFAULTS, validate } from '../../src/ui/stores/run-config';
import { guidance, memoryFixes } from '../../src/ui/features/config/guidance';
import type { DatasetSummary, Estimate } from '../../src/worker/api';

describe('field explanations come from the schema doc comments', () => {
  const docs = parseFieldDocs(readFileSync('src/config/run-config.ts', 'utf8'));
  it('every RunConfig field has its one-line explanation, and only its own', () => {
    for (const k of Object.keys(runConfigSchema.shape)) expect(docs[k], k).toBeTruthy();
    expect(docs.rank).toMatch(/^LoRA rank r/);
    expect(docs.rank).not.toMatch(/Everything a training run/);
  });
});

describe('the config draft', () => {
  it('the studio defaults are a valid config', () => {
    const v = validate(STUDIO_DEFAULTS as Record<string, unknown>);
    expect(v.errors).toEqual({});
    expect(v.config).toEqual(parseRunConfig(STUDIO_DEFAULTS));
  });

  it('errors are keyed by field, including cross-field ones and text typed into a number box', () => {
    const v = validate({ ...STUDIO_DEFAULTS, rank: 0, learningRate: '2e-', betas: [0.9, 1.5], targets: [] });
    expect(v.config).toBeNull();
    expect(Object.keys(v.errors).sort()).toEqual(['betas.1', 'learningRate', 'rank', 'targets']);
    expect(v.errors.learningRate).toBe('enter a number');
    expect(v.errors.targets).toMatch(/at least one/);
    // Cross-field rules (zod runs them once the fields themselves are valid).
    const w = validate({ ...STUDIO_DEFAULTS, schedule: 'constant', warmupSteps: 5 });
    expect(Object.keys(w.errors)).toEqual(['warmupSteps']);
    expect(w.errors.warmupSteps).toMatch(/warmup/);
  });
});

const estimate = (over: Partial<Estimate> = {}): Estimate => ({
  trainableParams: 1000, baseParams: 100000, trainablePercent: 1,
  memory: { byCategory: { weights: 1, lora: 1, grads: 1, optimizer: 1, activations: 1, workspace: 1 }, total: 6, largest: { label: 'x', bytes: 1 } },
  limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 }, problems: [], examples: 100, tokensPerEpoch: 1000, lossTokensPerEpoch: 500,
  microBatchesPerEpoch: 25, steps: 100, ...over,
});

describe('guidance', () => {
  const cfg = (over: Record<string, unknown> = {}) => parseRunConfig({ ...STUDIO_DEFAULTS, ...over });
  const fields = (notes: { field: string }[]) => notes.map((n) => n.field);

  it('says nothing about a sensible config', () => {
    expect(guidance(cfg({ learningRate: 2e-4 }), estimate(), null, 2048)).toEqual([]);
  });

  it('flags alpha far from 2 x rank, but not with rsLoRA', () => {
    expect(fields(guidance(cfg({ rank: 64, alpha: 8, learningRate: 2e-4 }), estimate(), null))).toContain('alpha');
    expect(fields(guidance(cfg({ rank: 64, alpha: 8, useRslora: true, learningRate: 2e-4 }), estimate(), null))).not.toContain('alpha');
  });

  it('a learning rate fine for query + value is too high for all linear layers', () => {
    expect(fields(guidance(cfg({ learningRate: 5e-4, targets: ['query', 'value'] }), estimate(), null))).not.toContain('learningRate');
    const notes = guidance(cfg({ learningRate: 5e-4, targets: ['query', 'key', 'value', 'projection', 'mlp'] }), estimate(), null);
    expect(notes.find((n) => n.field === 'learningRate')?.text).toMatch(/all linear layers/);
  });

  it('memory over the limit suggests NF4, shorter sequences and a smaller micro-batch', () => {
    const c = cfg({ maxSeqLen: 1024, microBatch: 8, learningRate: 2e-4 });
    const notes = guidance(c, estimate({ problems: ['buffer "x" needs 2 GiB'] }), null);
    expect(notes.some((n) => n.level === 'warn' && /2 GiB/.test(n.text))).toBe(true);
    expect(memoryFixes(c).join(' ')).toMatch(/NF4.*shorter sequences.*smaller micro-batch/);
  });

  it('counts the examples the maximum sequence length cuts', () => {
    const data = { lengths: [10, 20, 30, 200, 300], validation: 1 } as DatasetSummary;
    const n = guidance(cfg({ maxSeqLen: 64, learningRate: 2e-4 }), estimate(), data).find((x) => x.field === 'maxSeqLen');
    expect(n?.text).toMatch(/^2 of 5 examples/);
  });
});
