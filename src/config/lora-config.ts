import type { ModuleName } from './lora-targets';

/**
 * A LoRA adapter's shape and scaling, as PEFT's LoraConfig defines it. `rankPattern` and
 * `alphaPattern` map a PEFT pattern (a module-name suffix such as `q_proj`, a path such as
 * `model.layers.0.self_attn.q_proj`, or a regex as PEFT allows) to an override.
 */
export interface LoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  useRslora: boolean;
  targetModules: ModuleName[];
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
  /** DoRA (PEFT's use_dora): each module also trains a magnitude vector (out); absent = false. */
  useDora?: boolean;
}

/**
 * Resolve PEFT's pattern lookup: the first key whose regex matches the end of the module path
 * (`(.*\.)?${key}$`) wins, as in peft.tuners.lora.model (`get_pattern_key`).
 */
export function patternValue(pattern: Record<string, number>, path: string, fallback: number): number {
  for (const [key, value] of Object.entries(pattern)) {
    if (new RegExp(`(^|\\.)${key}$`).test(path)) return value;
  }
  return fallback;
}

/** Rank and alpha of one module (full state-dict path without `.weight`). */
export function loraRankAlpha(cfg: LoraConfig, path: string): { r: number; alpha: number } {
  return { r: patternValue(cfg.rankPattern, path, cfg.r), alpha: patternValue(cfg.alphaPattern, path, cfg.alpha) };
}

/** PEFT scaling: alpha / r, or alpha / sqrt(r) with rsLoRA. */
export function loraScaling(r: number, alpha: number, useRslora: boolean): number {
  return useRslora ? alpha / Math.sqrt(r) : alpha / r;
}
