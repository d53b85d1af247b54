// `npm run cli -- data ...` as a person runs it: statistics JSON on success, exit 2 and the specific
// message on bad input; and `train` on a text dataset through the model folder's tokenizer.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/io/safetensors';
import { tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import { tokenizerDir } from './tokenizers';

const dir = mkdtempSync(join(tmpdir(), 'cli-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; out: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '-s', 'cli', '--', ...args], { timeout: 240_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, out: stdout + stderr });
    });
  });
}

const llamaDir = tokenizerDir('llama3');
const tinyDir = 'tests/fixtures/tokenizers/tiny-char'; // loads in milliseconds: for the error cases

describe('npm run cli -- data', () => {
  it('prints the statistics of an Alpaca file as JSON (exit 0)', async () => {
    const file = join(dir, 'alpaca.json');
    writeFileSync(file, JSON.stringify([
      { instruction: 'Translate to French.', input: 'Good morning', output: 'Bonjour' },
      { instruction: 'Add 2 and 3.', input: '', output: '5' },
    ]));
    const r = await cli('data', '--data', file, '--model', llamaDir);
    expect(r.code, r.out).toBe(0);
    const s = JSON.parse(r.stdout);
    // Lengths 46 and 34, with 2 loss tokens each (tests/data/formats.test.ts has their ids).
    expect(s).toMatchObject({
      examples: 2, tokens: 80, min_len: 34, mean_len: 40, p95_len: 46, max_len: 46, truncated: 0, loss_token_fraction: 4 / 80,
      format: 'alpaca', template: 'alpaca', bos: 128000, eos: 128001, pad: 128002,
    });
    expect(Object.keys(s).slice(0, 8)).toEqual(['examples', 'tokens', 'min_len', 'mean_len', 'p95_len', 'max_len', 'truncated', 'loss_token_fraction']);
  });

  it('--template, --max-len and --no-mask change the counts', async () => {
    const file = join(dir, 'chat.jsonl');
    writeFileSync(file, JSON.stringify({ messages: [{ role: 'user', content: 'Capital of Japan?' }, { role: 'assistant', content: 'Tokyo.' }] }));
    const r = await cli('data', '--data', file, '--model', llamaDir, '--template', 'llama3', '--max-len', '16', '--no-mask');
    expect(r.code, r.out).toBe(0);
    // 19 ids under the llama3 template (formats.test.ts), cut to 16; without masking 15 of 16 are in the loss.
    expect(JSON.parse(r.stdout)).toMatchObject({ examples: 1, tokens: 16, max_len: 16, truncated: 1, truncated_tokens: 3, loss_token_fraction: 15 / 16, template: 'llama3' });
  });

  it.each([
    ['a broken JSON line', 'bad.jsonl', '{"instruction": "a", "output": "b"}\n{"instruction": "a", "output"\n', [], /DatasetError: .*bad\.jsonl, line 2 \(example 2\): not valid JSON/],
    ['a CSV column that does not exist', 'd.csv', 'q,a\nx,y\n', ['--columns', 'prompt=q,completion=answer'], /DatasetError: .*d\.csv: no column "answer" \(asked for as the completion\); the columns are: q, a/],
    ['an unknown template', 'ok.jsonl', '{"prompt": "a", "completion": "b"}\n', ['--template', 'vicuna'], /--template must be one of alpaca, chatml, llama3, model, none, got "vicuna"/],
    ['a bad --max-len', 'ok.jsonl', '{"prompt": "a", "completion": "b"}\n', ['--max-len', 'ten'], /--max-len must be a whole number, got "ten"/],
  ])('exits 2 on %s', async (_, name, content, extra, message) => {
    const file = join(dir, name);
    writeFileSync(file, content);
    const r = await cli('data', '--data', file, '--model', tinyDir, ...extra);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(message);
  });

  it('exits 2 when the model folder has no tokenizer.json', async () => {
    const file = join(dir, 'x.jsonl');
    writeFileSync(file, '{"prompt": "a", "completion": "b"}\n');
    const r = await cli('data', '--data', file, '--model', dir);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`BadFileError: ${join(dir, 'tokenizer.json')}: file is missing; text datasets need the model's tokenizer`);
  });
});

describe('npm run cli -- train on a text dataset', () => {
  it('tokenizes prompt/completion JSONL with the model folder tokenizer and trains (GPU)', async () => {
    const model = join(dir, 'model');
    cpSync('tests/fixtures/tokenizers/tiny-char', model, { recursive: true });
    const c = tinyModelConfig();
    writeFileSync(join(model, 'config.json'), JSON.stringify({
      architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: c.vocabSize, hidden_size: c.hiddenSize,
      intermediate_size: c.intermediateSize, num_hidden_layers: c.numLayers, num_attention_heads: c.numHeads,
      num_key_value_heads: c.numKvHeads, rms_norm_eps: c.rmsNormEps, rope_theta: c.ropeTheta, tie_word_embeddings: false,
    }));
    const tensors = [...tinyWeights(c)].map(([name, data]) => ({ name, dtype: 'F32' as const, shape: [data.length], data }));
    writeFileSync(join(model, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
    const data = join(dir, 'train.jsonl');
    writeFileSync(data, Array.from({ length: 16 }, (_, i) => JSON.stringify({ prompt: `q${i % 4}:`, completion: ` answer ${i % 4}.` })).join('\n'));
    const config = join(dir, 'run.json');
    writeFileSync(config, JSON.stringify({ maxSeqLen: 16, microBatch: 4, maxSteps: 4, learningRate: 1e-2, rank: 2, alpha: 4, schedule: 'constant', targets: ['query', 'value'] }));
    const out = join(dir, 'out');
    const r = await cli('train', '--model', model, '--data', data, '--config', config, '--validation-split', '0.25', '--out', out);
    expect(r.code, r.out).toBe(0);
    // "<s>▁q0:▁answer▁0.</s>": 16 ids, the 11 of "▁answer▁0.</s>" in the loss.
    expect(r.out).toContain('train.jsonl: completion, template none; {"examples":16,"tokens":256,"min_len":16,"mean_len":16,"p95_len":16,"max_len":16,"truncated":0,"loss_token_fraction":0.6875,');
    expect(r.out).toContain('"train_examples":12,"validation_examples":4}');
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
  });
});
