import { describe, expect, it } from 'vitest';
import { parseModelConfig, type ModelConfig } from '../../src/config/model-config';
import { loraRankAlpha, type LoraConfig } from '../../src/config/lora-config';
import { MODULE_NAMES, moduleShape, modulePath, type ModuleName } from '../../src/config/lora-targets';
import { BadFileError } from '../../src/core/errors';
import { exportPeftAdapter } from '../../src/io/peft/export';
import { importPeftAdapter } from '../../src/io/peft/import';
import type { LoraTensor, PeftAdapter } from '../../src/config/adapter';
import { bytesSource } from '../../src/io/safetensors/byte-source';
import { openSafetensors } from '../../src/io/safetensors/reader';
import { writeSafetensors, type TensorToWrite } from '../../src/io/safetensors/writer';
import { goldenBytes, randomF32 } from './helpers';
import modelJson from '../fixtures/golden/llama-tiny/config.json';

const MODEL: ModelConfig = parseModelConfig(modelJson);
const GOLDEN_WEIGHTS = goldenBytes('llama-tiny/adapter_model.safetensors');
const GOLDEN_CONFIG = new TextDecoder().decode(goldenBytes('llama-tiny/adapter_config.json'));
const ALL: ModuleName[] = [...MODULE_NAMES];

const importGolden = (model: ModelConfig | undefined = MODEL): Promise<PeftAdapter> =>
  importPeftAdapter(bytesSource(GOLDEN_WEIGHTS, 'adapter_model.safetensors'), GOLDEN_CONFIG, model);

/** A synthetic adapter for the tiny model whose shapes follow `config` (patterns included). */
function makeAdapter(config: LoraConfig, seed = 1): PeftAdapter {
  const tensors: LoraTensor[] = [];
  for (let layer = 0; layer < MODEL.numLayers; layer++) {
    for (const module of config.targetModules) {
      if (module === 'lm_head') continue;
      tensors.push(makeTensor(config, module, layer, seed + tensors.length));
    }
  }
  if (config.targetModules.includes('lm_head')) tensors.push(makeTensor(config, 'lm_head', null, seed + 99));
  return { config, baseModel: 'tiny', tensors };
}

function makeTensor(config: LoraConfig, module: ModuleName, layer: number | null, seed: number): LoraTensor {
  const path = modulePath(module, layer ?? 0);
  const { r, alpha } = loraRankAlpha(config, path);
  const s = moduleShape(module, MODEL);
  return { path, module, layer, r, alpha, inFeatures: s.in, outFeatures: s.out, A: randomF32(r * s.in, seed), B: randomF32(s.out * r, seed + 1000) };
}

const baseConfig = (over: Partial<LoraConfig> = {}): LoraConfig => ({
  r: 4, alpha: 8, dropout: 0, useRslora: false, targetModules: ['q_proj', 'v_proj'], rankPattern: {}, alphaPattern: {}, ...over,
});

async function rejects(p: Promise<unknown>): Promise<BadFileError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(BadFileError);
  return e as BadFileError;
}

describe('PEFT import of the golden adapter', () => {
  it('finds every module with r, alpha and shapes from config.json', async () => {
    const a = await importGolden();
    expect(a.baseModel).toBe('golden-llama');
    expect(a.config).toEqual({ r: 4, alpha: 8, dropout: 0, useRslora: false, targetModules: ALL, rankPattern: {}, alphaPattern: {} });
    expect(a.tensors.length).toBe(MODEL.numLayers * 7 + 1);
    for (const t of a.tensors) {
      const s = moduleShape(t.module, MODEL);
      expect(t.path).toBe(modulePath(t.module, t.layer ?? 0));
      expect([t.r, t.alpha, t.inFeatures, t.outFeatures]).toEqual([4, 8, s.in, s.out]);
      expect(t.A.length).toBe(4 * s.in);
      expect(t.B.length).toBe(s.out * 4);
    }
    expect(a.tensors.at(-1)!.module).toBe('lm_head');
    expect(a.tensors.at(-1)!.layer).toBeNull();
    // B is non-zero in the golden case.
    expect(a.tensors.every((t) => t.B.some((x) => x !== 0))).toBe(true);
  });

  it('works without a model config too', async () => {
    expect((await importGolden(undefined)).tensors.length).toBe(15);
  });

  it('exports back bit-exactly: same keys, same bytes, same config fields', async () => {
    const { weights, configJson } = exportPeftAdapter(await importGolden());
    const golden = await openSafetensors(bytesSource(GOLDEN_WEIGHTS));
    const ours = await openSafetensors(bytesSource(weights));
    expect(new Set(ours.names())).toEqual(new Set(golden.names()));
    expect(ours.metadata).toEqual({ format: 'pt' });
    for (const n of golden.names()) {
      expect(ours.info(n).dtype).toBe('F32');
      expect(ours.info(n).shape).toEqual(golden.info(n).shape);
      expect(await ours.readRaw(n)).toEqual(await golden.readRaw(n));
    }
    // Same order and the same compact header as PEFT's writer: the whole file is identical.
    expect(weights).toEqual(GOLDEN_WEIGHTS);

    const goldenCfg = JSON.parse(GOLDEN_CONFIG) as Record<string, unknown>;
    const ourCfg = JSON.parse(configJson) as Record<string, unknown>;
    for (const [k, v] of Object.entries(goldenCfg)) expect([k, ourCfg[k]]).toEqual([k, v]);
    expect(ourCfg).toMatchObject({
      inference_mode: true, rank_pattern: {}, alpha_pattern: {}, modules_to_save: null, layers_to_transform: null,
      layers_pattern: null, init_lora_weights: true, revision: null, use_dora: false, lora_bias: false,
    });
    expect(Object.keys(ourCfg)).toEqual(Object.keys(ourCfg).sort()); // PEFT writes sorted keys
  });
});

