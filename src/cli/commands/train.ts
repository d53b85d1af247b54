import { readFile } from 'node:fs/promises';
import { acquireGpu } from '../../engine/device';
import { nodeGpu } from '../../engine/node-gpu';
import { DATASET_FLAGS, datasetOptions } from './data';
import { trainRun } from './train-run';
import { ACTIVATION_PRECISION_FLAG, activationPrecisionOf, CliUsageError, GPU_LIMITS_FLAG, gpuLimitsOf, parseCliArgs } from '../args';

/** `train --model <dir|hf:org/name> --data <file> [--config run.json] [--validation <file>] --out <dir>`: headless LoRA finetuning. */
export async function runTrain(argv: string[]): Promise<number> {
  const { values } = parseCliArgs(argv, {
    model: { type: 'string' }, data: { type: 'string' }, config: { type: 'string' }, validation: { type: 'string' }, out: { type: 'string' }, ...DATASET_FLAGS, ...GPU_LIMITS_FLAG, ...ACTIVATION_PRECISION_FLAG,
  });
  const limits = gpuLimitsOf(values['gpu-limits']);
  if (!values.model || !values.data || !values.out) throw new CliUsageError('--model, --data and --out are required');
  const config = (values.config ? JSON.parse(await readFile(values.config, 'utf8')) : {}) as Record<string, unknown>;
  const activationPrecision = activationPrecisionOf(values['activation-precision']);
  if (activationPrecision && config && typeof config === 'object') config.activationPrecision = activationPrecision; // the flag wins over the file
  const gpu = await acquireGpu(await nodeGpu(), { limits });
  try {
    await trainRun({ modelSpec: values.model, dataFile: values.data, validationFile: values.validation, config, dataOptions: datasetOptions(values), gpu, out: values.out });
  } finally {
    gpu.device.destroy();
  }
  return 0;
}
