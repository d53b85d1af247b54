import { parseArgs, type ParseArgsConfig } from 'node:util';

export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

/** node:util parseArgs with unknown flags and missing values reported as usage errors. */
export function parseCliArgs<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, positionals = 0) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: positionals > 0, strict: true });
  } catch (e) {
    throw new CliUsageError(e instanceof Error ? e.message : String(e));
  }
  if (parsed.positionals.length !== positionals) {
    throw new CliUsageError(`expected ${positionals} positional argument(s), got ${parsed.positionals.length}`);
  }
  return parsed;
}
