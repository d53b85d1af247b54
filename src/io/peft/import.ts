import type { ModelConfig } from '../../config/model-config';
import { loraRankAlpha } from '../../config/lora-config';
import { MODULE_NAMES, moduleShape, modulePath, type ModuleName } from '../../config/lora-targets';
import { BadFileError } from '../../core/errors';
import type { ByteSource } from '../safetensors/byte-source';
import type { TensorInfo } from '../safetensors/header';
import { openSafetensors } from '../safetensors/reader';
import { parseAdapterConfig } from './adapter-config';
import { loraKey, magnitudeKey, parseAdapterKey, parseModulePath } from './keys';
import type { LoraTensor, PeftAdapter } from '../../config/adapter';

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/**
 * Read a PEFT LoRA adapter (adapter_model.safetensors + adapter_config.json). Each module's rank
 * and alpha follow rank_pattern / alpha_pattern; shapes are checked against them and, when
 * `model` is given, against the base model's module shapes. Weights come back as f32 whatever
 * float dtype they were saved in. Tensors are ordered by layer (lm_head last), then module.
 */
export async function importPeftAdapter(weights: ByteSource, configJson: string, model?: ModelConfig): Promise<PeftAdapter> {
  const { config, baseModel, targetRegex, partial } = parseAdapterConfig(configJson);
  const file = await openSafetensors(weights);
  const name = weights.describe();
  const bad = (defect: string): BadFileError => new BadFileError(name, defect);

  // Pair up lora_A and lora_B per module path.
  const pairs = new Map<string, { A?: TensorInfo; B?: TensorInfo }>();
  const magnitudes = new Map<string, TensorInfo>(); // DoRA: path -> lora_magnitude_vector
  for (const key of file.names()) {
    const k = parseAdapterKey(key);
    if (k.kind === 'unsupported') throw bad(`tensor "${key}" ${k.reason}`);
    if (k.kind === 'magnitude') {
      if (!config.useDora) throw bad(`tensor "${key}" is a DoRA magnitude vector but adapter_config.json's use_dora is false; set use_dora to true or remove the tensor`);
      magnitudes.set(k.path, file.info(key));
      continue;
    }
    const pair = pairs.get(k.path) ?? {};
    pair[k.which] = file.info(key);
    pairs.set(k.path, pair);
  }
  for (const path of magnitudes.keys()) {
    if (!pairs.has(path)) throw bad(`module "${path}" has a DoRA magnitude vector but no lora_A / lora_B`);
  }
  if (pairs.size === 0) throw bad('holds no LoRA tensors');

  const located: { path: string; module: ModuleName; layer: number | null; A: TensorInfo; B: TensorInfo }[] = [];
  for (const [path, { A, B }] of pairs) {
    // Where the module is comes first: "unknown module" explains more than "missing lora_B".
    const loc = parseModulePath(path);
    if ('error' in loc) throw bad(`tensor "${(A ?? B)!.name}": ${loc.error}`);
    if (targetRegex ? !targetRegex.test(path) : !config.targetModules.includes(loc.module)) {
      throw bad(`module "${path}" has LoRA weights but is not in adapter_config.json's target_modules`);
    }
    if (!A || !B) {
      const [has, lacks] = A ? ['lora_A', 'lora_B'] : ['lora_B', 'lora_A'];
      throw bad(`module "${path}" has ${has} but no ${lacks} (missing tensor "${loraKey(path, A ? 'B' : 'A')}")`);
    }
    if (model && loc.layer !== null && loc.layer >= model.numLayers) {
      throw bad(`module "${path}" is in layer ${loc.layer} but the model has ${model.numLayers} layers`);
    }
    located.push({ path, module: loc.module, layer: loc.layer, A, B });
  }
  if (targetRegex) config.targetModules = MODULE_NAMES.filter((m) => located.some((t) => t.module === m));
  if (model && !targetRegex && !partial) checkComplete(name, config.targetModules, model.numLayers, pairs);

  located.sort((a, b) => (a.layer ?? Infinity) - (b.layer ?? Infinity) || MODULE_NAMES.indexOf(a.module) - MODULE_NAMES.indexOf(b.module));
  const tensors: LoraTensor[] = [];
  for (const t of located) {
    const { r, alpha } = loraRankAlpha(config, t.path);
    const [inFeatures, outFeatures] = checkShapes(name, t, r, model);
    tensors.push({
      path: t.path, module: t.module, layer: t.layer, r, alpha, inFeatures, outFeatures,
      A: await file.readF32(t.A.name),
      B: await file.readF32(t.B.name),
      ...(config.useDora ? { M: await readMagnitude(name, magnitudes.get(t.path), t.path, outFeatures, file.readF32.bind(file)) } : {}),
    });
  }
  return { config, baseModel, tensors };
}

