/**
 * Checks of the per-layer rank and alpha patterns before a run: each key is a regular expression
 * matched against the end of a module path, as PEFT does (src/config/lora-config.ts), so one that
 * does not compile would fail the run, and one that matches no adapted module does nothing.
 */
import { modulePath, modulesForTargets, type Target } from '../../config/lora-targets';

/** PEFT's lookup: the key matches the end of the module path. Throws SyntaxError when the key is not a regex. */
export const patternRegex = (key: string) => new RegExp(`(^|\\.)${key}$`);

/** Why a pattern cannot be used, in a sentence; null when it compiles. */
export function patternProblem(key: string): string | null {
  if (!key.trim()) return 'a pattern cannot be empty';
  try {
    patternRegex(key);
    return null;
  } catch (e) {
    const why = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '');
    return `"${key}" is not a valid pattern (${why.charAt(0).toLowerCase()}${why.slice(1)})`;
  }
}

/** The problems of a pattern field's keys (none when the value is not a record yet). */
export function patternErrors(pattern: unknown): string[] {
  if (!pattern || typeof pattern !== 'object') return [];
  return Object.keys(pattern).map(patternProblem).filter((p): p is string => p !== null);
}

/** Every module path a run adapts: e.g. model.layers.0.self_attn.q_proj for each layer and target. */
export function adaptedPaths(numLayers: number, targets: readonly Target[]): string[] {
  const out: string[] = [];
  for (const m of modulesForTargets(targets)) {
    if (m === 'lm_head') out.push(modulePath(m, 0));
    else for (let l = 0; l < numLayers; l++) out.push(modulePath(m, l));
  }
  return out;
}

/** How many adapted modules a (valid) pattern reaches. */
export function patternMatches(key: string, paths: readonly string[]): number {
  if (patternProblem(key)) return 0;
  const re = patternRegex(key);
  return paths.filter((p) => re.test(p)).length;
}