describe('PEFT rank_pattern / alpha_pattern', () => {
  const config = baseConfig({
    targetModules: ['q_proj', 'v_proj', 'down_proj', 'lm_head'],
    rankPattern: { q_proj: 8 },
    alphaPattern: { 'model.layers.1.mlp.down_proj': 2 },
  });

  it('round-trips and is honoured on import', async () => {
    const a = makeAdapter(config);
    const { weights, configJson } = exportPeftAdapter(a);
    const cfg = JSON.parse(configJson) as Record<string, unknown>;
    expect(cfg.rank_pattern).toEqual({ q_proj: 8 });
    expect(cfg.alpha_pattern).toEqual({ 'model.layers.1.mlp.down_proj': 2 });
    expect(cfg.target_modules).toEqual(['down_proj', 'lm_head', 'q_proj', 'v_proj']);

    const st = await openSafetensors(bytesSource(weights));
    expect(st.info('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight').shape).toEqual([8, 32]);
    expect(st.info('base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight').shape).toEqual([32, 8]);
    expect(st.info('base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight').shape).toEqual([4, 32]);

    const b = await importPeftAdapter(bytesSource(weights), configJson, MODEL);
    expect(b.config).toEqual(config);
    expect(b.baseModel).toBe('tiny');
    const rOf = (p: string): [number, number] => {
      const t = b.tensors.find((x) => x.path === p)!;
      return [t.r, t.alpha];
    };
    expect(rOf('model.layers.0.self_attn.q_proj')).toEqual([8, 8]);
    expect(rOf('model.layers.1.self_attn.q_proj')).toEqual([8, 8]);
    expect(rOf('model.layers.0.self_attn.v_proj')).toEqual([4, 8]);
    expect(rOf('model.layers.0.mlp.down_proj')).toEqual([4, 8]);
    expect(rOf('model.layers.1.mlp.down_proj')).toEqual([4, 2]);
    expect(rOf('lm_head')).toEqual([4, 8]);
    expect(b.tensors).toEqual(a.tensors);
  });

  it('export refuses a tensor that disagrees with the patterns', () => {
    const a = makeAdapter(config);
    a.tensors[0] = { ...a.tensors[0], r: 4, A: new Float32Array(4 * 32), B: new Float32Array(32 * 4) };
    expect(() => exportPeftAdapter(a)).toThrow(/r=4, alpha=8 but the config gives r=8/);
    const b = makeAdapter(baseConfig());
    b.tensors[1] = { ...b.tensors[1], A: new Float32Array(3) };
    expect(() => exportPeftAdapter(b)).toThrow(/A has 3 values, expected r\*in/);
    const c = makeAdapter(baseConfig());
    c.tensors.push(c.tensors[0]);
    expect(() => exportPeftAdapter(c)).toThrow(/appears twice/);
  });

  it('imports rsLoRA, dropout and F16/BF16 weights (converted to f32)', async () => {
    const a = makeAdapter(baseConfig({ useRslora: true, dropout: 0.05 }));
    const { configJson } = exportPeftAdapter(a);
    // Re-save as BF16, as adapters trained in bf16 often are.
    const bf16 = (x: Float32Array): Uint16Array => new Uint16Array(new Uint32Array(x.buffer).map((u) => u >>> 16));
    const tensors: TensorToWrite[] = a.tensors.flatMap((t) => [
      { name: `base_model.model.${t.path}.lora_A.weight`, dtype: 'BF16' as const, shape: [t.r, t.inFeatures], data: bf16(t.A) },
      { name: `base_model.model.${t.path}.lora_B.weight`, dtype: 'BF16' as const, shape: [t.outFeatures, t.r], data: bf16(t.B) },
    ]);
    const b = await importPeftAdapter(bytesSource(writeSafetensors(tensors)), configJson, MODEL);
    expect(b.config.useRslora).toBe(true);
    expect(b.config.dropout).toBe(0.05);
    expect(b.tensors[0].A[0]).toBe(new Float32Array(new Uint32Array([new Uint32Array(a.tensors[0].A.buffer)[0] & 0xffff0000]).buffer)[0]);
  });

  it('accepts target_modules given as a regex string or "all-linear"', async () => {
    const a = makeAdapter(baseConfig({ targetModules: ['q_proj', 'k_proj'] }));
    const { weights, configJson } = exportPeftAdapter(a);
    const withTarget = (t: unknown): string => JSON.stringify({ ...JSON.parse(configJson), target_modules: t });
    const b = await importPeftAdapter(bytesSource(weights), withTarget('.*\\.(q_proj|k_proj)'), MODEL);
    expect(b.config.targetModules).toEqual(['q_proj', 'k_proj']);
    const c = await importPeftAdapter(bytesSource(weights), withTarget('all-linear'), MODEL);
    expect(c.config.targetModules).toEqual(['q_proj', 'k_proj']);
    const e = await rejects(importPeftAdapter(bytesSource(weights), withTarget('.*\\.q_proj'), MODEL));
    expect(e.message).toMatch(/model\.layers\.0\.self_attn\.k_proj" has LoRA weights but is not in adapter_config\.json's target_modules/);
    const d = await importPeftAdapter(bytesSource(weights), withTarget(['self_attn.q_proj', 'k_proj']), MODEL);
    expect(d.config.targetModules).toEqual(['q_proj', 'k_proj']);
  });
});

describe('malformed PEFT adapters', () => {
  const good = makeAdapter(baseConfig());
  const { weights, configJson } = exportPeftAdapter(good);
  const cfg = (over: Record<string, unknown>): string => JSON.stringify({ ...JSON.parse(configJson), ...over });
  /** The good adapter's tensors, edited. */
  const tensorsWith = (edit: (ts: TensorToWrite[]) => TensorToWrite[]): Uint8Array => {
    const ts: TensorToWrite[] = good.tensors.flatMap((t) => [
      { name: `base_model.model.${t.path}.lora_A.weight`, dtype: 'F32' as const, shape: [t.r, t.inFeatures], data: t.A },
      { name: `base_model.model.${t.path}.lora_B.weight`, dtype: 'F32' as const, shape: [t.outFeatures, t.r], data: t.B },
    ]);
    return writeSafetensors(edit(ts), { format: 'pt' });
  };
  const imp = (w: Uint8Array, c = configJson, model: ModelConfig | undefined = MODEL): Promise<BadFileError> =>
    rejects(importPeftAdapter(bytesSource(w, 'adapter_model.safetensors'), c, model));
  const extra = (name: string, shape: number[]): ((ts: TensorToWrite[]) => TensorToWrite[]) => (ts) => [
    ...ts,
    { name, dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) },
  ];

  const configCases: [string, string, RegExp][] = [
    ['bad JSON', '{"peft_type": "LORA",', /adapter_config\.json: is not valid JSON/],
    ['not an object', '[1]', /adapter_config\.json: is not a JSON object/],
    ['other peft_type', cfg({ peft_type: 'PREFIX_TUNING' }), /peft_type is "PREFIX_TUNING"; only LoRA adapters/],
    ['missing peft_type', JSON.stringify({ r: 4 }), /peft_type is undefined/],
    ['bad r', cfg({ r: 0 }), /field "r": /],
    ['missing target_modules', cfg({ target_modules: undefined }), /field "target_modules"/],
    ['fan_in_fan_out', cfg({ fan_in_fan_out: true }), /fan_in_fan_out is true/],
    ['lora_bias', cfg({ lora_bias: true }), /lora_bias is true/],
    ['bias all', cfg({ bias: 'all' }), /bias is "all"; only bias "none"/],
    ['modules_to_save', cfg({ modules_to_save: ['score'] }), /modules_to_save \(score\) is not supported/],
    ['task type', cfg({ task_type: 'SEQ_CLS' }), /task_type "SEQ_CLS" is not supported/],
    ['unknown target module', cfg({ target_modules: ['q_proj', 'qkv_proj'] }), /target_modules contains unknown module "qkv_proj"/],
    ['bad regex', cfg({ target_modules: '(' }), /target_modules regex "\(" is not a valid regular expression/],
  ];
  for (const [what, c, re] of configCases) {
    it(`config: ${what}`, async () => {
      const e = await imp(weights, c);
      expect(e.file).toBe('adapter_config.json');
      expect(e.message).toMatch(re);
    });
  }

  const A0 = 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight';
  const B0 = 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight';
  const weightCases: [string, Uint8Array, RegExp, ModelConfig?][] = [
    ['missing B', tensorsWith((ts) => ts.filter((t) => t.name !== B0)), /"model\.layers\.0\.self_attn\.q_proj" has lora_A but no lora_B \(missing tensor "base_model.*q_proj\.lora_B\.weight"\)/],
    ['missing A', tensorsWith((ts) => ts.filter((t) => t.name !== A0)), /has lora_B but no lora_A/],
    ['A of the wrong rank', tensorsWith((ts) => ts.map((t) => (t.name === A0 ? { ...t, shape: [2, 64] } : t))), /has shape \[2,64\] but r for "model\.layers\.0\.self_attn\.q_proj" is 4 .* lora_A must be \[4, in\]/],
    ['B of the wrong rank', tensorsWith((ts) => ts.map((t) => (t.name === B0 ? { ...t, shape: [16, 8] } : t))), /lora_B must be \[out, 4\]/],
    ['shape not the model\'s', tensorsWith((ts) => ts.map((t) => (t.name === B0 ? { ...t, shape: [16, 4], data: new Float32Array(64) } : t))), /do not fit the model's q_proj of shape \[out=32, in=32\]; is this adapter for a different base model/],
    ['3-D tensor', tensorsWith((ts) => ts.map((t) => (t.name === A0 ? { ...t, shape: [4, 4, 8] } : t))), /shape \[4,4,8\]; LoRA weights must be 2-D/],
    ['integer dtype', tensorsWith((ts) => ts.map((t) => (t.name === A0 ? { ...t, dtype: 'I32' } : t))), /has dtype I32; LoRA weights must be F32/],
    ['unknown module', tensorsWith(extra('base_model.model.model.layers.0.self_attn.rotary_proj.lora_A.weight', [4, 32])), /unknown module "rotary_proj"/],
    ['module in the wrong place', tensorsWith(extra('base_model.model.model.layers.0.mlp.q_proj.lora_A.weight', [4, 32])), /module "q_proj" at unexpected path "model\.layers\.0\.mlp\.q_proj"/],
    ['DoRA magnitude without use_dora', tensorsWith(extra('base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector', [32])), /is a DoRA magnitude vector but adapter_config\.json's use_dora is false/],
    ['LoRA bias', tensorsWith(extra('base_model.model.model.layers.0.self_attn.q_proj.lora_B.bias', [32])), /LoRA bias \(lora_bias\)/],
    ['base bias', tensorsWith(extra('base_model.model.model.layers.0.self_attn.q_proj.bias', [32])), /trained bias/],
    ['full module', tensorsWith(extra('base_model.model.lm_head.weight', [96, 32])), /modules_to_save\) are not supported/],
    ['embedding LoRA', tensorsWith(extra('base_model.model.model.embed_tokens.lora_embedding_A', [4, 96])), /LoRA on an embedding layer/],
    ['not PEFT keys', tensorsWith(extra('model.layers.0.self_attn.q_proj.weight', [32, 32])), /does not start with "base_model\.model\."/],
    ['module not targeted', tensorsWith(extra('base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight', [4, 32])), /k_proj" has LoRA weights but is not in adapter_config\.json's target_modules/],
    ['a layer missing', tensorsWith((ts) => ts.filter((t) => !t.name.includes('layers.1.self_attn.v_proj'))), /target module v_proj has no LoRA weights for "model\.layers\.1\.self_attn\.v_proj"/],
    ['layer beyond the model', tensorsWith((ts) => ts.map((t) => ({ ...t, name: t.name.replace('layers.1.', 'layers.5.') }))), /is in layer 5 but the model has 2 layers/],
    ['no tensors', writeSafetensors([], { format: 'pt' }), /holds no LoRA tensors/],
    ['not safetensors', new TextEncoder().encode('<html>404</html>'), /header length .* runs past the end of the file/],
  ];
  for (const [what, w, re] of weightCases) {
    it(`weights: ${what}`, async () => {
      const e = await imp(w);
      expect(e.file).toBe('adapter_model.safetensors');
      expect(e.message).toMatch(re);
    });
  }

  it('a missing layer is fine without a model config or with layers_to_transform', async () => {
    const w = tensorsWith((ts) => ts.filter((t) => !t.name.includes('layers.1.')));
    expect((await importPeftAdapter(bytesSource(w), configJson)).tensors.length).toBe(2);
    expect((await importPeftAdapter(bytesSource(w), cfg({ layers_to_transform: [0] }), MODEL)).tensors.length).toBe(2);
  });
});
