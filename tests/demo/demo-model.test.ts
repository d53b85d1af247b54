/**
 * The demo model learned something: the CPU reference (the spec) gives English text and a dataset
 * example a finite loss well below uniform guessing (ln 259 = 5.56 nats per byte), and the
 * pretraining record is consistent with the files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesSource, openSafetensors } from '../../src/io/safetensors';
import { parseModelConfig } from '../../src/config/model-config';
import { forward, type RefModel } from '../../src/reference';
import { byteIds } from '../../scripts/make-demo/tokenizer-files';

const DIR = join(__dirname, '../../public/demo');

async function loadModel(): Promise<RefModel> {
  const config = parseModelConfig(JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')));
  const file = await openSafetensors(bytesSource(new Uint8Array(readFileSync(join(DIR, 'model.safetensors')))));
  const weights = new Map<string, Float32Array>();
  for (const name of file.names()) weights.set(name, await file.readF32(name));
  return { config, weights };
}

/** Mean next-token loss of BOS + text (every position a target). */
function loss(model: RefModel, text: string): number {
  const ids = [1, ...byteIds(text)];
  const T = ids.length - 1;
  const r = forward(model, new Map(), Int32Array.from(ids.slice(0, T)), Int32Array.from(ids.slice(1)), 1, T);
  return r.loss;
}

describe('the demo model', () => {
  it('predicts English text far better than uniform', async () => {
    const model = await loadModel();
    const uniform = Math.log(model.config.vocabSize);
    // Not in the corpus (the corpus is Austen's; this is written for the test).
    const l = loss(model, 'She said that she would not go to the house of her sister, for she was tired of the long walk.');
    expect(Number.isFinite(l)).toBe(true);
    expect(l).toBeLessThan(uniform - 2);
  });

  it('gives a dataset example a finite loss below uniform before any finetuning', async () => {
    const model = await loadModel();
    const first = JSON.parse(readFileSync(join(DIR, 'dataset.jsonl'), 'utf8').split('\n')[0]);
    const l = loss(model, `Q: ${first.instruction}${first.input ? `\n\n${first.input}` : ''}\nA: ${first.output}`);
    expect(Number.isFinite(l)).toBe(true);
    expect(l).toBeLessThan(Math.log(model.config.vocabSize));
  });

  it('pretraining.json records a run whose validation loss fell', () => {
    const rec = JSON.parse(readFileSync(join(DIR, 'pretraining.json'), 'utf8'));
    expect(rec.corpus.package).toBe('r-cran-janeaustenr');
    expect(rec.cycles.length).toBe(rec.options.cycles);
    const evals = rec.cycles.map((c: { evalLoss: number }) => c.evalLoss);
    expect(evals[evals.length - 1]).toBeLessThan(evals[0]);
    expect(rec.modelBytes).toBe(readFileSync(join(DIR, 'model.safetensors')).length);
  });
});
