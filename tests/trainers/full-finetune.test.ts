/**
 * Issue 13 (full finetuning) x issue 14 (scale-out export): a run with `method: "full"` is exported
 * as each trainer spells a full finetune, never as LoRA. Axolotl: no `adapter` and no lora_* keys;
 * TRL: SFTTrainer without peft_config, the model loaded in float32; torchtune: the full recipe with
 * the builder without the lora_ prefix. Every other key is checked against the run config, and no
 * LoRA setting (set here to non-defaults on purpose) reaches any file.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/config/model-config';
import { parseRunConfig } from '../../src/config/run-config';
import { readDataset } from '../../src/data/formats/read';
import { exportForTrainers, prepareExportDataset, TRAINERS } from '../../src/io/trainers';
import { ALPACA_JSONL, COMPLETION_JSONL, exportCase, hasPython, jsonlRows, parseYaml, pyCompile, pyKwargs, type Case } from './helpers';

const python = hasPython();
if (!python) console.warn('SKIPPED: python3 is not installed, so the full-finetuning TRL scripts are not compiled (python3 -m py_compile); their keys are still checked');

/** Run d: full finetuning, AdamW, warmup + cosine to 10 % of the peak, f32; LoRA fields set but unused. */
const D = exportCase({
  method: 'full', basePrecision: 'f32', optimizer: 'adamw', learningRate: 2e-5, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.01,
  schedule: 'warmup-cosine', warmupSteps: 5, minLrRatio: 0.1, epochs: 2, microBatch: 2, gradAccumulation: 4, maxSeqLen: 256, gradClip: 1,
  seed: 7, activationCheckpointing: true, checkpointEverySteps: 10, logEvery: 2, evalEvery: 5,
  rank: 32, alpha: 64, dropout: 0.1, useRslora: true, targets: ['query', 'key', 'value', 'projection', 'mlp', 'head'], rankPattern: { down_proj: 4 }, alphaPattern: { down_proj: 3.5 },
}, 'meta-llama/Llama-3.2-1B-Instruct', COMPLETION_JSONL, 'completion.jsonl', { validationFraction: 0.2 });

/** Run e: full finetuning with SGD on a model folder, whose config.json picks torchtune's generic builder. */
const demoConfig = parseModelConfig(JSON.parse(readFileSync('public/demo/config.json', 'utf8')));
const E = exportCase({
  method: 'full', optimizer: 'sgd', momentum: 0.8, nesterov: false, learningRate: 1e-3, weightDecay: 0, schedule: 'constant', maxSteps: 12, microBatch: 1, seed: 5,
}, 'models/demo', ALPACA_JSONL, 'alpaca.jsonl', {}, { config: demoConfig, isLocalPath: true, weightFiles: ['model.safetensors'] });

const axolotl = (c: Case) => parseYaml(c.exports.axolotl.files['axolotl.yaml']);
const torchtune = (c: Case) => parseYaml(c.exports.torchtune.files['torchtune.yaml']);
const script = (c: Case) => c.exports.trl.files['train_trl.py'];

/** Every key of a parsed YAML document, nested ones as a.b.c. */
function keysOf(v: unknown, prefix = ''): string[] {
  if (!v || typeof v !== 'object') return [];
  if (Array.isArray(v)) return v.flatMap((x) => keysOf(x, prefix));
  return Object.entries(v).flatMap(([k, x]) => [`${prefix}${k}`, ...keysOf(x, `${prefix}${k}.`)]);
}
const LORA_KEY = /(^|\.)(adapter|lora_\w*|peft_\w*|bnb_config_kwargs|quantize_base|use_dora|apply_lora_\w*|save_adapter_weights_only)$/;

describe('every file parses or compiles', () => {
  for (const [name, c] of [['d', D], ['e', E]] as const) {
    it(`run ${name}: the Axolotl YAML and the torchtune YAML parse (YAML 1.1 and 1.2 read them alike)`, () => {
      expect(axolotl(c).base_model).toBeTypeOf('string');
      expect(torchtune(c).model).toBeTypeOf('object');
    });
    it.skipIf(!python)(`run ${name}: the TRL script passes python3 -m py_compile`, () => {
      expect(pyCompile(script(c))).toBe('');
    });
  }
});

