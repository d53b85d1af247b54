/**
 * `sweep --model <dir> --data <file> --grid grid.json --out <dir> [--task <file.jsonl> ...]`: train
 * every run of a grid or list (sweep-grid.ts) one after another on one GPU, each into
 * <out>/<run-name>/ (adapter_model.safetensors, adapter_config.json, metrics.jsonl, run.json), then
 * write <out>/results.json and <out>/results.csv: one row per run with the varying fields,
 * trainable_params, peak_memory_bytes (the run's ledger peak), wall_time_s, final_train_loss (mean
 * of the last 10 logged steps), best_val_loss, final_val_loss, the task metrics (each --task
 * evaluated on the run's adapter, columns `<task>.<metric>`), and `best` marking the row with the
 * lowest best_val_loss (final_train_loss without validation).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { acquireGpu } from '../../engine/device';
import { nodeGpu } from '../../engine/node-gpu';
import { PipelineCache } from '../../engine/pipelines';
import { openModelSpec, stderrProgress } from '../../io/model-source/node';
import { DATASET_FLAGS, datasetOptions } from './data';
import { EVAL_FLAGS, evaluateTaskFile, readAdapterDir } from './eval';
import { expandSweep, SweepGridError, type SweepRun } from '../../train/sweep/grid';
import { lossSummary, markBest, resultRow, taskScores, toCsv } from '../../train/sweep/results';
import { trainRun, type TrainRunResult } from './train-run';
import { CliUsageError, GPU_LIMITS_FLAG, gpuLimitsOf, parseCliArgs } from '../args';

/** A run's row of results.csv (src/train/sweep/results.ts, shared with the studio). */
function rowOf(name: string, varying: Record<string, unknown>, r: TrainRunResult): Record<string, unknown> {
  return resultRow(name, varying, {
    trainableParams: r.trainableParams, peakMemoryBytes: r.peakMemoryBytes, wallTimeS: r.wallTimeS,
    ...lossSummary(r.events.map((e) => e.loss), r.evalLosses),
  });
}

/** grid.json's runs; a grid that cannot be expanded is a usage error (the message names the field). */
function runsOf(grid: unknown): SweepRun[] {
  try {
    return expandSweep(grid);
  } catch (e) {
    throw e instanceof SweepGridError ? new CliUsageError(e.message) : e;
  }
}

export async function runSweep(argv: string[]): Promise<number> {
  const { values } = parseCliArgs(argv, {
    model: { type: 'string' }, data: { type: 'string' }, grid: { type: 'string' }, out: { type: 'string' }, validation: { type: 'string' },
    task: { type: 'string', multiple: true }, ...EVAL_FLAGS, ...DATASET_FLAGS, ...GPU_LIMITS_FLAG,
  });
  if (!values.model || !values.data || !values.grid || !values.out) throw new CliUsageError('--model, --data, --grid and --out are required');
  if (values.kind) throw new CliUsageError('--kind: each --task\'s kind is read from its file in a sweep');
  let grid: unknown;
  try {
    grid = JSON.parse(await readFile(values.grid, 'utf8'));
  } catch (e) {
    throw new CliUsageError(`--grid ${values.grid}: ${(e as Error).message}`);
  }
  const runs = runsOf(grid);
  const { task: taskList, ...flags } = values;
  const tasks = taskList ?? [];
  console.log(`sweep: ${runs.length} runs${tasks.length ? `, each scored on ${tasks.join(', ')}` : ''}`);
  await mkdir(values.out, { recursive: true });
  const gpu = await acquireGpu(await nodeGpu(), { limits: gpuLimitsOf(values['gpu-limits']) });
  const rows: Record<string, unknown>[] = [];
  const pipelines = new PipelineCache(gpu);
  try {
    for (const [i, spec] of runs.entries()) {
      console.log(`\n== run ${i + 1}/${runs.length}: ${spec.name} ${JSON.stringify(spec.varying)}`);
      const dir = join(values.out, spec.name);
      const result = await trainRun({ modelSpec: values.model, dataFile: values.data, validationFile: values.validation, config: spec.config, dataOptions: datasetOptions(flags), gpu, out: dir, pipelines });
      await writeFile(join(dir, 'run.json'), JSON.stringify(result.run, null, 2) + '\n');
      const row = rowOf(spec.name, spec.varying, result);
      if (tasks.length) {
        const model = await openModelSpec(values.model, { onProgress: stderrProgress() });
        try {
          const adapter = await readAdapterDir(dir, model.config);
          for (const task of tasks) {
            const scores = await evaluateTaskFile(model, adapter, gpu, { task, values: flags, pipelines });
            Object.assign(row, taskScores(basename(task), scores as Record<string, number>));
          }
        } finally {
          await model.close();
        }
      }
      rows.push(row);
      // Written after every run, so an interrupted sweep keeps the rows it finished.
      await writeFile(join(values.out, 'results.json'), JSON.stringify(rows, null, 2) + '\n');
    }
  } finally {
    gpu.device.destroy();
  }
  markBest(rows);
  await writeFile(join(values.out, 'results.json'), JSON.stringify(rows, null, 2) + '\n');
  await writeFile(join(values.out, 'results.csv'), toCsv(rows));
  console.log(`\nwrote ${values.out}/results.csv and results.json (${rows.length} runs)`);
  console.log(toCsv(rows));
  return 0;
}
