import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../../src/config/run-config';
import { readDataset } from '../../src/data/formats/read';
import { exportForTrainers, prepareExportDataset, TRAINERS, type ExportDatasetOptions, type ModelFacts, type TrainerExport } from '../../src/io/trainers';

export const ALPACA_JSONL = [
  { instruction: 'Add the two numbers.', input: '1 and 6', output: '7.' },
  { instruction: 'What is the capital of Peru?', input: '', output: 'Lima.' },
  { instruction: 'Say "hi" in French: {greeting}', input: '', output: 'Salut.\n# not a comment' },
  { instruction: 'Repeat the word.', input: 'down', output: 'down' },
].map((r) => JSON.stringify(r)).join('\n');

export const CHAT_JSONL = [
  { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello.' }] },
  { messages: [{ role: 'user', content: '2+2?' }, { role: 'assistant', content: '4.' }, { role: 'user', content: 'And 3+3?' }, { role: 'assistant', content: '6.' }] },
  { messages: [{ role: 'user', content: 'Name a colour.' }, { role: 'assistant', content: 'Blue.' }] },
].map((r) => JSON.stringify(r)).join('\n');

export const COMPLETION_JSONL = Array.from({ length: 10 }, (_, i) => JSON.stringify({ prompt: `Count to ${i}:`, completion: ` ${Array.from({ length: i + 1 }, (_, k) => k).join(' ')}` })).join('\n');

export interface Case {
  run: RunConfig;
  exports: Record<(typeof TRAINERS)[number], TrainerExport>;
}

/** The three trainers' files for a run, a base model and a dataset file's text. */
export function exportCase(runInput: RunConfigInput, baseModel: string, dataText: string, file: string, opts: ExportDatasetOptions = {}, model: ModelFacts = {}): Case {
  const run = parseRunConfig(runInput);
  const data = prepareExportDataset(readDataset(dataText, file), { seed: run.seed, ...opts });
  const list = exportForTrainers({ run, baseModel, model, data, runName: 'case' }, TRAINERS);
  return { run, exports: Object.fromEntries(list.map((e) => [e.trainer, e])) as Case['exports'] };
}

/** A YAML document parsed as YAML 1.2 (core schema) and as YAML 1.1 (what PyYAML and OmegaConf read); both must agree. */
export function parseYaml(text: string): Record<string, unknown> {
  const doc = parse(text, { version: '1.2', strict: true, uniqueKeys: true }) as Record<string, unknown>;
  const doc11 = parse(text, { version: '1.1', strict: true, uniqueKeys: true }) as Record<string, unknown>;
  if (JSON.stringify(doc) !== JSON.stringify(doc11)) throw new Error('the YAML reads differently under YAML 1.1 and 1.2');
  return doc;
}

/**
 * The keyword arguments of a call in the generated script, one `name=value,` per line as the
 * exporter writes them. Values are Python literals: JSON with True/False/None, or a dotted name.
 */
export function pyKwargs(script: string, call: string): Record<string, unknown> {
  const start = script.indexOf(`${call}(\n`);
  if (start < 0) throw new Error(`no call ${call}( in the script`);
  const end = script.indexOf('\n)', start);
  const out: Record<string, unknown> = {};
  for (const line of script.slice(start, end).split('\n').slice(1)) {
    const m = /^ {4}(\w+)=(.*),$/.exec(line);
    if (!m) continue;
    const v = m[2];
    if (/^[A-Za-z_][\w.]*$/.test(v) && !['True', 'False', 'None'].includes(v)) {
      out[m[1]] = { code: v };
      continue;
    }
    // Outside strings, True/False/None become JSON; anything else (an expression) is kept as code.
    try {
      out[m[1]] = JSON.parse(v.replace(/"(?:[^"\\]|\\.)*"|\bTrue\b|\bFalse\b|\bNone\b/g, (t) => (t === 'True' ? 'true' : t === 'False' ? 'false' : t === 'None' ? 'null' : t)));
    } catch {
      out[m[1]] = { code: v };
    }
  }
  return out;
}

export function hasPython(): boolean {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `python3 -m py_compile` on the script; returns stderr on failure, '' on success. */
export function pyCompile(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'trl-script-'));
  try {
    const file = join(dir, 'train_trl.py');
    writeFileSync(file, script);
    execFileSync('python3', ['-m', 'py_compile', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    return '';
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? e);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const jsonlRows = (text: string): Record<string, unknown>[] => text.trim().split('\n').map((l) => JSON.parse(l));
