/**
 * `node --import tsx --import ./scripts/raw-import.mjs scripts/hf-check/check.ts --python <venv>/bin/python [--work <dir>] [--json <file>] [--full <kinds>]`:
 * the Hugging Face check of the studio's exports (README.md). For each tiny model of
 * ../llama-cpp-check/tiny-models.ts, transformers (and peft) load
 *   - the base model alone (a sanity row: the reference and transformers agree before any export),
 *   - base + the PEFT adapter folder (PeftModel.from_pretrained),
 *   - the merged bundle (writeMergedBundle, unzipped) in F32, F16 and BF16,
 *   - for the kinds in --full (default llama-untied,gemma3): the CLI's full finetune (3 AdamW steps;
 *     every weight must have moved, and by no more than 3 steps can move it),
 * and their logits on two fixed sequences are compared with the CPU reference (src/reference):
 * max |transformers - reference| over the largest |reference logit|, within 1e-4 (F32), 2e-3 (F16),
 * 2e-2 (BF16); greedy tokens must agree where the reference's lead is decisive; a key missing,
 * unused or of another shape in any load is a failure. AutoTokenizer of the F32 bundle, and of the
 * real Llama 3, Qwen3 and Gemma 3 tokenizers as a bundle copies them, must encode the test texts (and
 * render the chat template) as the project's tokenizer does (./tokenizer-check.ts). Exit 0 when all pass.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Prng } from '../../src/core/rng';
import { compareLogits, referenceLogits, type Agreement } from '../llama-cpp-check/reference';
import { loraOf, TINY_KINDS, writeTinyModel, type TinyKind, type TinyModel } from '../llama-cpp-check/tiny-models';
import { FULL_RUN, trainFull, writeBundleFolder, type FullFinetune } from './exports';
import { loadProblems, runHfJobs, type HfJob, type HfJobResult } from './hf-python';
import { CHAT, compareTokenizer, realTokenizerJobs, TEXTS } from './tokenizer-check';

const { values } = parseArgs({ options: { python: { type: 'string' }, work: { type: 'string' }, json: { type: 'string' }, full: { type: 'string' } } });
if (!values.python) {
  console.error('usage: check.ts --python <python with torch, transformers, peft> [--work <dir>] [--json <file>] [--full llama-untied,gemma3]');
  process.exit(2);
}
const fullKinds = (values.full ?? 'llama-untied,gemma3').split(',').filter(Boolean) as TinyKind[];
for (const k of fullKinds) if (!TINY_KINDS.includes(k)) throw new Error(`--full: unknown model "${k}"; the models are ${TINY_KINDS.join(', ')}`);

/** Two fixed sequences: BOS then seeded ids among the tokenizer's 259 (the llama.cpp check's). */
function sequences(): number[][] {
  const rng = new Prng(2024, 31);
  return [24, 40].map((n) => [1, ...Array.from({ length: n - 1 }, () => 3 + rng.nextInt(256))]);
}

interface Case {
  model: TinyKind;
  what: string;
  tolerance: number;
  job: HfJob;
  /** The reference's logits per position, both sequences in order. */
  want: Float32Array[];
  /** Found before transformers ran (the full finetune's weight changes). */
  problems?: string[];
}

interface Row extends Partial<Agreement> {
  model: string;
  what: string;
  tolerance?: number;
  /** For tokenizer rows: texts (and the chat template) that agree, of all. */
  agree?: string;
  problems: string[];
  pass: boolean;
}

const work = values.work ?? mkdtempSync(join(tmpdir(), 'hf-check-'));
const log = (s: string) => console.log(s);
const seqs = sequences();
const refOf = (m: TinyModel | FullFinetune, weights: Map<string, Float32Array>, lora: ReturnType<typeof loraOf>) =>
  seqs.flatMap((s) => referenceLogits(m.config, weights, lora, s));

