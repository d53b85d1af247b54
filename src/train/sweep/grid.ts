/**
 * A sweep's runs: a base run config and its axes, expanded into one run config per combination.
 * Shared by the CLI (`sweep --grid grid.json`) and the studio's Sweep tab; pure logic, no GPU.
 *
 * grid.json has two forms:
 *   grid  a run config in which some fields are axes: `{"rank": [4, 8], "targets": [["query",
 *         "value"], ["query", "key", "value", "projection", "mlp"]], "maxSteps": 20}` is 2 x 2 runs.
 *         The rule: a field is an axis when its value is a non-empty array and EVERY element is a
 *         valid value of that field on its own (so `"targets": ["query", "value"]` is one value,
 *         since "query" is not a list of targets, while an array of target lists is an axis). An
 *         array that is neither (`"rank": []`, `"rank": [4, "x"]`) is an error naming the field.
 *         Runs are the cartesian product, the first axis varying slowest.
 *   list  `{"runs": [{...}, {...}]}`, each a run config; other top-level fields are shared by all.
 * In both, `"alpha": "2x"` (any number before x) ties alpha to the run's rank (alpha = 2 x rank),
 * and may itself be an axis value (`"alpha": ["2x", 16]`). Every run's config is validated whole.
 * The studio names its axes itself (`expandAxes`), so nothing there depends on the array rule.
 */
import { parseRunConfig, runConfigSchema } from '../../config/run-config';

/** A grid that cannot be expanded: the message names the field or the run. */
export class SweepGridError extends Error {
  override name = 'SweepGridError';
}

export interface SweepRun {
  /** A file-safe name: index and varying values (the CLI's folder under --out). */
  name: string;
  /** The run config to train with (alpha resolved). */
  config: Record<string, unknown>;
  /** The fields that vary across the sweep, as given (alpha may read "2x"). */
  varying: Record<string, unknown>;
}

/** One axis: a run config field and the values it takes, in order. */
export type SweepAxis = readonly [field: string, values: readonly unknown[]];

/** `"2x"`: alpha tied to the run's rank. */
export const TIED_ALPHA = /^\s*(\d+(?:\.\d+)?)\s*x\s*$/i;
const FIELDS = runConfigSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;

/** Whether `v` is a valid value of the run config field on its own (a tied alpha "2x" counts). */
export function validFieldValue(field: string, v: unknown): boolean {
  if (field === 'alpha' && typeof v === 'string') return TIED_ALPHA.test(v);
  return field in FIELDS && FIELDS[field].safeParse(v).success;
}

function checkField(field: string, where: string): void {
  if (!(field in FIELDS)) throw new SweepGridError(`${where}: "${field}" is not a run config field (known: ${Object.keys(FIELDS).join(', ')})`);
}

/** alpha "2x" -> 2 x rank (the run's rank, default 8). */
function resolveAlpha(c: Record<string, unknown>): Record<string, unknown> {
  if (typeof c.alpha !== 'string') return c;
  const m = TIED_ALPHA.exec(c.alpha);
  if (!m) throw new SweepGridError(`alpha "${c.alpha}": a tied alpha is written like "2x" (2 x rank)`);
  const rank = typeof c.rank === 'number' ? c.rank : parseRunConfig({}).rank;
  return { ...c, alpha: Number(m[1]) * rank };
}

