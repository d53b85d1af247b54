import { ACTIVATION_PRECISION_FLAG, activationPrecisionOf, CliUsageError, GPU_LIMITS_FLAG, gpuLimitsOf, parseCliArgs } from '../args';
import type { ActivationPrecision } from '../../config/run-config';
import type { GpuLimitsChoice } from '../../engine/device';
import { BF16_SAME_MODE_FRACTION, BF16_SAME_MODE_TOLERANCES, BF16_VS_F32_TOLERANCES, checkGolden, compareResults } from '../golden/check';
import { formatComparison, type Comparison } from '../golden/compare';
import { loadGoldenCase } from '../golden/golden-case';
import { cpuGoldenEngineFor } from '../golden/cpu-engine';
import type { GoldenEngine } from '../golden/golden-engine';

const ENGINES: Record<string, (limits: GpuLimitsChoice, precision: ActivationPrecision) => Promise<GoldenEngine>> = {
  cpu: async (_, precision) => cpuGoldenEngineFor(precision),
  gpu: async (limits, precision) => (await import('../golden/gpu-engine')).gpuGoldenEngine(limits, { activationPrecision: precision }),
};

/**
 * `golden <dir> [--engine cpu|gpu] [--gpu-limits adapter|default] [--activation-precision f32|bf16]`:
 * exit 0 when every tensor is within tolerance. f32: against PyTorch's results, within the golden
 * tolerances. bf16: the GPU against the CPU reference with bf16 activations (whole tensors, see
 * BF16_SAME_MODE_FRACTION), and the engine against PyTorch's f32 results within BF16_VS_F32_TOLERANCES.
 */
export async function runGolden(argv: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(argv, { engine: { type: 'string', default: 'cpu' }, ...GPU_LIMITS_FLAG, ...ACTIVATION_PRECISION_FLAG }, 1);
  const makeEngine = ENGINES[values.engine!];
  if (!makeEngine) throw new CliUsageError(`unknown engine "${values.engine}" (choose ${Object.keys(ENGINES).join(' or ')})`);
  const limits = gpuLimitsOf(values['gpu-limits']);
  const precision = activationPrecisionOf(values['activation-precision']) ?? 'f32';
  const c = await loadGoldenCase(positionals[0]);
  const engine = await makeEngine(limits, precision);
  const started = performance.now();
  const result = await engine.run(c);
  const sections: [title: string, comparisons: Comparison[]][] = [];
  if (precision === 'f32') {
    sections.push(['', await checkGolden(c, result)]);
  } else {
    if (values.engine !== 'cpu') {
      const [reference, referenceF32] = [await cpuGoldenEngineFor('bf16').run(c), await cpuGoldenEngineFor('f32').run(c)];
      sections.push([
        `against the CPU reference with bf16 activations (each tensor within ${BF16_SAME_MODE_FRACTION} x the whole bf16 effect + 1e-4 of its size, in norm)`,
        compareResults(c, result, reference, BF16_SAME_MODE_TOLERANCES, { base: referenceF32, fraction: BF16_SAME_MODE_FRACTION }),
      ]);
    }
    sections.push(['against the f32 golden (losses within 1e-2 relative, tensors within 2e-2 of their largest magnitude)', await checkGolden(c, result, BF16_VS_F32_TOLERANCES)]);
  }
  for (const [title, comparisons] of sections) {
    if (title) console.log(`\n${engine.name} ${title}:`);
    for (const cmp of comparisons) console.log(formatComparison(cmp));
  }
  const all = sections.flatMap(([, cmp]) => cmp);
  const failed = all.filter((x) => !x.ok).length;
  console.log(
    `\n${engine.name} engine, B=${c.B} T=${c.T}, ${all.length} tensors checked in ${((performance.now() - started) / 1000).toFixed(2)} s: ` +
      (failed ? `${failed} FAILED` : 'all within tolerance'),
  );
  return failed ? 1 : 0;
}
