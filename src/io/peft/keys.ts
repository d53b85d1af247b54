import { MODULE_NAMES, modulePath, type ModuleName } from '../../config/lora-targets';

/** PEFT saves tensors under the PeftModel's path: `base_model.model.` + the base model's path. */
export const PEFT_PREFIX = 'base_model.model.';

/** `base_model.model.<path>.lora_A.weight` ((r, in)) or `.lora_B.weight` ((out, r)). */
export function loraKey(path: string, which: 'A' | 'B'): string {
  return `${PEFT_PREFIX}${path}.lora_${which}.weight`;
}

/** `base_model.model.<path>.lora_magnitude_vector` ((out)): DoRA's magnitude, saved without `.weight` (PEFT >= 0.10). */
export function magnitudeKey(path: string): string {
  return `${PEFT_PREFIX}${path}.lora_magnitude_vector`;
}

export type AdapterKey =
  | { kind: 'lora'; path: string; which: 'A' | 'B' }
  | { kind: 'magnitude'; path: string }
  | { kind: 'unsupported'; reason: string };

const LORA_KEY = /^base_model\.model\.(.+)\.lora_([AB])\.weight$/;
const MAGNITUDE_KEY = /^base_model\.model\.(.+)\.lora_magnitude_vector$/;

/** Classifies a key of adapter_model.safetensors; the reason says why anything else is refused. */
export function parseAdapterKey(key: string): AdapterKey {
  const m = LORA_KEY.exec(key);
  if (m) return { kind: 'lora', path: m[1], which: m[2] as 'A' | 'B' };
  const mag = MAGNITUDE_KEY.exec(key);
  if (mag) return { kind: 'magnitude', path: mag[1] };
  const reason = (() => {
    if (key.includes('lora_magnitude_vector')) return 'is a DoRA magnitude vector with an adapter name or suffix PEFT does not save; re-save the adapter with save_pretrained';
    if (/\.lora_[AB]\.bias$/.test(key)) return 'is a LoRA bias (lora_bias); LoRA biases are not supported';
    if (key.includes('lora_embedding_')) return 'is a LoRA on an embedding layer, which is not supported';
    if (/\.lora_[AB]\./.test(key)) return 'is a LoRA tensor with an adapter name or suffix PEFT does not save; re-save the adapter with save_pretrained';
    if (!key.startsWith(PEFT_PREFIX)) return `does not start with "${PEFT_PREFIX}"; this is not a PEFT adapter file`;
    if (key.endsWith('.bias')) return 'is a trained bias (bias="all" or "lora_only"), which is not supported';
    return 'is not a LoRA weight (lora_A / lora_B); fully trained modules (modules_to_save) are not supported';
  })();
  return { kind: 'unsupported', reason };
}

export type ModuleLocation = { module: ModuleName; layer: number | null } | { error: string };

/** `model.layers.3.mlp.down_proj` -> down_proj in layer 3; `lm_head` -> lm_head, layer null. */
export function parseModulePath(path: string): ModuleLocation {
  const name = path.slice(path.lastIndexOf('.') + 1);
  if (!(MODULE_NAMES as readonly string[]).includes(name)) {
    return { error: `unknown module "${name}" (supported: ${MODULE_NAMES.join(', ')})` };
  }
  const module = name as ModuleName;
  const m = /^model\.layers\.(0|[1-9]\d*)\./.exec(path);
  const layer = module === 'lm_head' ? null : m ? Number(m[1]) : -1;
  // Round-trip through modulePath so q_proj under mlp, or a stray prefix, is refused.
  if (layer === -1 || modulePath(module, layer ?? 0) !== path) {
    return { error: `module "${name}" at unexpected path "${path}" (expected e.g. "${modulePath(module, 0)}")` };
  }
  return { module, layer };
}