describe('run d: full finetuning, AdamW, cosine, f32', () => {
  const { run } = D;

  it('the run is a full finetune, and each export says so first', () => {
    expect(run.method).toBe('full');
    for (const t of TRAINERS) {
      const ex = D.exports[t];
      expect(ex.summary).toMatch(/^Full finetuning of meta-llama\/Llama-3\.2-1B-Instruct: every weight .* trained in float32 with AdamW; no adapter/);
      const main = Object.entries(ex.files).find(([f]) => !f.startsWith('data/'))![1];
      expect(main).toContain(ex.summary);
      expect(main).not.toMatch(/adapter_model\.safetensors|the studio imports it/);
      // No note about a LoRA setting: the studio does not use them in a full run either.
      expect(ex.notes.map((n) => n.field)).not.toEqual(expect.arrayContaining(['alpha', 'alphaPattern.down_proj', 'rankPattern', 'alphaPattern', 'useRslora', 'targets']));
      expect(ex.notes.find((n) => n.field === 'seed')!.text).not.toMatch(/LoRA init/);
    }
  });

  it('Axolotl: no adapter key and no lora_* key, f32, the rest as for LoRA', () => {
    const y = axolotl(D);
    expect(keysOf(y).filter((k) => LORA_KEY.test(k))).toEqual([]);
    expect(y).toMatchObject({
      base_model: 'meta-llama/Llama-3.2-1B-Instruct', seed: run.seed, data_seed: run.seed,
      load_in_4bit: false, load_in_8bit: false, bf16: false, fp16: false, tf32: false,
      micro_batch_size: run.microBatch, gradient_accumulation_steps: run.gradAccumulation, num_epochs: run.epochs, sequence_len: run.maxSeqLen,
      optimizer: 'adamw_torch', adam_beta1: run.betas[0], adam_beta2: run.betas[1], adam_epsilon: run.eps, weight_decay: run.weightDecay,
      learning_rate: run.learningRate, lr_scheduler: 'cosine', cosine_min_lr_ratio: run.minLrRatio, warmup_steps: run.warmupSteps,
      max_grad_norm: run.gradClip, gradient_checkpointing: true, logging_steps: run.logEvery, eval_steps: run.evalEvery, save_steps: run.checkpointEverySteps,
      train_on_inputs: false, output_dir: './outputs/case',
      datasets: [{ path: 'data/train.jsonl', ds_type: 'json' }], test_datasets: [{ path: 'data/validation.jsonl', split: 'train' }],
    });
    expect(y).not.toHaveProperty('max_steps');
    expect(D.exports.axolotl.notes.map((n) => n.field)).toContain('weightDecay'); // transformers skips biases and norms
    const rows = jsonlRows(D.exports.axolotl.files['data/train.jsonl']).length + jsonlRows(D.exports.axolotl.files['data/validation.jsonl']).length;
    expect(rows).toBe(10);
  });

  it('TRL: SFTTrainer without peft_config, the model in float32, the rest as for LoRA', () => {
    const s = script(D);
    for (const lora of ['LoraConfig', 'peft_config', 'from peft', 'get_peft_model', 'BitsAndBytesConfig', 'quantization_config']) expect(s).not.toContain(lora);
    expect(s).toContain('model = AutoModelForCausalLM.from_pretrained(BASE_MODEL, dtype=torch.float32)');
    expect(s).toContain('BASE_MODEL = "meta-llama/Llama-3.2-1B-Instruct"');
    expect(pyKwargs(s, 'SFTTrainer')).toEqual({
      model: { code: 'model' }, args: { code: 'args' }, train_dataset: { code: 'dataset["train"]' }, eval_dataset: { code: 'dataset["validation"]' }, processing_class: { code: 'tokenizer' },
    });
    expect(pyKwargs(s, 'SFTConfig')).toEqual({
      output_dir: { code: 'str(HERE / "outputs")' }, seed: run.seed, data_seed: run.seed,
      per_device_train_batch_size: run.microBatch, gradient_accumulation_steps: run.gradAccumulation, num_train_epochs: run.epochs,
      learning_rate: run.learningRate, lr_scheduler_type: 'cosine_with_min_lr', lr_scheduler_kwargs: { min_lr_rate: run.minLrRatio }, warmup_steps: run.warmupSteps,
      optim: 'adamw_torch', adam_beta1: run.betas[0], adam_beta2: run.betas[1], adam_epsilon: run.eps, weight_decay: run.weightDecay, max_grad_norm: run.gradClip,
      max_length: run.maxSeqLen, packing: false, completion_only_loss: true, bf16: false, fp16: false, gradient_checkpointing: true, logging_steps: run.logEvery,
      eval_strategy: 'steps', eval_steps: run.evalEvery, save_strategy: 'steps', save_steps: run.checkpointEverySteps, report_to: 'none',
    });
    expect(D.exports.trl.notes.map((n) => n.field)).toContain('weightDecay');
    expect(s).toMatch(/^# pip install "trl>=0\.20" "transformers>=4\.56" datasets accelerate$/m);
  });

  it('torchtune: the full recipe and the builder without lora_, no LoRA key', () => {
    const y = torchtune(D);
    expect(keysOf(y).filter((k) => LORA_KEY.test(k))).toEqual([]);
    expect(y.model).toEqual({ _component_: 'torchtune.models.llama3_2.llama3_2_1b' });
    expect(y).toMatchObject({
      output_dir: '/tmp/torchtune/case', seed: run.seed, batch_size: run.microBatch, gradient_accumulation_steps: run.gradAccumulation, epochs: 2, max_steps_per_epoch: null,
      clip_grad_norm: run.gradClip, dtype: 'fp32', enable_activation_checkpointing: true, optimizer_in_bwd: false, log_every_n_steps: run.logEvery,
      save_every_n_steps: run.checkpointEverySteps, run_val_every_n_steps: run.evalEvery,
      tokenizer: { _component_: 'torchtune.models.llama3.llama3_tokenizer', max_seq_len: run.maxSeqLen },
      checkpointer: { _component_: 'torchtune.training.FullModelHFCheckpointer', model_type: 'LLAMA3_2', checkpoint_files: ['model.safetensors'] },
      optimizer: { _component_: 'torch.optim.AdamW', lr: run.learningRate, betas: [...run.betas], eps: run.eps, weight_decay: run.weightDecay },
      lr_scheduler: { _component_: 'transformers.get_cosine_with_min_lr_schedule_with_warmup', num_warmup_steps: run.warmupSteps, min_lr_rate: run.minLrRatio },
      dataset: { _component_: 'torchtune.datasets.instruct_dataset', data_files: 'data/train.jsonl', train_on_input: false },
      dataset_val: { data_files: 'data/validation.jsonl' },
    });
    expect(D.exports.torchtune.launch).toBe('tune run --nproc_per_node <GPUs> full_finetune_distributed --config torchtune.yaml');
    expect(D.exports.torchtune.files['torchtune.yaml']).toContain('tune run full_finetune_single_device --config torchtune.yaml');
    // torch.optim.AdamW over model.parameters() decays every weight, as the studio does: no note.
    expect(D.exports.torchtune.notes.map((n) => n.field)).not.toContain('weightDecay');
  });
});

describe('run e: full finetuning with SGD on a model folder', () => {
  it('Axolotl: SGD with its momentum, no LoRA key', () => {
    const y = axolotl(E);
    expect(keysOf(y).filter((k) => LORA_KEY.test(k))).toEqual([]);
    expect(y).toMatchObject({ base_model: 'models/demo', optimizer: 'sgd', optim_args: { momentum: 0.8, nesterov: false }, max_steps: 12, lr_scheduler: 'constant', weight_decay: 0 });
    expect(E.exports.axolotl.notes.map((n) => n.field)).not.toContain('weightDecay'); // no decay: nothing differs
  });
  it('TRL: SGD through optimizer_cls_and_kwargs, no peft_config', () => {
    const s = script(E);
    expect(s).not.toContain('peft_config');
    expect(s).toContain('optimizer_cls_and_kwargs=(torch.optim.SGD, {"lr": 0.001, "momentum": 0.8, "nesterov": False}),');
    expect(E.exports.trl.summary).toMatch(/trained in float32 with SGD/);
  });
  it('torchtune: the generic Llama builder without LoRA, with the architecture from config.json', () => {
    const y = torchtune(E);
    expect(keysOf(y).filter((k) => LORA_KEY.test(k))).toEqual([]);
    expect(y.model).toMatchObject({ _component_: 'torchtune.models.llama3.llama3', num_layers: demoConfig.numLayers, embed_dim: demoConfig.hiddenSize, vocab_size: demoConfig.vocabSize });
    expect(y).toMatchObject({ optimizer: { _component_: 'torch.optim.SGD', lr: 1e-3, momentum: 0.8, nesterov: false }, checkpointer: { checkpoint_dir: 'models/demo' }, dtype: 'fp32' });
  });
});

describe('LoRA runs are unchanged by the method', () => {
  it('a LoRA run still says LoRA and keeps its adapter keys', () => {
    const c = exportCase({ rank: 4, alpha: 8, targets: ['query', 'value'] }, 'meta-llama/Llama-3.2-1B-Instruct', ALPACA_JSONL, 'alpaca.jsonl');
    for (const t of TRAINERS) expect(c.exports[t].summary).toMatch(/^LoRA finetuning of .*rank 4, alpha 8 on q_proj, v_proj/);
    expect(axolotl(c)).toMatchObject({ adapter: 'lora', lora_r: 4 });
    expect(script(c)).toContain('peft_config=peft_config,');
    expect(torchtune(c).model).toMatchObject({ _component_: 'torchtune.models.llama3_2.lora_llama3_2_1b', lora_rank: 4 });
    expect(c.exports.torchtune.launch).toContain('lora_finetune_distributed');
  });
});

describe('a full run on a quantized base cannot be exported', () => {
  it('each writer refuses it with the fix in the message (run-config refuses it too; a stored config is not trusted)', () => {
    const run = { ...parseRunConfig({ method: 'full' }), basePrecision: 'nf4' as const };
    const data = prepareExportDataset(readDataset(ALPACA_JSONL, 'a.jsonl'), { seed: 1 });
    for (const t of TRAINERS) {
      expect(() => exportForTrainers({ run, baseModel: 'org/model', model: {}, data }, [t])).toThrow(/full finetuning trains the base weights in f32: set basePrecision to f32 \(now nf4\)/);
    }
  });
});