/** DoRA: every adapted module has a float magnitude of shape [out]. */
async function readMagnitude(
  file: string, info: TensorInfo | undefined, path: string, out: number, read: (name: string) => Promise<Float32Array>,
): Promise<Float32Array> {
  if (!info) throw new BadFileError(file, `use_dora is true but module "${path}" has no DoRA magnitude (missing tensor "${magnitudeKey(path)}")`);
  if (!FLOAT_DTYPES.has(info.dtype)) throw new BadFileError(file, `tensor "${info.name}" has dtype ${info.dtype}; a DoRA magnitude must be F32, F16, BF16 or F64`);
  if (info.shape.length !== 1 || info.shape[0] !== out) {
    throw new BadFileError(file, `tensor "${info.name}" has shape [${info.shape}]; the DoRA magnitude of "${path}" must be [${out}] (its out features)`);
  }
  return read(info.name);
}

/** A is (r, in), B is (out, r); with a model, (out, in) must be the module's. Returns [in, out]. */
function checkShapes(
  file: string,
  t: { path: string; module: ModuleName; A: TensorInfo; B: TensorInfo },
  r: number,
  model?: ModelConfig,
): [number, number] {
  for (const x of [t.A, t.B]) {
    if (!FLOAT_DTYPES.has(x.dtype)) throw new BadFileError(file, `tensor "${x.name}" has dtype ${x.dtype}; LoRA weights must be F32, F16, BF16 or F64`);
    if (x.shape.length !== 2) throw new BadFileError(file, `tensor "${x.name}" has shape [${x.shape}]; LoRA weights must be 2-D`);
  }
  const [rA, inF] = t.A.shape;
  const [outF, rB] = t.B.shape;
  const why = `r for "${t.path}" is ${r} (from r / rank_pattern in adapter_config.json)`;
  if (rA !== r) throw new BadFileError(file, `tensor "${t.A.name}" has shape [${t.A.shape}] but ${why}, so lora_A must be [${r}, in]`);
  if (rB !== r) throw new BadFileError(file, `tensor "${t.B.name}" has shape [${t.B.shape}] but ${why}, so lora_B must be [out, ${r}]`);
  if (model) {
    const s = moduleShape(t.module, model);
    if (inF !== s.in || outF !== s.out) {
      throw new BadFileError(
        file,
        `module "${t.path}" has lora_A [${t.A.shape}] and lora_B [${t.B.shape}], which do not fit the model's ` +
          `${t.module} of shape [out=${s.out}, in=${s.in}]; is this adapter for a different base model?`,
      );
    }
  }
  return [inF, outF];
}

/** With a list of target modules, PEFT adapts that module in every layer. */
function checkComplete(file: string, modules: readonly ModuleName[], numLayers: number, pairs: ReadonlyMap<string, unknown>): void {
  for (const m of modules) {
    const paths = m === 'lm_head' ? [modulePath(m, 0)] : Array.from({ length: numLayers }, (_, i) => modulePath(m, i));
    const missing = paths.find((p) => !pairs.has(p));
    if (missing) throw new BadFileError(file, `target module ${m} has no LoRA weights for "${missing}"`);
  }
}
