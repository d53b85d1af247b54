/**
 * Full finetuning runs as the studio's pages show them, without a browser: the run's default name
 * ("full adamw lr 1e-4 f32", no rank or alpha), the Runs comparison (a method row, dashes for
 * LoRA's settings), the Sweep tab's method axis (full finetuning's f32 set for every run, so the
 * rows compare) and the message after a download.
 */
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../src/config/run-config';
import type { RunRecord } from '../../src/io/stores/runs';
import { expandAxes } from '../../src/train/sweep/grid';
import { downloadMessage } from '../../src/ui/features/adapters/full-models-store';
import { COMPARE_ROWS } from '../../src/ui/features/runs/compare-rows';
import { buildSweep, emptyPicks } from '../../src/ui/features/sweep/axes';
import { STUDIO_DEFAULTS, validate } from '../../src/ui/stores/run-config';
import { configSummary } from '../../src/worker/training-run';

const record = (config: object): RunRecord => ({
  version: 1, id: 'run-1', name: 'r', createdAt: 0, updatedAt: 0, status: 'completed', config: parseRunConfig(config),
  model: { name: 'm', source: 'demo', params: 10 }, dataset: { name: 'd', examples: 1, validation: 0, tokensPerEpoch: 1 }, totalSteps: 1, pointCount: 0,
});
const row = (r: RunRecord, label: string) => COMPARE_ROWS.find(([l]) => l === label)![1](r);

describe('full finetuning runs in the studio\'s pages', () => {
  it('names a full run by what sets it apart: method, optimizer, learning rate, precision', () => {
    expect(configSummary(parseRunConfig({ method: 'full', learningRate: 1e-4 }))).toBe('full adamw lr 1e-4 f32');
    expect(configSummary(parseRunConfig({ method: 'full', optimizer: 'sgd', learningRate: 0.003 }))).toBe('full sgd lr 3e-3 f32');
    expect(configSummary(parseRunConfig({ rank: 8, alpha: 16 }))).toBe('r8 α16 query+value f32');
  });

  it('the comparison shows the method and no LoRA rank, alpha or targets for a full run', () => {
    const full = record({ method: 'full', rank: 16 });
    const lora = record({ rank: 16, alpha: 32 });
    expect([row(full, 'Method'), row(full, 'Rank'), row(full, 'Alpha'), row(full, 'Targets')]).toEqual(['full finetuning', '– (full finetuning)', '– (full finetuning)', '– (full finetuning)']);
    expect([row(lora, 'Method'), row(lora, 'Rank'), row(lora, 'Alpha')]).toEqual(['LoRA', '16', '32']);
  });

  it('a sweep over the method keeps the base weights in f32 in every run, and says so', () => {
    const config = validate({ ...STUDIO_DEFAULTS, basePrecision: 'nf4' }).config!;
    const picks = emptyPicks();
    picks.method = { on: true, text: '', chosen: ['lora', 'full'] };
    const built = buildSweep(config, { picks, alpha: 'tied' });
    expect(built.errors).toEqual({});
    expect(built.request!.axes).toEqual([['method', ['lora', 'full']]]);
    expect(built.notes.join(' ')).toMatch(/every run keeps the base weights in f32 \(Configure says nf4\)/);
    const runs = expandAxes(built.request!.base, built.request!.axes).map((r) => parseRunConfig(r.config));
    expect(runs.map((r) => [r.method, r.basePrecision])).toEqual([['lora', 'f32'], ['full', 'f32']]);
  });

  it('the download message lists the files and how to load the folder', () => {
    const msg = downloadMessage({ zip: new Blob([]), fileName: 'my_run.zip', totalBytes: 2048, files: [{ name: 'README.md', bytes: 1 }, { name: 'model.safetensors', bytes: 2 }] });
    expect(msg).toBe('Downloaded my_run.zip (2.0 KiB): README.md, model.safetensors. Unzip it and load the folder as it is: AutoModelForCausalLM.from_pretrained("my_run") and AutoTokenizer.from_pretrained("my_run"); README.md is its model card.');
  });
});
