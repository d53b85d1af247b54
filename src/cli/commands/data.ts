import { readFile } from 'node:fs/promises';
import { openTokenizerDir } from '../../data/node-tokenizer';
import { prepareDataset, type PrepareOptions } from '../../data/prepare';
import { FIELDS, RECORD_FORMATS, type FieldMap, type RecordFormat } from '../../data/formats/records';
import { CONTAINERS, type Container } from '../../data/formats/read';
import { TEMPLATES, type TemplateName } from '../../data/templates';
import type { ModelTokenizer } from '../../data/tokenizer';
import { CliUsageError, parseCliArgs } from '../args';

/**
 * The tokenizer of the model named on the command line. One place, so that other model sources
 * (hf:org/name) plug in here; today a folder holding tokenizer.json (+ tokenizer_config.json).
 */
export async function openModelTokenizer(model: string): Promise<ModelTokenizer> {
  return openTokenizerDir(model);
}

/** The dataset flags shared by `data` and `train`. */
export const DATASET_FLAGS = {
  template: { type: 'string' }, 'no-mask': { type: 'boolean' }, format: { type: 'string' }, columns: { type: 'string' },
  pack: { type: 'boolean' }, 'validation-split': { type: 'string' },
} as const;

function choice<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new CliUsageError(`--${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** `--columns instruction=question,output=answer` -> {instruction: "question", output: "answer"}. */
function parseColumns(spec: string | undefined): FieldMap | undefined {
  if (spec === undefined) return undefined;
  const out: FieldMap = {};
  for (const pair of spec.split(',')) {
    const [k, v] = pair.split('=').map((s) => s.trim());
    if (!k || !v) throw new CliUsageError(`--columns takes field=column pairs separated by commas (fields: ${FIELDS.join(', ')}), got "${pair}"`);
    if (!(FIELDS as readonly string[]).includes(k)) throw new CliUsageError(`--columns: unknown field "${k}"; the fields are ${FIELDS.join(', ')}`);
    out[k as keyof FieldMap] = v;
  }
  return out;
}

function positiveNumber(flag: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new CliUsageError(`--${flag} must be a ${integer ? 'whole ' : ''}number, got "${value}"`);
  return n;
}

/** `--format`: a container (json, jsonl, csv, tsv, text = a plain-text file) or a record format. */
function formatOptions(fmt: string | undefined): Pick<PrepareOptions, 'container' | 'format'> {
  if (fmt === undefined) return {};
  if ((CONTAINERS as readonly string[]).includes(fmt)) return { container: fmt as Container };
  if ((RECORD_FORMATS as readonly string[]).includes(fmt)) return { format: fmt as RecordFormat };
  throw new CliUsageError(`--format must be one of ${[...new Set([...CONTAINERS, ...RECORD_FORMATS])].join(', ')}, got "${fmt}"`);
}

/** PrepareOptions from the shared dataset flags. */
export function datasetOptions(values: Record<string, string | boolean | undefined>): PrepareOptions {
  return {
    ...formatOptions(values.format as string | undefined),
    template: choice<TemplateName>('template', values.template as string | undefined, TEMPLATES),
    mask: !values['no-mask'],
    pack: !!values.pack,
    fields: parseColumns(values.columns as string | undefined),
    validationFraction: positiveNumber('validation-split', values['validation-split'] as string | undefined, false),
  };
}

/** `data --data <file> --model <dir> [--template t] [--max-len N] [--no-mask] ...`: dataset statistics as JSON. */
export async function runData(argv: string[]): Promise<number> {
  const { values } = parseCliArgs(argv, { data: { type: 'string' }, model: { type: 'string' }, 'max-len': { type: 'string' }, seed: { type: 'string' }, ...DATASET_FLAGS });
  if (!values.data || !values.model) throw new CliUsageError('--data and --model are required');
  const maxLen = positiveNumber('max-len', values['max-len'], true);
  if (values.pack && maxLen === undefined) throw new CliUsageError('--pack needs --max-len (the row size)');
  const opts = { ...datasetOptions(values), maxLen, seed: positiveNumber('seed', values.seed, true) };
  const tok = await openModelTokenizer(values.model);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(values.data);
  } catch (e) {
    throw new CliUsageError(`cannot read --data ${values.data}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const r = prepareDataset(bytes, values.data, tok, opts);
  for (const w of r.warnings) console.error(`warning: ${w}`);
  console.log(JSON.stringify({
    ...r.stats, format: r.format, container: r.container, template: r.template,
    bos: tok.addsBos ? tok.bos : null, eos: tok.eos, pad: tok.pad, pad_source: tok.padSource,
  }, null, 2));
  return 0;
}
