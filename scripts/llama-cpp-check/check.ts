/**
 * `node --import tsx --import ./scripts/raw-import.mjs scripts/llama-cpp-check/check.ts --llama-dir <dir> [--work <dir>] [--json <file>]`:
 * the llama.cpp acceptance check of the GGUF export (README.md). <dir> is a folder where
 * node-llama-cpp is installed (run.sh makes one). Exit code 0 when every comparison passes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openLlamaCpp } from './llama-cpp';
import { runLogitsCheck } from './logits-check';
import { runTokenizerCheck } from './tokenizer-check';

const { values } = parseArgs({ options: { 'llama-dir': { type: 'string' }, work: { type: 'string' }, json: { type: 'string' }, only: { type: 'string' } } });
if (!values['llama-dir']) {
  console.error('usage: check.ts --llama-dir <folder with node_modules/node-llama-cpp> [--work <dir>] [--json <file>] [--only logits|tokenizers]');
  process.exit(2);
}
const work = values.work ?? mkdtempSync(join(tmpdir(), 'gguf-check-'));
const llama = await openLlamaCpp(values['llama-dir']);
const log = (s: string) => console.log(s);
try {
  const logits = values.only === 'tokenizers' ? [] : await runLogitsCheck(llama, work, log);
  const tokenizers = values.only === 'logits' ? [] : await runTokenizerCheck(llama, work, log);
  if (values.json) writeFileSync(values.json, JSON.stringify({ logits, tokenizers }, null, 2));
  const failed = [...logits, ...tokenizers].filter((r) => !r.pass).length;
  console.log(failed ? `${failed} check(s) FAILED` : `all ${logits.length + tokenizers.length} checks passed`);
  process.exitCode = failed ? 1 : 0;
} finally {
  await llama.close();
  if (!values.work) rmSync(work, { recursive: true, force: true });
}
