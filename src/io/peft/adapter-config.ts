import { z } from 'zod';
import type { LoraConfig } from '../../config/lora-config';
import { MODULE_NAMES, type ModuleName } from '../../config/lora-targets';
import { BadFileError } from '../../core/errors';

export const CONFIG_FILE = 'adapter_config.json';

/**
 * The fields of PEFT's LoraConfig that change what the weights mean. Everything else (revision,
 * init_lora_weights, loftq_config, ...) passes through unchecked, as PEFT's own loader allows.
 */
const schema = z
  .object({
    peft_type: z.literal('LORA'),
    task_type: z.string().nullable().optional(),
    r: z.number().int().positive(),
    lora_alpha: z.number().positive(),
    lora_dropout: z.number().min(0).lt(1).default(0),
    target_modules: z.union([z.array(z.string()), z.string()]),
    bias: z.string().default('none'),
    fan_in_fan_out: z.boolean().default(false),
    use_rslora: z.boolean().default(false),
    use_dora: z.boolean().default(false),
    lora_bias: z.boolean().default(false),
    rank_pattern: z.record(z.string(), z.number().int().positive()).nullable().default({}),
    alpha_pattern: z.record(z.string(), z.number().positive()).nullable().default({}),
    base_model_name_or_path: z.string().nullable().optional(),
    modules_to_save: z.array(z.string()).nullable().optional(),
    layers_to_transform: z.union([z.number().int(), z.array(z.number().int())]).nullable().optional(),
    exclude_modules: z.unknown().optional(),
  })
  .passthrough();

export interface ParsedAdapterConfig {
  /** targetModules is filled from target_modules when it is a list; see `targetRegex`. */
  config: LoraConfig;
  baseModel: string;
  /**
   * Set when target_modules is a string: PEFT then full-matches it as a regex against module
   * paths ('all-linear' matches every linear layer). The weights decide the modules.
   */
  targetRegex: RegExp | null;
  /** layers_to_transform or exclude_modules is set: not every target module is adapted in every layer. */
  partial: boolean;
}

/** Parse and check adapter_config.json; every problem is a BadFileError naming the field. */
export function parseAdapterConfig(text: string): ParsedAdapterConfig {
  const bad = (defect: string): BadFileError => new BadFileError(CONFIG_FILE, defect);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw bad(`is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('is not a JSON object');
  const peftType = (json as Record<string, unknown>).peft_type;
  if (peftType !== 'LORA') throw bad(`peft_type is ${JSON.stringify(peftType)}; only LoRA adapters (peft_type "LORA") are supported`);
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw bad(`field "${issue.path.join('.')}": ${issue.message}`);
  }
  const c = parsed.data;
  if (c.task_type != null && c.task_type !== 'CAUSAL_LM') {
    throw bad(`task_type "${c.task_type}" is not supported; the studio works with causal language models (CAUSAL_LM)`);
  }
  if (c.fan_in_fan_out) throw bad('fan_in_fan_out is true (GPT-2 style Conv1D weights); only fan_in_fan_out false is supported');
  if (c.lora_bias) throw bad('lora_bias is true; LoRA biases are not supported');
  if (c.bias !== 'none') throw bad(`bias is "${c.bias}"; only bias "none" is supported`);
  if (c.modules_to_save?.length) throw bad(`modules_to_save (${c.modules_to_save.join(', ')}) is not supported: only LoRA weights are`);

  let targetModules: ModuleName[] = [];
  let targetRegex: RegExp | null = null;
  if (typeof c.target_modules === 'string') {
    // PEFT's 'all-linear' is every linear layer except the output head.
    const src = c.target_modules === 'all-linear' ? '(?!lm_head$).*' : c.target_modules;
    try {
      targetRegex = new RegExp(`^(?:${src})$`);
    } catch {
      throw bad(`target_modules regex ${JSON.stringify(c.target_modules)} is not a valid regular expression`);
    }
  } else {
    // PEFT matches list entries as path suffixes, so "self_attn.q_proj" means q_proj.
    const set = new Set<string>();
    for (const entry of c.target_modules) {
      const name = entry.slice(entry.lastIndexOf('.') + 1);
      if (!(MODULE_NAMES as readonly string[]).includes(name)) {
        throw bad(`target_modules contains unknown module "${entry}" (supported: ${MODULE_NAMES.join(', ')})`);
      }
      set.add(name);
    }
    targetModules = MODULE_NAMES.filter((m) => set.has(m));
  }
  return {
    config: {
      r: c.r,
      alpha: c.lora_alpha,
      dropout: c.lora_dropout,
      useRslora: c.use_rslora,
      targetModules,
      rankPattern: c.rank_pattern ?? {},
      alphaPattern: c.alpha_pattern ?? {},
      ...(c.use_dora ? { useDora: true } : {}),
    },
    baseModel: c.base_model_name_or_path ?? '',
    targetRegex,
    partial: c.layers_to_transform != null || c.exclude_modules != null,
  };
}

/** adapter_config.json as current PEFT writes it (sorted keys, 2-space indent). */
export function serializeAdapterConfig(config: LoraConfig, baseModel: string): string {
  const fields: Record<string, unknown> = {
    alpha_pattern: config.alphaPattern,
    base_model_name_or_path: baseModel === '' ? null : baseModel,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: config.alpha,
    lora_bias: false,
    lora_dropout: config.dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r: config.r,
    rank_pattern: config.rankPattern,
    revision: null,
    target_modules: [...new Set(config.targetModules)].sort(),
    task_type: 'CAUSAL_LM',
    use_dora: config.useDora === true,
    use_rslora: config.useRslora,
  };
  return JSON.stringify(fields, null, 2) + '\n';
}
