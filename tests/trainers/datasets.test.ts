/** The dataset each trainer reads: same text as the studio's templates, the fields its dataset type expects. */
import { Template } from '@huggingface/jinja';
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../src/config/run-config';
import { readDataset } from '../../src/data/formats/read';
import { openTokenizerDir } from '../../src/data/node-tokenizer';
import { splitExamples } from '../../src/data/split';
import { toMessages } from '../../src/data/templates';
import { CHATML_JINJA, exportAxolotl, exportTorchtune, exportTrl, LLAMA3_JINJA, prepareExportDataset } from '../../src/io/trainers';
import { renderWithoutTokenizer, splitBySeed } from '../../src/io/trainers/export-dataset';
import { CHAT_JSONL, exportCase, jsonlRows, parseYaml, pyKwargs } from './helpers';

describe('the studio\'s chat templates as Jinja (TRL sets them on the tokenizer)', () => {
  const records = readDataset(CHAT_JSONL, 'chat.jsonl').records;
  for (const [name, jinja] of [['chatml', CHATML_JINJA], ['llama3', LLAMA3_JINJA]] as const) {
    it(`${name}: the Jinja renders exactly the studio's text`, () => {
      const t = new Template(jinja);
      for (const { record, where } of records) {
        const studio = renderWithoutTokenizer(record, name, where).map((s) => s.text).join('');
        expect(t.render({ messages: toMessages(record), add_generation_prompt: false })).toBe(studio);
      }
    });
  }
});

describe('records to each trainer\'s rows', () => {
  it('the validation split picks the records the studio\'s split picks for the same seed', () => {
    const items = Array.from({ length: 37 }, (_, i) => ({ ids: [i] }));
    for (const seed of [0, 5, 42]) {
      const mine = splitBySeed(items, 0.2, seed);
      const studio = splitExamples(items, 0.2, seed);
      expect(mine.validation.map((x) => x.ids[0])).toEqual(studio.validation.map((x) => x.ids[0]));
      expect(mine.train.length).toBe(studio.train.length);
    }
  });

  it('Alpaca with a system prompt: Axolotl reads the studio-rendered prompt through a user-defined type', () => {
    const jsonl = JSON.stringify({ instruction: 'Translate.', input: 'chat', output: 'cat', system: 'You translate French.' });
    const c = exportCase({}, 'org/m', jsonl, 'sys.jsonl');
    const y = parseYaml(c.exports.axolotl.files['axolotl.yaml']) as { datasets: { type: unknown }[] };
    expect(y.datasets[0].type).toEqual({ field_instruction: 'prompt', field_output: 'completion', format: '{instruction}', no_input_format: '{instruction}' });
    expect(jsonlRows(c.exports.axolotl.files['data/train.jsonl'])).toEqual([{ prompt: 'You translate French.\n\n### Instruction:\nTranslate.\n\n### Input:\nchat\n\n### Response:\n', completion: 'cat' }]);
  });

  it('conversations under the alpaca template: Axolotl template-free segments with the tokenizer\'s BOS and EOS', async () => {
    const tok = await openTokenizerDir('public/demo');
    const run = parseRunConfig({});
    const data = prepareExportDataset(readDataset(CHAT_JSONL, 'chat.jsonl'), { template: 'alpaca', tokenizer: tok });
    const ax = exportAxolotl({ run, baseModel: 'org/m', model: {}, data });
    expect(parseYaml(ax.files['axolotl.yaml'])).toMatchObject({ datasets: [{ type: 'input_output' }], train_on_inputs: false });
    const rows = jsonlRows(ax.files['data/train.jsonl']) as { segments: { label: boolean; text: string }[] }[];
    expect(rows).toHaveLength(3);
    const two = rows[1].segments;
    expect(two[0]).toEqual({ label: false, text: '<s>' });
    expect(two.at(-1)).toEqual({ label: true, text: '</s>' });
    expect(two.filter((s) => s.label).map((s) => s.text)).toEqual(['4.', '6.', '</s>']);
    expect(ax.notes.map((n) => n.field)).not.toContain('dataset');
    // TRL and torchtune take one answer per example: the earlier one is read as prompt, and they say so.
    const trl = exportTrl({ run, baseModel: 'org/m', model: {}, data });
    expect(jsonlRows(trl.files['data/train.jsonl'])[1].completion).toBe('6.');
    expect(trl.notes.some((n) => /several answers/.test(n.text))).toBe(true);
    expect(exportTorchtune({ run, baseModel: 'org/m', model: {}, data }).notes.some((n) => /several answers/.test(n.text))).toBe(true);
  });

  it('without a tokenizer, conversations use the model\'s own chat template and say so', () => {
    const data = prepareExportDataset(readDataset(CHAT_JSONL, 'chat.jsonl'));
    expect(data.template).toBe('model');
    expect(data.notes[0]).toMatch(/no tokenizer at hand/);
    const ax = exportAxolotl({ run: parseRunConfig({}), baseModel: 'org/m', model: {}, data });
    expect(parseYaml(ax.files['axolotl.yaml'])).toMatchObject({ chat_template: 'tokenizer_default', datasets: [{ type: 'chat_template' }] });
    expect(exportTrl({ run: parseRunConfig({}), baseModel: 'org/m', model: {}, data }).files['train_trl.py']).not.toContain('tokenizer.chat_template =');
  });

  it('plain text: completion (Axolotl), language modeling (TRL), text completion (torchtune), packed when asked', () => {
    const c = exportCase({ maxSeqLen: 64 }, 'org/m', 'Once upon a time.\nThe end.\n', 'story.txt', { pack: true });
    expect(parseYaml(c.exports.axolotl.files['axolotl.yaml'])).toMatchObject({ datasets: [{ type: 'completion', field: 'text' }], sample_packing: true });
    expect(pyKwargs(c.exports.trl.files['train_trl.py'], 'SFTConfig')).toMatchObject({ dataset_text_field: 'text', packing: true });
    expect(parseYaml(c.exports.torchtune.files['torchtune.yaml'])).toMatchObject({ dataset: { _component_: 'torchtune.datasets.text_completion_dataset', column: 'text', packed: true } });
    for (const t of ['axolotl', 'trl', 'torchtune'] as const) expect(jsonlRows(c.exports[t].files['data/train.jsonl'])).toEqual([{ text: 'Once upon a time.\nThe end.\n' }]);
  });

  it('refuses what no trainer can read, with the reason', async () => {
    const tokens = '{"tokens": [1, 2, 3]}\n';
    expect(() => prepareExportDataset(readDataset(tokens, 't.jsonl', { vocabSize: 10 }))).toThrow(/pre-tokenized data/);
    const tok = await openTokenizerDir('tests/fixtures/tokenizers/tiny-char'); // has no chat template
    expect(() => prepareExportDataset(readDataset(CHAT_JSONL, 'c.jsonl'), { template: 'model', tokenizer: tok })).toThrow(/no chat_template/);
    expect(() => prepareExportDataset(readDataset('some text', 'a.txt'), { template: 'chatml' })).toThrow(/takes no prompt template/);
  });
});