/** A value as a table cell or a name shows it: lists joined with +. */
export const showValue = (v: unknown): string => (Array.isArray(v) ? v.map(showValue).join('+') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

function runName(i: number, count: number, varying: Record<string, unknown>): string {
  const parts = Object.entries(varying).map(([k, v]) => `${k}-${showValue(v)}`);
  const name = [String(i + 1).padStart(String(count).length, '0'), ...parts].join('_');
  return name.replace(/[^A-Za-z0-9._+=-]/g, '-').slice(0, 120);
}

/** Run config fields as a sweep's name says them ("learning rate", not learningRate). */
const FIELD_WORDS: Record<string, string> = { basePrecision: 'base precision', learningRate: 'learning rate', maxSteps: 'max steps', microBatch: 'micro-batch', maxSeqLen: 'sequence length' };

/** "rank × targets": the fields a sweep varies, in words. */
export const axesWords = (fields: readonly string[]): string => fields.map((f) => FIELD_WORDS[f] ?? f).join(' × ');

/** "rank 4, targets query+value": what sets a run of a sweep apart, in words. */
export function describeVarying(varying: Record<string, unknown>): string {
  const parts = Object.entries(varying).map(([k, v]) => `${k} ${showValue(v)}`);
  return parts.length ? parts.join(', ') : 'the base config';
}

function finish(configs: Record<string, unknown>[], fieldsThatVary: string[]): SweepRun[] {
  return configs.map((c, i) => {
    const config = resolveAlpha(c);
    try {
      parseRunConfig(config);
    } catch (e) {
      throw new SweepGridError(`sweep run ${i + 1} (${JSON.stringify(c)}): ${(e as Error).message}`);
    }
    const varying = Object.fromEntries(fieldsThatVary.map((f) => [f, c[f]]));
    return { name: runName(i, configs.length, varying), config, varying };
  });
}

/**
 * The cartesian product of `axes` over `fixed` (the first axis varying slowest), every run
 * validated. An axis of one value still counts as varying (it is what the person asked to see).
 */
export function expandAxes(fixed: Record<string, unknown>, axes: readonly SweepAxis[]): SweepRun[] {
  for (const [field, values] of axes) {
    checkField(field, 'sweep');
    if (values.length === 0) throw new SweepGridError(`sweep: "${field}" has no values to try`);
    values.forEach((v) => {
      if (!validFieldValue(field, v)) throw new SweepGridError(`sweep: "${field}": ${JSON.stringify(v)} is not a valid value of the field`);
    });
  }
  let configs: Record<string, unknown>[] = [fixed];
  for (const [field, values] of axes) configs = configs.flatMap((c) => values.map((v) => ({ ...c, [field]: v })));
  return finish(configs, axes.map(([f]) => f));
}

/** grid.json (either form) into its runs; errors name the field or the run. */
export function expandSweep(grid: unknown): SweepRun[] {
  if (typeof grid !== 'object' || grid === null || Array.isArray(grid)) throw new SweepGridError('grid.json must be a JSON object: a run config with array-valued axes, or {"runs": [...]}');
  const g = grid as Record<string, unknown>;
  if ('runs' in g) {
    const { runs, ...shared } = g;
    if (!Array.isArray(runs) || runs.length === 0 || !runs.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) {
      throw new SweepGridError('grid.json: "runs" must be a non-empty array of run configs (objects)');
    }
    for (const f of Object.keys(shared)) checkField(f, 'grid.json');
    runs.forEach((r, i) => Object.keys(r as object).forEach((f) => checkField(f, `grid.json runs[${i}]`)));
    const configs = runs.map((r) => ({ ...shared, ...(r as Record<string, unknown>) }));
    const keys = [...new Set(configs.flatMap((c) => Object.keys(c)))];
    const vary = keys.filter((k) => new Set(configs.map((c) => JSON.stringify(c[k]))).size > 1);
    return finish(configs, vary);
  }
  const axes: SweepAxis[] = [];
  const fixed: Record<string, unknown> = {};
  for (const [field, v] of Object.entries(g)) {
    checkField(field, 'grid.json');
    const isAxis = Array.isArray(v) && v.length > 0 && v.every((e) => validFieldValue(field, e));
    if (isAxis) axes.push([field, v]);
    else if (validFieldValue(field, v)) fixed[field] = v;
    else throw new SweepGridError(`grid.json: "${field}": ${JSON.stringify(v)} is neither a valid value nor a non-empty list of valid values of the field`);
  }
  return expandAxes(fixed, axes);
}
