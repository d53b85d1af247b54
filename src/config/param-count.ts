import { headNormNames, layerNormNames } from './architecture-features';
import type { ModelConfig } from './model-config';
import { loraRankAlpha, type LoraConfig } from './lora-config';
import { MODULE_NAMES, moduleShape, modulePath, type ModuleName } from './lora-targets';

type CountConfig = Pick<LoraConfig, 'r' | 'targetModules'> & Partial<Pick<LoraConfig, 'rankPattern' | 'useDora'>>;

/** Every (module, layer) pair a LoRA config trains; lm_head has layer null. */
export function loraModules(model: ModelConfig, targetModules: readonly ModuleName[]): { module: ModuleName; layer: number | null; path: string }[] {
  const list: { module: ModuleName; layer: number | null; path: string }[] = [];
  for (let layer = 0; layer < model.numLayers; layer++) {
    for (const module of MODULE_NAMES) {
      if (module !== 'lm_head' && targetModules.includes(module)) list.push({ module, layer, path: modulePath(module, layer) });
    }
  }
  if (targetModules.includes('lm_head')) list.push({ module: 'lm_head', layer: null, path: modulePath('lm_head', 0) });
  return list;
}

/**
 * Trainable LoRA parameters: r * (in + out) per adapted module, with each module's rank taken from
 * the rank pattern (PEFT's rules) where one matches; DoRA adds the magnitude (out) of each.
 */
export function countLoraParams(model: ModelConfig, lora: CountConfig): number {
  const cfg = { r: lora.r, alpha: lora.r, dropout: 0, useRslora: false, targetModules: [...lora.targetModules], rankPattern: lora.rankPattern ?? {}, alphaPattern: {} };
  let total = 0;
  for (const { module, path } of loraModules(model, lora.targetModules)) {
    const { r } = loraRankAlpha(cfg, path);
    const shape = moduleShape(module, model);
    total += r * (shape.in + shape.out) + (lora.useDora ? shape.out : 0);
  }
  return total;
}

/** Parameters of the base model (embeddings, every linear, norms incl. Gemma's sandwich and the q/k head norms, biases, untied head). */
export function countBaseParams(model: ModelConfig): number {
  const linear = (m: ModuleName) => {
    const s = moduleShape(m, model);
    return s.in * s.out;
  };
  const perLayer =
    (['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const).reduce((sum, m) => sum + linear(m), 0) +
    layerNormNames(model).length * model.hiddenSize + // two RMSNorm weights (Gemma: four)
    headNormNames(model).length * model.headDim + // q_norm and k_norm (Qwen3, Gemma 3)
    (model.attentionBias ? moduleShape('q_proj', model).out + 2 * moduleShape('k_proj', model).out : 0);
  const embed = model.vocabSize * model.hiddenSize;
  return embed + model.numLayers * perLayer + model.hiddenSize + (model.tieWordEmbeddings ? 0 : linear('lm_head'));
}
