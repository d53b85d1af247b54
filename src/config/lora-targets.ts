/**
 * The six LoRA target switches of the studio and the Hugging Face module names they stand for.
 * PEFT matches `target_modules` by module-name suffix, so these names are what goes in
 * `adapter_config.json`.
 */
export const TARGETS = ['query', 'key', 'value', 'projection', 'mlp', 'head'] as const;
export type Target = (typeof TARGETS)[number];

export const TARGET_MODULES: Record<Target, readonly ModuleName[]> = {
  query: ['q_proj'],
  key: ['k_proj'],
  value: ['v_proj'],
  projection: ['o_proj'],
  mlp: ['gate_proj', 'up_proj', 'down_proj'],
  head: ['lm_head'],
};

export const MODULE_NAMES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head'] as const;
export type ModuleName = (typeof MODULE_NAMES)[number];

/** Where a module lives in the Hugging Face state dict (`model.layers.{i}.self_attn.q_proj`). */
export function modulePath(module: ModuleName, layer: number): string {
  switch (module) {
    case 'q_proj':
    case 'k_proj':
    case 'v_proj':
    case 'o_proj':
      return `model.layers.${layer}.self_attn.${module}`;
    case 'gate_proj':
    case 'up_proj':
    case 'down_proj':
      return `model.layers.${layer}.mlp.${module}`;
    case 'lm_head':
      return 'lm_head';
  }
}

export function modulesForTargets(targets: readonly Target[]): ModuleName[] {
  const set = new Set(targets.flatMap((t) => TARGET_MODULES[t]));
  return MODULE_NAMES.filter((m) => set.has(m));
}

/** Inverse of modulesForTargets; throws on a module name the studio cannot train. */
export function targetsForModules(modules: readonly string[]): Target[] {
  const known = new Set<string>(MODULE_NAMES);
  for (const m of modules) {
    if (!known.has(m)) throw new Error(`unsupported LoRA target module "${m}" (supported: ${MODULE_NAMES.join(', ')})`);
  }
  return TARGETS.filter((t) => TARGET_MODULES[t].some((m) => modules.includes(m)));
}

/** [out, in] of each linear module for a model config. */
export function moduleShape(
  module: ModuleName,
  c: { hiddenSize: number; intermediateSize: number; numHeads: number; numKvHeads: number; headDim: number; vocabSize: number },
): { out: number; in: number } {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  switch (module) {
    case 'q_proj':
      return { out: q, in: c.hiddenSize };
    case 'k_proj':
    case 'v_proj':
      return { out: kv, in: c.hiddenSize };
    case 'o_proj':
      return { out: c.hiddenSize, in: q };
    case 'gate_proj':
    case 'up_proj':
      return { out: c.intermediateSize, in: c.hiddenSize };
    case 'down_proj':
      return { out: c.hiddenSize, in: c.intermediateSize };
    case 'lm_head':
      return { out: c.vocabSize, in: c.hiddenSize };
  }
}
