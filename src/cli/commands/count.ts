import { readFile } from 'node:fs/promises';
import { parseModelConfig } from '../../config/model-config';
import { countBaseParams, countLoraParams } from '../../config/param-count';
import { modulesForTargets, TARGETS, type Target } from '../../config/lora-targets';
import { CliUsageError, parseCliArgs } from '../args';

/** Print the trainable LoRA parameter count for a Hugging Face config.json, rank and targets. */
export async function runCount(argv: string[]): Promise<number> {
  const { values } = parseCliArgs(argv, {
    config: { type: 'string' },
    r: { type: 'string' },
    targets: { type: 'string' },
    'rank-pattern': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (!values.config || !values.r || !values.targets) throw new CliUsageError('--config, --r and --targets are required');
  const r = Number(values.r);
  if (!Number.isInteger(r) || r <= 0) throw new CliUsageError(`--r must be a positive integer, got "${values.r}"`);
  const targets = values.targets.split(',').map((t) => t.trim());
  const unknown = targets.filter((t) => !(TARGETS as readonly string[]).includes(t));
  if (unknown.length) throw new CliUsageError(`unknown target(s) ${unknown.join(', ')}; choose from ${TARGETS.join(', ')}`);
  let rankPattern: Record<string, number> = {};
  if (values['rank-pattern']) {
    try {
      rankPattern = JSON.parse(values['rank-pattern']);
    } catch {
      throw new CliUsageError('--rank-pattern must be a JSON object such as {"model.layers.0.self_attn.q_proj": 16}');
    }
  }

  const model = parseModelConfig(JSON.parse(await readFile(values.config, 'utf8')));
  const trainable = countLoraParams(model, { r, targetModules: modulesForTargets(targets as Target[]), rankPattern });
  if (values.json) {
    const base = countBaseParams(model);
    console.log(JSON.stringify({ trainable, base, percent: (100 * trainable) / (base + trainable) }));
  } else {
    console.log(trainable);
  }
  return 0;
}