try {
  const cases: Case[] = [];
  const models = new Map<TinyKind, TinyModel>();
  for (const kind of TINY_KINDS) {
    const m = writeTinyModel(work, kind);
    models.set(kind, m);
    const lora = loraOf(m.adapter);
    const withLora = refOf(m, m.weights, lora);
    cases.push({ model: kind, what: 'base (no export)', tolerance: 1e-4, job: { name: `${kind}/base`, model: m.modelDir, sequences: seqs }, want: refOf(m, m.weights, new Map()) });
    cases.push({ model: kind, what: 'base + PEFT adapter', tolerance: 1e-4, job: { name: `${kind}/peft`, model: m.modelDir, adapter: m.adapterDir, sequences: seqs }, want: withLora });
    for (const [dtype, tolerance] of [['F32', 1e-4], ['F16', 2e-3], ['BF16', 2e-2]] as const) {
      const dir = join(work, `${kind}-merged-${dtype.toLowerCase()}`);
      await writeBundleFolder(m, dtype, dir);
      const texts = dtype === 'F32' ? { texts: TEXTS, chat: CHAT } : {};
      cases.push({ model: kind, what: `merged bundle ${dtype}`, tolerance, job: { name: `${kind}/merged-${dtype}`, model: dir, sequences: seqs, ...texts }, want: withLora });
    }
  }
  for (const kind of fullKinds) {
    const m = models.get(kind)!;
    const full = await trainFull(m, work, log);
    log(`     ${kind}: full finetune written to ${full.outDir}; largest weight change ${full.maxChange.toExponential(3)} (${full.maxChangeTensor}), at most ${full.maxAllowedChange.toExponential(3)} in ${FULL_RUN.maxSteps} AdamW steps`);
    const problems: string[] = [];
    if (full.maxChange > full.maxAllowedChange) problems.push(`${full.maxChangeTensor} moved by ${full.maxChange}, more than ${FULL_RUN.maxSteps} AdamW steps can (${full.maxAllowedChange}): the file does not hold the trained weights in Hugging Face's convention`);
    if (full.maxChange < FULL_RUN.learningRate) problems.push(`the weights moved by at most ${full.maxChange}, less than one step of lr ${FULL_RUN.learningRate}: was anything trained?`);
    cases.push({ model: kind, what: 'full finetune (CLI)', tolerance: 1e-4, job: { name: `${kind}/full`, model: full.outDir, sequences: seqs }, want: refOf(full, full.weights, new Map()), problems });
  }

  const tokenizerJobs = await realTokenizerJobs(work);
  const hf = runHfJobs(values.python, work, [...cases.map((c) => c.job), ...tokenizerJobs]);
  const v = hf.versions;
  log(`transformers ${v.transformers}, peft ${v.peft}, torch ${v.torch}, Python ${v.python}`);
  const rows: Row[] = [];
  for (const c of cases) {
    const r = hf.results.get(c.job.name)!;
    const problems = [...(c.problems ?? []), ...loadProblems(r)];
    let a: Agreement | undefined;
    if (r.logits.length === c.want.length) a = compareLogits(r.logits, c.want, c.tolerance);
    else if (!r.error) problems.push(`transformers returned ${r.logits.length} positions, the reference ${c.want.length}`);
    const pass = !!a && problems.length === 0 && a.relError <= c.tolerance && a.decisiveAgree === a.decisive;
    rows.push({ model: c.model, what: c.what, tolerance: c.tolerance, ...a, problems, pass });
    if (c.job.texts) rows.push(await tokenizerRow(c.model, 'bundle tokenizer', c.job, r));
  }
  for (const job of tokenizerJobs) rows.push(await tokenizerRow(job.name.split('/')[1], 'tokenizer (bundle copy)', job, hf.results.get(job.name)!));
  printTable(rows);
  if (values.json) writeFileSync(values.json, JSON.stringify({ versions: v, rows }, null, 2));
  const failed = rows.filter((r) => !r.pass).length;
  console.log(failed ? `${failed} of ${rows.length} checks FAILED` : `all ${rows.length} checks passed`);
  process.exitCode = failed ? 1 : 0;
} finally {
  if (!values.work) rmSync(work, { recursive: true, force: true });
}

async function tokenizerRow(model: string, what: string, job: HfJob, r: HfJobResult): Promise<Row> {
  const t = await compareTokenizer(job, r);
  return { model, what, agree: `${t.agree}/${t.total}`, problems: t.problems, pass: t.problems.length === 0 };
}

function printTable(rows: Row[]): void {
  const head = ['model', 'what', 'rel error', 'tol', 'greedy (decisive)', 'pass'];
  const cells = rows.map((r) => [
    r.model, r.what,
    r.relError !== undefined ? r.relError.toExponential(2) : r.agree !== undefined ? `${r.agree} agree` : '-',
    r.tolerance !== undefined ? r.tolerance.toExponential(0) : '',
    r.greedyAgree !== undefined ? `${r.greedyAgree}/${r.positions} (${r.decisiveAgree}/${r.decisive})` : '',
    r.pass ? 'ok' : 'FAIL',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd();
  console.log(line(head));
  for (const [i, c] of cells.entries()) {
    console.log(line(c));
    for (const p of rows[i].problems) console.log(`    ${p}`);
  }
}
