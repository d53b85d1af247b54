import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEngine } from '../../engine/context';
import { acquireGpu } from '../../engine/device';
import { nodeGpu } from '../../engine/node-gpu';
import { exportPeftAdapter } from '../../io/peft';
import { openModelDir } from '../../io/node-model-dir';
import { parseTokenJsonl } from '../../data/token-jsonl';
import { buildTrainGraph } from '../../model/graph/train-graph';
import { planMemory } from '../../model/plan/memory-plan';
import { adapterFromGraph } from '../../train/adapter-export';
import { parseRunConfig } from '../../train/run-config';
import { train, type StepEvent } from '../../train/trainer';
import { CliUsageError, parseCliArgs } from '../args';

const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

function metricsLine(e: StepEvent): string {
  return JSON.stringify({
    step: e.step, loss: e.loss, lr: e.lr, grad_norm: e.gradNorm, tokens_per_s: e.tokensPerSecond, elapsed_ms: Math.round(e.elapsedMs),
    ...(e.evalLoss !== undefined ? { eval_loss: e.evalLoss } : {}), memory: { ...e.memory.current, total: e.memory.total, peak_total: e.memory.peakTotal },
  });
}

/** `train --model <dir> --data <file> [--config run.json] [--validation <file>] --out <dir>`: headless LoRA finetuning. */
export async function runTrain(argv: string[]): Promise<number> {
  const { values } = parseCliArgs(argv, {
    model: { type: 'string' }, data: { type: 'string' }, config: { type: 'string' }, validation: { type: 'string' }, out: { type: 'string' },
  });
  if (!values.model || !values.data || !values.out) throw new CliUsageError('--model, --data and --out are required');
  const run = parseRunConfig(values.config ? JSON.parse(await readFile(values.config, 'utf8')) : {});
  const model = await openModelDir(values.model);
  const examples = parseTokenJsonl(await readFile(values.data, 'utf8'), model.config.vocabSize, values.data);
  const validation = values.validation ? parseTokenJsonl(await readFile(values.validation, 'utf8'), model.config.vocabSize, values.validation) : undefined;

  const gpu = await acquireGpu(await nodeGpu());
  const plan = await planMemory(model.config, run, gpu.limits, gpu.features);
  console.log(`memory plan: ${Object.entries(plan.byCategory).map(([k, v]) => `${k} ${mib(v)}`).join(', ')}; total ${mib(plan.total)}`);
  if (plan.largest.bytes > gpu.limits.maxBufferSize) {
    throw new CliUsageError(`buffer "${plan.largest.label}" needs ${mib(plan.largest.bytes)}, above this GPU's maxBufferSize (${mib(gpu.limits.maxBufferSize)}); lower microBatch or maxSeqLen, or use NF4 base weights`);
  }
  const engine = createEngine(gpu);
  const g = await buildTrainGraph(engine, model.config, run, { load: model.load });
  await model.close();
  await mkdir(values.out, { recursive: true });
  const lines: string[] = [];
  const events = await train(g, {
    train: examples, validation, padId: 0,
    onStep: (e) => {
      lines.push(metricsLine(e));
      console.log(`step ${e.step}/${e.totalSteps}  loss ${e.loss.toFixed(4)}${e.evalLoss !== undefined ? `  eval ${e.evalLoss.toFixed(4)}` : ''}  lr ${e.lr.toExponential(2)}  grad-norm ${e.gradNorm.toFixed(3)}  ${e.tokensPerSecond.toFixed(0)} tok/s`);
    },
  });
  const { weights, configJson } = exportPeftAdapter(await adapterFromGraph(g, model.name));
  await writeFile(join(values.out, 'adapter_model.safetensors'), weights);
  await writeFile(join(values.out, 'adapter_config.json'), configJson);
  await writeFile(join(values.out, 'metrics.jsonl'), lines.join('\n') + '\n');
  const last = events[events.length - 1];
  console.log(`wrote ${values.out}/adapter_model.safetensors, adapter_config.json, metrics.jsonl (${events.length} logged steps, final loss ${last?.loss.toFixed(4)}, peak memory ${mib(engine.pool.ledgerSnapshot().peakTotal)})`);
  gpu.device.destroy();
  return 0;
}
