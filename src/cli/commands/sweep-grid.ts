/**
 * A sweep's runs from grid.json. Two forms:
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
 */
import { parseRunConfig, runConfigSchema } from '../../config/run-config';
import { CliUsageError } from '../args';

export interface SweepRun {
  /** Folder name under --out: index and varying values. */
  name: string;
  /** The run config to train with (alpha resolved). */
  config: Record<string, unknown>;
  /** The fields that vary across the sweep, as given (alpha may read "2x"). */
  varying: Record<string, unknown>;
}

const TIED = /^\s*(\d+(?:\.\d+)?)\s*x\s*$/i;
const FIELDS = runConfigSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;

function validValue(field: string, v: unknown): boolean {
  if (field === 'alpha' && typeof v === 'string') return TIED.test(v);
  return FIELDS[field].safeParse(v).success;
}

function checkField(field: string, where: string): void {
  if (!(field in FIELDS)) throw new CliUsageError(`${where}: "${field}" is not a run config field (known: ${Object.keys(FIELDS).join(', ')})`);
}

/** alpha "2x" -> 2 x rank (the run's rank, default 8). */
function resolveAlpha(c: Record<string, unknown>): Record<string, unknown> {
  if (typeof c.alpha !== 'string') return c;
  const m = TIED.exec(c.alpha);
  if (!m) throw new CliUsageError(`alpha "${c.alpha}": a tied alpha is written like "2x" (2 x rank)`);
  const rank = typeof c.rank === 'number' ? c.rank : parseRunConfig({}).rank;
  return { ...c, alpha: Number(m[1]) * rank };
}

const show = (v: unknown): string => (Array.isArray(v) ? v.map(show).join('+') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

function runName(i: number, count: number, varying: Record<string, unknown>): string {
  const parts = Object.entries(varying).map(([k, v]) => `${k}-${show(v)}`);
  const name = [String(i + 1).padStart(String(count).length, '0'), ...parts].join('_');
  return name.replace(/[^A-Za-z0-9._+=-]/g, '-').slice(0, 120);
}

function finish(configs: Record<string, unknown>[], fieldsThatVary: string[]): SweepRun[] {
  return configs.map((c, i) => {
    const config = resolveAlpha(c);
    try {
      parseRunConfig(config);
    } catch (e) {
      throw new CliUsageError(`sweep run ${i + 1} (${JSON.stringify(c)}): ${(e as Error).message}`);
    }
    const varying = Object.fromEntries(fieldsThatVary.map((f) => [f, c[f]]));
    return { name: runName(i, configs.length, varying), config, varying };
  });
}

export function expandSweep(grid: unknown): SweepRun[] {
  if (typeof grid !== 'object' || grid === null || Array.isArray(grid)) throw new CliUsageError('grid.json must be a JSON object: a run config with array-valued axes, or {"runs": [...]}');
  const g = grid as Record<string, unknown>;
  if ('runs' in g) {
    const { runs, ...shared } = g;
    if (!Array.isArray(runs) || runs.length === 0 || !runs.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) {
      throw new CliUsageError('grid.json: "runs" must be a non-empty array of run configs (objects)');
    }
    for (const f of Object.keys(shared)) checkField(f, 'grid.json');
    runs.forEach((r, i) => Object.keys(r as object).forEach((f) => checkField(f, `grid.json runs[${i}]`)));
    const configs = runs.map((r) => ({ ...shared, ...(r as Record<string, unknown>) }));
    const keys = [...new Set(configs.flatMap((c) => Object.keys(c)))];
    const vary = keys.filter((k) => new Set(configs.map((c) => JSON.stringify(c[k]))).size > 1);
    return finish(configs, vary);
  }
  const axes: [string, unknown[]][] = [];
  const fixed: Record<string, unknown> = {};
  for (const [field, v] of Object.entries(g)) {
    checkField(field, 'grid.json');
    const isAxis = Array.isArray(v) && v.length > 0 && v.every((e) => validValue(field, e));
    if (isAxis) axes.push([field, v]);
    else if (validValue(field, v)) fixed[field] = v;
    else throw new CliUsageError(`grid.json: "${field}": ${JSON.stringify(v)} is neither a valid value nor a non-empty list of valid values of the field`);
  }
  let configs: Record<string, unknown>[] = [fixed];
  for (const [field, values] of axes) configs = configs.flatMap((c) => values.map((v) => ({ ...c, [field]: v })));
  return finish(configs, axes.map(([f]) => f));
}

/** A cell of results.csv: lists joined with +, quoted when it holds a comma, quote or newline. */
export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : show(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: readonly Record<string, unknown>[]): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return [cols.join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n';
}
