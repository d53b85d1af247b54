import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GPU_LIMITS_CHOICES, type GpuLimitsChoice } from '../engine/device';
import type { ActivationPrecision } from '../config/run-config';

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

/** The `--gpu-limits adapter|default` flag (see AcquireOptions.limits). */
export const GPU_LIMITS_FLAG = { 'gpu-limits': { type: 'string', default: 'adapter' } } as const;

export function gpuLimitsOf(value: string | undefined): GpuLimitsChoice {
  const v = value ?? 'adapter';
  if (!(GPU_LIMITS_CHOICES as readonly string[]).includes(v)) throw new CliUsageError(`--gpu-limits must be ${GPU_LIMITS_CHOICES.join(' or ')}, got "${v}"`);
  return v as GpuLimitsChoice;
}

/** The `--activation-precision f32|bf16` flag: overrides the run config's activationPrecision when given. */
export const ACTIVATION_PRECISION_FLAG = { 'activation-precision': { type: 'string' } } as const;

export function activationPrecisionOf(value: string | undefined): ActivationPrecision | undefined {
  if (value === undefined) return undefined;
  if (value !== 'f32' && value !== 'bf16') throw new CliUsageError(`--activation-precision must be f32 or bf16, got "${value}"`);
  return value;
}
