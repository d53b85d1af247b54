import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFieldDocs } from '../../src/ui/stores/field-help';
import { STUDIO_DEFAULTS, validate } from '../../src/ui/stores/run-config';
import { labelOf } from '../../src/ui/stores/field-labels';
import { countLoraParams } from '../../src/config/param-count';
import { loraLayout } from '../../src/model/plan/lora-layout';
import { chunkOf, loraChunks } from '../../src/model/plan/lora-chunks';
import { tinyModelConfig } from '../../src/model/synthetic';

describe('the useDora run-config field', () => {
  it('has a label and a one-line explanation for the Configure form', () => {
    expect(labelOf('useDora')).toMatch(/DoRA/);
    expect(parseFieldDocs(readFileSync('src/config/run-config.ts', 'utf8')).useDora).toMatch(/^DoRA: also learn a magnitude/);
  });

  it('is off by default; the form takes it with or without the LM head, and refuses it with full finetuning', () => {
    expect(validate({ ...STUDIO_DEFAULTS }).config?.useDora).toBe(false);
    expect(validate({ ...STUDIO_DEFAULTS, useDora: true, targets: ['query', 'value', 'head'] }).config?.useDora).toBe(true);
    expect(validate({ ...STUDIO_DEFAULTS, useDora: true, targets: ['query', 'value'] }).config?.useDora).toBe(true);
    const bad = validate({ ...STUDIO_DEFAULTS, useDora: true, method: 'full' });
    expect(Object.keys(bad.errors)).toEqual(['useDora']);
    expect(bad.errors.useDora).toMatch(/DoRA is a LoRA method/);
  });

  it('the layout gives each module a 256-byte aligned magnitude (out) after B, counted as trainable, never cut by a chunk', () => {
    const model = tinyModelConfig();
    const lora = { r: 4, alpha: 8, dropout: 0, useRslora: false, targetModules: ['q_proj', 'down_proj'] as const, rankPattern: {}, alphaPattern: {}, useDora: true };
    const layout = loraLayout(model, { ...lora, targetModules: [...lora.targetModules] });
    for (const s of layout.slots) {
      expect(s.offsetM! % 64).toBe(0);
      expect(s.offsetM!).toBeGreaterThanOrEqual(s.offsetB + s.outFeatures * s.r);
    }
    expect(layout.params).toBe(countLoraParams(model, { ...lora, targetModules: [...lora.targetModules] }));
    const chunks = loraChunks(layout, 4 * 256, 64); // 256 floats per binding: the state in several chunks
    expect(chunks.length).toBeGreaterThan(2);
    for (const s of layout.slots) expect(() => chunkOf(chunks, s.offsetM!, s.outFeatures)).not.toThrow();
  });
});
