/**
 * The bundled demo in public/demo parses with the studio's own readers, the tokenizer round-trips
 * the dataset, and the committed files are exactly what scripts/make-demo writes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { prepareDataset } from '../../src/data/prepare';
import { ModelTokenizer } from '../../src/data/tokenizer';
import { bytesSource, openSafetensors } from '../../src/io/safetensors';
import { parseModelConfig } from '../../src/config/model-config';
import { instructionDataset, toJsonl } from '../../scripts/make-demo/instructions';
import { initialWeights, tensorShape } from '../../scripts/make-demo/model-init';
import { byteIds, tokenizerConfigJson, tokenizerJson } from '../../scripts/make-demo/tokenizer-files';

const DIR = join(__dirname, '../../public/demo');
const read = (f: string) => readFileSync(join(DIR, f));
const readJson = (f: string) => JSON.parse(read(f).toString('utf8'));
const config = parseModelConfig(readJson('config.json'));
const tokenizer = () => new ModelTokenizer({ tokenizerJson: readJson('tokenizer.json'), tokenizerConfig: readJson('tokenizer_config.json'), name: 'demo' });
const records = read('dataset.jsonl').toString('utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('public/demo', () => {
  it('config.json is a small LlamaForCausalLM the studio parses', () => {
    expect(readJson('config.json').architectures).toEqual(['LlamaForCausalLM']);
    expect(config).toMatchObject({
      modelType: 'llama', vocabSize: 320, hiddenSize: 64, intermediateSize: 176, numLayers: 2, numHeads: 4, numKvHeads: 2,
      headDim: 16, maxPositionEmbeddings: 256, tieWordEmbeddings: false, bosTokenId: 1, eosTokenId: 2,
    });
  });

  it('model.safetensors holds every tensor of the config, F32, with its shape, and finite values', async () => {
    const file = await openSafetensors(bytesSource(new Uint8Array(read('model.safetensors'))));
    const expected = [...initialWeights(config, 0).keys()];
    expect([...file.names()].sort()).toEqual([...expected].sort());
    for (const name of expected) {
      const info = file.info(name);
      expect(info.dtype, name).toBe('F32');
      expect(info.shape, name).toEqual(tensorShape(config, name));
      const data = await file.readF32(name);
      expect(data.every(Number.isFinite), `${name} has a non-finite value`).toBe(true);
    }
    // Pretraining moved the linear layers away from their initial values (embeddings stay).
    const init = initialWeights(config, 1);
    const q = await file.readF32('model.layers.0.self_attn.q_proj.weight');
    expect(q.some((v, i) => Math.abs(v - init.get('model.layers.0.self_attn.q_proj.weight')![i]) > 1e-3)).toBe(true);
  });

  it('the tokenizer loads with @huggingface/tokenizers and the studio wrapper; pad is not EOS', () => {
    const raw = new Tokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'));
    expect(raw.encode('Hi').ids).toEqual([1, 3 + 72, 3 + 105]); // BOS from the post-processor, then bytes
    const tok = tokenizer();
    expect({ bos: tok.bos, eos: tok.eos, pad: tok.pad, addsBos: tok.addsBos, vocab: tok.vocabSize }).toEqual({ bos: 1, eos: 2, pad: 0, addsBos: true, vocab: 259 });
    expect(config.vocabSize).toBeGreaterThanOrEqual(tok.vocabSize); // rows padded to a multiple of 64
    expect(tok.applyChatTemplate([{ role: 'user', content: 'What is 3 + 5?' }, { role: 'assistant', content: '8.' }])).toBe('<s>Q: What is 3 + 5?\nA: 8.</s>');
    expect(tok.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true })).toBe('<s>Q: Hi\nA: ');
  });

  it('dataset.jsonl: a few hundred valid Alpaca records', () => {
    expect(records.length).toBeGreaterThanOrEqual(200);
    expect(records.length).toBeLessThanOrEqual(1000);
    for (const r of records) {
      expect(Object.keys(r).sort()).toEqual(['input', 'instruction', 'output']);
      expect(typeof r.instruction === 'string' && r.instruction.length > 0).toBe(true);
      expect(typeof r.input).toBe('string');
      expect(typeof r.output === 'string' && r.output.length > 0).toBe(true);
    }
    expect(new Set(records.map((r) => JSON.stringify(r))).size).toBe(records.length);
  });

  it('the tokenizer round-trips every text of the dataset, byte for byte', () => {
    const tok = tokenizer();
    for (const r of records) {
      for (const text of [r.instruction, r.input, r.output]) {
        const ids = tok.encode(text, { addSpecialTokens: false });
        expect(ids).toEqual(byteIds(text));
        expect(tok.decode(ids)).toBe(text);
      }
    }
  });

  it('under the model template every example fits in 64 tokens, answer and EOS in the loss', () => {
    const tok = tokenizer();
    const data = prepareDataset(read('dataset.jsonl'), 'dataset.jsonl', tok, { template: 'model', maxLen: 64 });
    expect(data.stats.truncated).toBe(0);
    expect(data.train).toHaveLength(records.length);
    for (const ex of data.train) {
      expect(ex.ids[0]).toBe(tok.bos);
      expect(ex.ids[ex.ids.length - 1]).toBe(tok.eos);
      expect(ex.inLoss![ex.ids.length - 1]).toBe(true);
      expect(ex.ids.filter((id) => id === tok.eos)).toHaveLength(1);
    }
  });

  it('the committed files are what scripts/make-demo writes', () => {
    expect(read('dataset.jsonl').toString('utf8')).toBe(toJsonl(instructionDataset()));
    expect(readJson('tokenizer.json')).toEqual(tokenizerJson());
    expect(readJson('tokenizer_config.json')).toEqual(tokenizerConfigJson());
  });

  it('stays well under 5 MB in all', () => {
    const total = readdirSync(DIR).reduce((n, f) => n + statSync(join(DIR, f)).size, 0);
    expect(total).toBeLessThan(2 * 2 ** 20);
  });
});
