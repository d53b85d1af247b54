import { MODULE_NAMES, type ModuleName } from '../config/lora-targets';
import { dropoutMask, dropoutStream } from '../core/rng';

/**
 * Where the LoRA dropout masks of a step come from. The reference asks for one mask per LoRA
 * module per forward: `mask(modulePath, n)` returns n = rows * in_features keep flags (1 = keep).
 * Any source works (tests pass fixed masks); `seededDropout` draws them from the studio's shared
 * counter-based RNG (src/core/rng.ts), exactly as the GPU dropout kernel does.
 */
export interface DropoutOptions {
  /** Dropout probability of the LoRA input, in [0, 1). */
  p: number;
  mask: (modulePath: string, n: number) => Uint8Array;
}

/** (layer, index in MODULE_NAMES) of a LoRA module path; lm_head is layer 0, as the RNG streams expect. */
export function loraModuleId(modulePath: string): { layer: number; moduleIndex: number } {
  if (modulePath === 'lm_head') return { layer: 0, moduleIndex: MODULE_NAMES.indexOf('lm_head') };
  const m = /^model\.layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)$/.exec(modulePath);
  const moduleIndex = m ? MODULE_NAMES.indexOf(m[2] as ModuleName) : -1;
  if (!m || moduleIndex < 0) throw new Error(`dropout: not a LoRA module path: "${modulePath}"`);
  return { layer: Number(m[1]), moduleIndex };
}

/**
 * Dropout whose masks come from the RNG stream of (step, micro-batch, layer, module): different
 * modules (even q, k and v on the same input) draw independent masks, as in PEFT where each LoRA
 * layer owns its dropout.
 */
export function seededDropout(seed: number, step: number, p: number, micro = 0): DropoutOptions {
  return {
    p,
    mask: (path, n) => {
      const { layer, moduleIndex } = loraModuleId(path);
      return dropoutMask(p, seed, dropoutStream(step, micro, layer, moduleIndex), n).keep;
    },
  };
}
