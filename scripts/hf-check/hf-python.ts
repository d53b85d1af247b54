/**
 * The bridge to hf_logits.py: every job in one Python process (torch and transformers take seconds
 * to import), the jobs as a JSON file, the logits back as f32 files and a results JSON.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChatMessage } from '../../src/data/chat-template';

export interface HfJob {
  name: string;
  /** A folder from_pretrained loads (absent for a tokenizer-only job). */
  model?: string;
  /** A tokenizer-only job: the folder AutoTokenizer loads. */
  tokenizer?: string;
  /** A PEFT adapter folder for PeftModel.from_pretrained, or none. */
  adapter?: string;
  sequences?: number[][];
  /** Texts for AutoTokenizer (when the folder has tokenizer.json). */
  texts?: string[];
  /** A conversation for apply_chat_template (when the tokenizer has a chat template). */
  chat?: ChatMessage[];
}

export interface HfJobResult {
  name: string;
  /** Why the job failed in Python (load or forward), or absent. */
  error?: string;
  class?: string;
  /** from_pretrained's output_loading_info. */
  loading?: { missing_keys: string[]; unexpected_keys: string[]; mismatched_keys: unknown[]; error_msgs: string[] };
  /** The adapter file's keys against the ones PEFT expects, and whether the loaded values are the file's. */
  adapter?: { file_keys: number; missing_in_file: string[]; unused_in_file: string[]; value_differs: string[] };
  /** Logits (T, V) per sequence. */
  logits: Float32Array[];
  tokenizerClass?: string;
  tokens?: number[][];
  tokensSpecial?: number[][];
  chatText?: string;
  /** Every warning transformers, peft or Python emitted while loading and running. */
  warnings: string[];
}

export interface HfRun {
  versions: { python: string; torch: string; transformers: string; peft: string | null };
  results: Map<string, HfJobResult>;
}

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'hf_logits.py');

type RawResult = Omit<HfJobResult, 'logits' | 'tokenizerClass' | 'tokensSpecial' | 'chatText'> & {
  shapes?: [number, number][]; tokenizer_class?: string; tokens_special?: number[][]; chat?: string; traceback?: string;
};

/** Run every job through `python` (a venv's interpreter with torch, transformers and peft). */
export function runHfJobs(python: string, work: string, jobs: readonly HfJob[]): HfRun {
  const logitsFile = (i: number) => join(work, `hf-logits-${i}.f32`);
  const resultsFile = join(work, 'hf-results.json');
  const jobsFile = join(work, 'hf-jobs.json');
  writeFileSync(jobsFile, JSON.stringify({ results: resultsFile, jobs: jobs.map((j, i) => ({ ...j, logits: logitsFile(i) })) }));
  const r = spawnSync(python, [SCRIPT, jobsFile], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new Error(`cannot run ${python}: ${r.error.message}; give the Python of a venv with torch, transformers and peft (HF_ENV=<venv>)`);
  if (r.status !== 0) throw new Error(`${SCRIPT} exited with ${r.status}`);
  const raw = JSON.parse(readFileSync(resultsFile, 'utf8')) as { versions: HfRun['versions']; jobs: RawResult[] };
  const results = new Map<string, HfJobResult>();
  raw.jobs.forEach((j, i) => {
    const logits: Float32Array[] = [];
    if (!j.error && j.shapes) {
      const bytes = readFileSync(logitsFile(i));
      const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      let at = 0;
      for (const [t, v] of j.shapes) for (let p = 0; p < t; p++, at += v) logits.push(all.slice(at, at + v));
    }
    results.set(j.name, {
      name: j.name, error: j.error ? `${j.error}\n${j.traceback ?? ''}` : undefined, class: j.class, loading: j.loading, adapter: j.adapter, logits,
      tokenizerClass: j.tokenizer_class, tokens: j.tokens, tokensSpecial: j.tokens_special, chatText: j.chat, warnings: j.warnings,
    });
  });
  return { versions: raw.versions, results };
}

/** What went wrong while loading: keys missing, unused or of another shape, weights initialised anew, adapter keys or values not the file's. */
export function loadProblems(r: HfJobResult): string[] {
  const out: string[] = [];
  if (r.error) out.push(r.error.split('\n')[0]);
  const l = r.loading;
  if (l) {
    if (l.missing_keys.length) out.push(`missing keys (initialised anew): ${l.missing_keys.join(', ')}`);
    if (l.unexpected_keys.length) out.push(`unexpected keys (not used): ${l.unexpected_keys.join(', ')}`);
    if (l.mismatched_keys.length) out.push(`mismatched shapes: ${JSON.stringify(l.mismatched_keys)}`);
    if (l.error_msgs.length) out.push(`errors: ${l.error_msgs.join('; ')}`);
  }
  const a = r.adapter;
  if (a) {
    if (a.missing_in_file.length) out.push(`adapter tensors PEFT expects but the file lacks: ${a.missing_in_file.join(', ')}`);
    if (a.unused_in_file.length) out.push(`adapter tensors PEFT does not use: ${a.unused_in_file.join(', ')}`);
    if (a.value_differs.length) out.push(`adapter tensors loaded with other values than the file's: ${a.value_differs.join(', ')}`);
  }
  for (const w of r.warnings) if (LOAD_WARNING.test(w)) out.push(`warning: ${w.replace(/\x1b\[[0-9;]*m/g, '').split('\n')[0]}`);
  return out;
}

/** Warnings that mean weights were not loaded as written (transformers' load report, PEFT's missing keys, ignored config keys). */
const LOAD_WARNING = /missing|unexpected|newly initiali[sz]ed|not initiali[sz]ed|not used|mismatch|LOAD REPORT|ignored/i;
