/**
 * `plan --model <dir|config.json|hf:org/name> [--config run.json] [--gpu-limits adapter|default] [--activation-precision f32|bf16]`:
 * the run's GPU memory, from config.json alone (no weights are read): the dry-run build whose
 * ledger the real run reproduces byte for byte, and whether it fits the limits.
 */
import { readFile } from 'node:fs/promises';
import { parseModelConfig, type ModelConfig } from '../../config/model-config';
import { parseRunConfig } from '../../config/run-config';
import { acquireGpu, type GpuFeatures, type GpuLimits } from '../../engine/device';
import { DEFAULT_LIMITS } from '../../engine/dry-run';
import { nodeGpu } from '../../engine/node-gpu';
import { openModelFiles } from '../../io/model-source/node';
import { fitProblems, planOrExplain } from '../../model/plan/fit';
import { ACTIVATION_PRECISION_FLAG, activationPrecisionOf, CliUsageError, GPU_LIMITS_FLAG, gpuLimitsOf, parseCliArgs } from '../args';

async function modelConfigOf(spec: string): Promise<ModelConfig> {
  if (spec.endsWith('.json')) return parseModelConfig(JSON.parse(await readFile(spec, 'utf8')));
  const files = await openModelFiles(spec);
  const text = await files.text('config.json');
  if (text === null) throw new CliUsageError(`${spec} has no config.json`);
  return parseModelConfig(JSON.parse(text));
}

export async function runPlan(argv: string[]): Promise<number> {
  const { values } = parseCliArgs(argv, { model: { type: 'string' }, config: { type: 'string' }, ...GPU_LIMITS_FLAG, ...ACTIVATION_PRECISION_FLAG });
  if (!values.model) throw new CliUsageError('--model is required');
  const limitsChoice = gpuLimitsOf(values['gpu-limits']);
  const model = await modelConfigOf(values.model);
  const activationPrecision = activationPrecisionOf(values['activation-precision']);
  const run = parseRunConfig({ ...(values.config ? JSON.parse(await readFile(values.config, 'utf8')) : {}), ...(activationPrecision ? { activationPrecision } : {}) });
  // WebGPU's defaults need no device; the adapter's maxima come from this machine's adapter.
  let gpu: { limits: GpuLimits; features: GpuFeatures };
  if (limitsChoice === 'default') {
    gpu = { limits: DEFAULT_LIMITS, features: { f16: false, subgroups: false, timestamps: false } };
  } else {
    const g = await acquireGpu(await nodeGpu());
    gpu = { limits: g.limits, features: g.features };
    g.device.destroy();
  }
  const plan = await planOrExplain(model, run, gpu);
  const problems = await fitProblems(model, plan, run, gpu);
  console.log(JSON.stringify({
    model: model.architecture, total_bytes: plan.total, by_category: plan.byCategory,
    largest_binding_bytes: plan.largest.bytes, largest_binding: plan.largest.label,
    limits: { gpu_limits: limitsChoice, max_buffer_size: gpu.limits.maxBufferSize, max_storage_buffer_binding_size: gpu.limits.maxStorageBufferBindingSize },
    fits: problems.length === 0, problems,
  }, null, 2));
  return 0;
}
