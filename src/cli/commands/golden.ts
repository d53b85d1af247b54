import { CliUsageError, GPU_LIMITS_FLAG, gpuLimitsOf, parseCliArgs } from '../args';
import type { GpuLimitsChoice } from '../../engine/device';
import { checkGolden } from '../golden/check';
import { formatComparison } from '../golden/compare';
import { loadGoldenCase } from '../golden/golden-case';
import { cpuGoldenEngine } from '../golden/cpu-engine';
import type { GoldenEngine } from '../golden/golden-engine';

const ENGINES: Record<string, (limits: GpuLimitsChoice) => Promise<GoldenEngine>> = {
  cpu: async () => cpuGoldenEngine,
  gpu: async (limits) => (await import('../golden/gpu-engine')).gpuGoldenEngine(limits),
};

/** `golden <dir> [--engine cpu|gpu] [--gpu-limits adapter|default]`: exit 0 when every tensor is within the golden tolerances. */
export async function runGolden(argv: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(argv, { engine: { type: 'string', default: 'cpu' }, ...GPU_LIMITS_FLAG }, 1);
  const makeEngine = ENGINES[values.engine!];
  if (!makeEngine) throw new CliUsageError(`unknown engine "${values.engine}" (choose ${Object.keys(ENGINES).join(' or ')})`);
  const limits = gpuLimitsOf(values['gpu-limits']);
  const c = await loadGoldenCase(positionals[0]);
  const engine = await makeEngine(limits);
  const started = performance.now();
  const result = await engine.run(c);
  const comparisons = await checkGolden(c, result);
  for (const cmp of comparisons) console.log(formatComparison(cmp));
  const failed = comparisons.filter((x) => !x.ok).length;
  console.log(
    `\n${engine.name} engine, B=${c.B} T=${c.T}, ${comparisons.length} tensors checked in ${((performance.now() - started) / 1000).toFixed(2)} s: ` +
      (failed ? `${failed} FAILED` : 'all within tolerance'),
  );
  return failed ? 1 : 0;
}
