/**
 * Adapters trained on the cluster come back as PEFT adapters, which the studio imports
 * (src/io/peft). adapter_config.json written here by hand as PEFT's save_pretrained writes it.
 */
import { describe, expect, it } from 'vitest';
import { loraRankAlpha, loraScaling } from '../../src/config/lora-config';
import { modulePath } from '../../src/config/lora-targets';
import { parseRunConfig } from '../../src/config/run-config';
import { parseAdapterConfig } from '../../src/io/peft';
import { loraModules } from '../../src/io/trainers/run-mapping';

/** What TRL's trainer.save_model writes (PEFT 0.15) for run a of tests/trainers/run-configs.test.ts. */
const TRL_RUN_A = `{
  "alpha_pattern": {},
  "auto_mapping": null,
  "base_model_name_or_path": "meta-llama/Llama-3.2-1B-Instruct",
  "bias": "none",
  "corda_config": null,
  "eva_config": null,
  "exclude_modules": null,
  "fan_in_fan_out": false,
  "inference_mode": true,
  "init_lora_weights": true,
  "layer_replication": null,
  "layers_pattern": null,
  "layers_to_transform": null,
  "loftq_config": {},
  "lora_alpha": 32,
  "lora_bias": false,
  "lora_dropout": 0.05,
  "megatron_config": null,
  "megatron_core": "megatron.core",
  "modules_to_save": null,
  "peft_type": "LORA",
  "r": 16,
  "rank_pattern": {},
  "revision": null,
  "target_modules": ["up_proj", "o_proj", "k_proj", "down_proj", "q_proj", "gate_proj", "v_proj"],
  "task_type": "CAUSAL_LM",
  "trainable_token_indices": null,
  "use_dora": false,
  "use_rslora": false
}`;

describe('a cluster-trained adapter imports back', () => {
  it('run a (NF4 + all linear) as TRL/PEFT saves it: r, alpha, dropout and targets match the run', () => {
    const run = parseRunConfig({ rank: 16, alpha: 32, dropout: 0.05, targets: ['query', 'key', 'value', 'projection', 'mlp'], basePrecision: 'nf4', doubleQuant: true });
    const parsed = parseAdapterConfig(TRL_RUN_A);
    expect(parsed.baseModel).toBe('meta-llama/Llama-3.2-1B-Instruct');
    expect(parsed.partial).toBe(false);
    expect(parsed.targetRegex).toBeNull();
    expect(parsed.config).toEqual({
      r: run.rank, alpha: run.alpha, dropout: run.dropout, useRslora: run.useRslora, targetModules: loraModules(run), rankPattern: {}, alphaPattern: {},
    });
  });

  it('a rank pattern (run c) resolves to the same rank and alpha per module as in the studio', () => {
    const run = parseRunConfig({ rank: 8, alpha: 16, useRslora: true, targets: ['query', 'value'], rankPattern: { 'model.layers.0.self_attn.q_proj': 32 }, alphaPattern: { 'model.layers.0.self_attn.q_proj': 64 } });
    const json = JSON.parse(TRL_RUN_A);
    Object.assign(json, { r: 8, lora_alpha: 16, use_rslora: true, target_modules: ['q_proj', 'v_proj'], rank_pattern: run.rankPattern, alpha_pattern: run.alphaPattern });
    const { config } = parseAdapterConfig(JSON.stringify(json));
    const studio = { r: run.rank, alpha: run.alpha, dropout: 0, useRslora: true, targetModules: loraModules(run), rankPattern: run.rankPattern, alphaPattern: run.alphaPattern };
    for (const layer of [0, 1]) {
      for (const m of ['q_proj', 'v_proj'] as const) expect(loraRankAlpha(config, modulePath(m, layer))).toEqual(loraRankAlpha(studio, modulePath(m, layer)));
    }
    expect(loraRankAlpha(config, modulePath('q_proj', 0))).toEqual({ r: 32, alpha: 64 });
  });

  it('torchtune\'s adapter for an rsLoRA run (alpha written as alpha x sqrt(r)) scales the update as the studio does', () => {
    const alpha = 16 * Math.sqrt(8);
    const torchtuneConfig = JSON.stringify({ r: 8, lora_alpha: alpha, target_modules: ['q_proj', 'v_proj', 'gate_proj', 'up_proj', 'down_proj'], peft_type: 'LORA' });
    const { config } = parseAdapterConfig(torchtuneConfig);
    expect(config.useRslora).toBe(false);
    expect(loraScaling(config.r, config.alpha, config.useRslora)).toBeCloseTo(loraScaling(8, 16, true), 12);
  });
});
