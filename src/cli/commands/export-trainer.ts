import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { parseModelConfig, type ModelConfig } from '../../config/model-config';
import { parseRunConfig } from '../../config/run-config';
import { readDataset } from '../../data/formats/read';
import type { ModelTokenizer } from '../../data/tokenizer';
import { openModelFiles } from '../../io/model-source/node';
import { modelTokenizer } from '../../io/model-source/tokenizer-files';
import type { ModelFiles } from '../../io/model-source/types';
import { exportForTrainers, noteText, prepareExportDataset, TRAINERS, type ModelFacts, type TrainerName } from '../../io/trainers';
import { CliUsageError, parseCliArgs } from '../args';
import { DATASET_FLAGS, datasetOptions } from './data';

interface ResolvedModel {
  baseModel: string;
  facts: ModelFacts;
  tokenizer: ModelTokenizer | null;
  warnings: string[];
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

/** What the model's files say, read without its weights: config.json, the weight file names, the tokenizer. */
async function readFacts(files: ModelFiles, warnings: string[]): Promise<{ config?: ModelConfig; weightFiles?: string[]; tokenizer: ModelTokenizer | null }> {
  let config: ModelConfig | undefined;
  const text = await files.text('config.json');
  if (text !== null) {
    try {
      config = parseModelConfig(JSON.parse(text));
    } catch (e) {
      warnings.push(`config.json: ${(e as Error).message}; exporting without it`);
    }
  }
  const weightFiles = (await files.list())?.filter((f) => f.endsWith('.safetensors')).sort();
  const tokenizer = (await files.has('tokenizer.json')) ? await modelTokenizer(files).catch((e: Error) => (warnings.push(`tokenizer: ${e.message}`), null)) : null;
  return { config, weightFiles: weightFiles?.length ? weightFiles : undefined, tokenizer };
}

/**
 * `--model`: a folder (its path goes into the configs), `hf:org/name` (config and tokenizer read
 * through the Hub cache, downloaded if needed) or a bare `org/name` (read from the cache only).
 */
async function resolveModel(spec: string): Promise<ResolvedModel> {
  const warnings: string[] = [];
  if (await isDirectory(spec)) {
    const files = await openModelFiles(spec);
    try {
      const f = await readFacts(files, warnings);
      return { baseModel: spec, facts: { config: f.config, weightFiles: f.weightFiles, isLocalPath: true }, tokenizer: f.tokenizer, warnings };
    } finally {
      await files.close();
    }
  }
  const explicit = spec.startsWith('hf:');
  const [repo, revision] = (explicit ? spec.slice(3) : spec).split('@');
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new CliUsageError(`--model ${spec}: not a folder and not a Hugging Face repo id (org/name)`);
  if (revision) warnings.push(`revision ${revision}: the configs name ${repo} without a revision; pin it in the trainer if it matters`);
  const env = explicit ? process.env : { ...process.env, HF_HUB_OFFLINE: '1' };
  try {
    const files = await openModelFiles(`hf:${repo}${revision ? `@${revision}` : ''}`, { env });
    try {
      const f = await readFacts(files, warnings);
      return { baseModel: repo, facts: { config: f.config }, tokenizer: f.tokenizer, warnings };
    } finally {
      await files.close();
    }
  } catch (e) {
    if (explicit) throw e;
    warnings.push(`${repo} is not in the Hub cache: exported from its name alone (give hf:${repo} to read its config and tokenizer)`);
    return { baseModel: repo, facts: {}, tokenizer: null, warnings };
  }
}

function trainersOf(value: string | undefined): TrainerName[] {
  if (value === undefined || value === 'all') return [...TRAINERS];
  if (!(TRAINERS as readonly string[]).includes(value)) throw new CliUsageError(`--trainer must be one of ${TRAINERS.join(', ')}, all; got "${value}"`);
  return [value as TrainerName];
}

/** `export-trainer --config <run.json> --model <hf id or dir> --data <file> --out <dir> [--trainer t|all]`. */
export async function runExportTrainer(argv: string[]): Promise<number> {
  const { values } = parseCliArgs(argv, {
    config: { type: 'string' }, model: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, trainer: { type: 'string' }, ...DATASET_FLAGS,
  });
  if (!values.model || !values.data || !values.out) throw new CliUsageError('--model, --data and --out are required');
  const trainers = trainersOf(values.trainer);
  const run = parseRunConfig(values.config ? JSON.parse(await readFile(values.config, 'utf8')) : {});
  const runName = (values.config ? basename(values.config, extname(values.config)) : 'lora').replace(/[^A-Za-z0-9._-]+/g, '-');
  const model = await resolveModel(values.model);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(values.data);
  } catch (e) {
    throw new CliUsageError(`cannot read --data ${values.data}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const opts = datasetOptions(values);
  const parsed = readDataset(bytes, values.data, { ...opts, vocabSize: model.tokenizer?.vocabSize ?? model.facts.config?.vocabSize });
  const data = prepareExportDataset(parsed, { ...opts, seed: run.seed, tokenizer: model.tokenizer });
  const maxPos = model.facts.config?.maxPositionEmbeddings;
  if (maxPos !== undefined && run.maxSeqLen > maxPos) model.warnings.push(`maxSeqLen ${run.maxSeqLen} is past the model's max_position_embeddings ${maxPos}`);
  for (const w of [...model.warnings, ...data.notes]) console.error(`warning: ${w}`);

  const exports = exportForTrainers({ run, baseModel: model.baseModel, model: model.facts, data, runName }, trainers);
  for (const ex of exports) {
    const dir = join(values.out, ex.trainer);
    for (const [file, content] of Object.entries(ex.files)) {
      await mkdir(dirname(join(dir, file)), { recursive: true });
      await writeFile(join(dir, file), content);
    }
    console.log(`${ex.trainer}: ${Object.keys(ex.files).map((f) => join(dir, f)).join(', ')}`);
    console.log(`  ${ex.summary}`);
    console.log(`  start (in ${dir}): ${ex.launch}`);
    for (const n of ex.notes) console.log(`  note: ${noteText(n)}`);
  }
  console.log(`${data.train.length} training and ${data.validation.length} validation example(s), template ${data.template ?? 'none (plain text)'}, prompt masking ${data.mask ? 'on' : 'off'}`);
  return 0;
}
