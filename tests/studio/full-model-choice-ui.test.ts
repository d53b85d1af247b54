/**
 * The playground's choice of an adapter or a fully finetuned model (one <select>), without a
 * browser: values that keep the two libraries apart, the default after a listing, the output's
 * title; and the message after a finetuned model's GGUF download.
 */
import { describe, expect, it } from 'vitest';
import type { AdapterMeta, FullModelMeta } from '../../src/worker/api';
import { ggufMessage } from '../../src/ui/features/adapters/full-models-store';
import { choiceValue, parseChoice, tunedTitle, validChoice } from '../../src/ui/features/playground/tuned-choice';

const adapter = (id: string, name = id) => ({ id, name }) as AdapterMeta;
const full = (id: string, baseModel = 'demo', name = id) => ({ id, name, baseModel }) as FullModelMeta;

describe('the playground\'s adapter or finetuned model', () => {
  it('round-trips adapters, finetuned models and none through the select value', () => {
    for (const c of [{ adapterId: 'adapter-1', fullModelId: null }, { adapterId: null, fullModelId: 'model-1' }, { adapterId: null, fullModelId: null }]) {
      expect(parseChoice(choiceValue(c))).toEqual(c);
    }
    expect(choiceValue({ adapterId: null, fullModelId: 'model-1' })).toBe('full:model-1');
  });

  it('keeps a listed choice, and otherwise takes the newest adapter, else the newest finetune of the loaded model', () => {
    const chosen = { adapterId: null, fullModelId: 'f2' };
    expect(validChoice(chosen, [adapter('a1')], [full('f1'), full('f2')], 'demo')).toBe(chosen);
    expect(validChoice({ adapterId: null, fullModelId: 'gone' }, [adapter('a1')], [full('f1')], 'demo')).toEqual({ adapterId: 'a1', fullModelId: null });
    expect(validChoice({ adapterId: 'gone', fullModelId: null }, [], [full('other', 'x'), full('f1')], 'demo')).toEqual({ adapterId: null, fullModelId: 'f1' });
    expect(validChoice({ adapterId: null, fullModelId: null }, [], [full('other', 'x')], 'demo')).toEqual({ adapterId: null, fullModelId: null });
  });

  it('titles the second output by what runs there', () => {
    expect(tunedTitle({ adapterId: null, fullModelId: 'f1' }, [], [full('f1', 'demo', 'my full run')])).toBe('Finetuned model my full run');
    expect(tunedTitle({ adapterId: 'a1', fullModelId: null }, [adapter('a1', 'r8')], [])).toBe('Base + r8');
    expect(tunedTitle({ adapterId: null, fullModelId: null }, [], [])).toBe('Base + adapter (choose one)');
  });

  it('says how to run a finetuned model\'s GGUF', () => {
    const msg = ggufMessage({ gguf: new Blob([]), fileName: 'run-q8_0.gguf', bytes: 4096, modelfile: { name: 'run-q8_0.Modelfile', bytes: new Uint8Array() }, baseFileName: null, warnings: [] });
    expect(msg).toBe('Downloaded run-q8_0.gguf (4.0 KiB): the whole finetuned model, nothing else needed. For llama.cpp: llama-cli -m run-q8_0.gguf. For Ollama, download its Modelfile, put it next to the file and run: ollama create my-model -f run-q8_0.Modelfile.');
  });
});
