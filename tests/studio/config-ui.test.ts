import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runConfigSchema, parseRunConfig } from '../../src/config/run-config';
import { parseFieldDocs } from '../../src/ui/stores/field-help';
import { STUDIO_DEFAULTS, validate } from '../../src/ui/stores/run-config';
import { guidance, memoryFixes } from '../../src/ui/features/config/guidance';
import { inPlainWords, labelOf } from '../../src/ui/stores/field-labels';
import { adaptedPaths, patternErrors, patternMatches, patternProblem } from '../../src/ui/stores/lora-patterns';
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
    // Cross-field rules (zod runs them once the fields themselves are valid), in words.
    const w = validate({ ...STUDIO_DEFAULTS, doubleQuant: true, basePrecision: 'f32' });
    expect(Object.keys(w.errors)).toEqual(['doubleQuant']);
    expect(w.errors.doubleQuant).toMatch(/NF4/);
  });

  it('messages are plain words: no type names, no identifiers', () => {
    const v = validate({ ...STUDIO_DEFAULTS, rank: 1.5, alpha: 0, dropout: 2, betas: [0.9, 1], schedule: 'x' });
    expect(v.errors).toEqual({
      rank: 'enter a whole number', alpha: 'must be more than 0', dropout: 'must be at most 0.9', 'betas.1': 'must be less than 1', schedule: 'choose one of the options',
    });
    expect(inPlainWords('warmupSteps (5) exceeds maxSteps (3); see checkpointEveryMinutes')).toBe('warmup steps (5) exceeds max steps (3); see checkpoint every');
    expect(labelOf('betas.1')).toBe('Beta 2');
  });

  it('the constant schedule is not blocked by the warmup the form hides; a warmup longer than the run is cut and explained', () => {
    const constant = validate({ ...STUDIO_DEFAULTS, schedule: 'constant', warmupSteps: 5 });
    expect(constant.errors).toEqual({});
    expect(constant.config?.warmupSteps).toBe(0);
    const long = validate({ ...STUDIO_DEFAULTS, schedule: 'warmup-cosine', warmupSteps: 100, maxSteps: 60 });
    expect(long.errors).toEqual({});
    expect(long.config?.warmupSteps).toBe(60);
    expect(long.adjusted[0].text).toMatch(/Warmup \(100 steps\) is longer than the run \(60 steps\)/);
  });

  it('checkpoints every 10 steps by default', () => {
    expect(validate(STUDIO_DEFAULTS as Record<string, unknown>).config?.checkpointEverySteps).toBe(10);
  });
});

describe('per-layer patterns', () => {
  it('a pattern that is not a regular expression is an error on the field and blocks the config', () => {
    const v = validate({ ...STUDIO_DEFAULTS, rankPattern: { '(': 16 } });
    expect(v.config).toBeNull();
    expect(v.errors.rankPattern).toMatch(/^"\(" is not a valid pattern \(/);
    expect(patternProblem('q_proj')).toBeNull();
    expect(patternErrors({ 'layers\\.[': 4, ok: 2 })).toHaveLength(1);
  });

  it('counts the adapted modules a pattern reaches, PEFT-style (the end of the path)', () => {
    const paths = adaptedPaths(2, ['query', 'value']);
    expect(paths).toEqual(['model.layers.0.self_attn.q_proj', 'model.layers.1.self_attn.q_proj', 'model.layers.0.self_attn.v_proj', 'model.layers.1.self_attn.v_proj']);
    expect(patternMatches('q_proj', paths)).toBe(2);
    expect(patternMatches('layers\\.0\\..*', paths)).toBe(2);
    expect(patternMatches('model.layers.1.self_attn.v_proj', paths)).toBe(1);
    expect(patternMatches('gate_proj', paths)).toBe(0);
    expect(patternMatches('(', paths)).toBe(0);
  });
});

const estimate = (over: Partial<Estimate> = {}): Estimate => ({
  trainableParams: 1000, baseParams: 500_000_000, trainablePercent: 1,
  memory: { byCategory: { weights: 1, lora: 1, grads: 1, optimizer: 1, activations: 1, workspace: 1 }, total: 6, largest: { label: 'x', bytes: 1 } },
  limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 }, problems: [], examples: 100, tokensPerEpoch: 1000, lossTokensPerEpoch: 500,
  microBatchesPerEpoch: 25, steps: 100, ...over,
});

describe('guidance', () => {
  const cfg = (over: Record<string, unknown> = {}) => parseRunConfig({ ...STUDIO_DEFAULTS, ...over });
  const fields = (notes: { field: string }[]) => notes.map((n) => n.field);

  it('says nothing about a sensible config', () => {
    expect(guidance(cfg({ learningRate: 2e-4, targets: ['query', 'key', 'value', 'projection', 'mlp'] }), estimate(), null, 2048)).toEqual([]);
  });

  it('takes the demo defaults (learning rate 1e-2, LoRA on the head) as sensible for a tiny model, not for a large one', () => {
    const tiny = estimate({ baseParams: 133_440 });
    expect(guidance(cfg(), tiny, null, 256)).toEqual([]);
    expect(fields(guidance(cfg({ learningRate: 5e-2 }), tiny, null, 256))).toContain('learningRate');
    const large = guidance(cfg(), estimate(), null, 2048);
    expect(fields(large)).toEqual(expect.arrayContaining(['learningRate', 'targets']));
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

  it('full finetuning: full-finetuning learning rates, no advice about the adapter settings it does not use', () => {
    const full = (over: Record<string, unknown> = {}) => cfg({ method: 'full', basePrecision: 'f32', ...over });
    // The LoRA defaults (rank 16, LoRA on the head, alpha 32) say nothing here; LoRA's learning rate is too high.
    const notes = guidance(full({ rank: 64, alpha: 8, dropout: 0.5, learningRate: 2e-4 }), estimate(), null, 2048);
    expect(fields(notes)).toEqual(['learningRate']);
    expect(notes[0].text).toMatch(/high for full finetuning.*1e-5 to 5e-5/);
    expect(guidance(full({ learningRate: 3e-5 }), estimate(), null, 2048)).toEqual([]);
    // The demo (133k parameters) tolerates about 1e-3, not the LoRA demo's 1e-2.
    const tiny = estimate({ baseParams: 133_440 });
    expect(guidance(full({ learningRate: 1e-3 }), tiny, null, 256)).toEqual([]);
    expect(fields(guidance(full({ learningRate: 1e-2 }), tiny, null, 256))).toEqual(['learningRate']);
  });

  it('counts the examples the maximum sequence length cuts', () => {
    const data = { lengths: [10, 20, 30, 200, 300], validation: 1 } as DatasetSummary;
    const n = guidance(cfg({ maxSeqLen: 64, learningRate: 2e-4 }), estimate(), data).find((x) => x.field === 'maxSeqLen');
    expect(n?.text).toMatch(/^2 of 5 examples/);
  });
});
