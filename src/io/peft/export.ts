import { loraRankAlpha } from '../../config/lora-config';
import { MODULE_NAMES, modulePath } from '../../config/lora-targets';
import { writeSafetensors, type TensorToWrite } from '../safetensors/writer';
import { serializeAdapterConfig } from './adapter-config';
import { loraKey, magnitudeKey } from './keys';
import type { LoraTensor, PeftAdapter } from '../../config/adapter';

/**
 * adapter_model.safetensors (F32, metadata {"format":"pt"}, only lora_A (r, in) and lora_B
 * (out, r) tensors) and adapter_config.json, as PEFT's save_pretrained writes them, so PEFT, vLLM
 * and llama.cpp's converter load the result. Throws when a tensor disagrees with the config
 * (PEFT would rebuild the wrong shapes from it).
 */
export function exportPeftAdapter(a: PeftAdapter): { weights: Uint8Array; configJson: string } {
  const seen = new Set<string>();
  for (const t of a.tensors) {
    checkTensor(a, t);
    if (seen.has(t.path)) throw new Error(`exportPeftAdapter: module "${t.path}" appears twice`);
    seen.add(t.path);
  }
  // Layer by layer, lm_head last, modules in their usual order: what PEFT's state dict gives.
  const ordered = [...a.tensors].sort(
    (x, y) => (x.layer ?? Infinity) - (y.layer ?? Infinity) || MODULE_NAMES.indexOf(x.module) - MODULE_NAMES.indexOf(y.module),
  );
  const out: TensorToWrite[] = ordered.flatMap((t) => [
    { name: loraKey(t.path, 'A'), dtype: 'F32', shape: [t.r, t.inFeatures], data: t.A },
    { name: loraKey(t.path, 'B'), dtype: 'F32', shape: [t.outFeatures, t.r], data: t.B },
    ...(t.M ? [{ name: magnitudeKey(t.path), dtype: 'F32' as const, shape: [t.outFeatures], data: t.M }] : []),
  ]);
  return {
    weights: writeSafetensors(out, { format: 'pt' }),
    configJson: serializeAdapterConfig(a.config, a.baseModel),
  };
}

function checkTensor(a: PeftAdapter, t: LoraTensor): void {
  const what = `exportPeftAdapter: module "${t.path}"`;
  if (!MODULE_NAMES.includes(t.module)) throw new Error(`${what}: unknown module ${t.module}`);
  if ((t.layer === null) !== (t.module === 'lm_head') || modulePath(t.module, t.layer ?? 0) !== t.path) {
    throw new Error(`${what}: path does not match module ${t.module} in layer ${t.layer}`);
  }
  if (!a.config.targetModules.includes(t.module)) throw new Error(`${what}: ${t.module} is not in config.targetModules`);
  const { r, alpha } = loraRankAlpha(a.config, t.path);
  if (t.r !== r || t.alpha !== alpha) {
    throw new Error(`${what}: r=${t.r}, alpha=${t.alpha} but the config gives r=${r}, alpha=${alpha}; set rank_pattern / alpha_pattern`);
  }
  if (t.A.length !== t.r * t.inFeatures) throw new Error(`${what}: A has ${t.A.length} values, expected r*in = ${t.r}*${t.inFeatures}`);
  if (t.B.length !== t.outFeatures * t.r) throw new Error(`${what}: B has ${t.B.length} values, expected out*r = ${t.outFeatures}*${t.r}`);
  if (!!a.config.useDora !== !!t.M) throw new Error(`${what}: ${t.M ? 'has a DoRA magnitude but config.useDora is off' : 'config.useDora is on but the module has no magnitude'}`);
  if (t.M && t.M.length !== t.outFeatures) throw new Error(`${what}: the DoRA magnitude has ${t.M.length} values, expected out = ${t.outFeatures}`);
}
