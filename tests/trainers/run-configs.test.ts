/**
 * Issue 14, scale-out export: for three runs the Axolotl YAML and the torchtune YAML parse, the
 * TRL script compiles, and every key is checked against the run config it came from:
 * (a) NF4 + all linear layers + cosine with warmup, (b) 16-bit + q,v + SGD with momentum,
 * (c) a per-layer rank pattern (with rsLoRA, int8, linear decay and a validation split).
 */
import { describe, expect, it } from 'vitest';
import { CHATML_JINJA } from '../../src/io/trainers';
import { ALPACA_JSONL, CHAT_JSONL, COMPLETION_JSONL, exportCase, hasPython, jsonlRows, parseYaml, pyCompile, pyKwargs, type Case } from './helpers';

const ALL_LINEAR = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const python = hasPython();
if (!python) console.warn('SKIPPED: python3 is not installed, so the TRL scripts are not compiled (python3 -m py_compile); their keys are still checked');

const A = exportCase({
  rank: 16, alpha: 32, dropout: 0.05, targets: ['query', 'key', 'value', 'projection', 'mlp'], basePrecision: 'nf4', doubleQuant: true,
  optimizer: 'adamw', learningRate: 2e-4, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.01, schedule: 'warmup-cosine', warmupSteps: 10,
  epochs: 2, microBatch: 2, gradAccumulation: 4, maxSeqLen: 512, gradClip: 1, seed: 1234, activationCheckpointing: true, checkpointEverySteps: 20, logEvery: 5,
}, 'meta-llama/Llama-3.2-1B-Instruct', ALPACA_JSONL, 'alpaca.jsonl');

const B = exportCase({
  rank: 8, alpha: 16, targets: ['query', 'value'], basePrecision: 'f16', optimizer: 'sgd', momentum: 0.9, nesterov: true, learningRate: 0.05,
  schedule: 'constant', maxSteps: 50, microBatch: 1, gradAccumulation: 8, maxSeqLen: 256, gradClip: 0, seed: 3, checkpointEverySteps: 0,
}, 'Qwen/Qwen2.5-0.5B-Instruct', CHAT_JSONL, 'chat.jsonl', { template: 'chatml', mask: false });

const RANK_PATTERN = { 'model.layers.0.self_attn.q_proj': 32, down_proj: 4 };
const ALPHA_PATTERN = { 'model.layers.0.self_attn.q_proj': 64 };
const C = exportCase({
  rank: 8, alpha: 16, useRslora: true, targets: ['query', 'value', 'mlp', 'head'], rankPattern: RANK_PATTERN, alphaPattern: ALPHA_PATTERN,
  basePrecision: 'int8', schedule: 'linear', warmupSteps: 5, epochs: 1.5, microBatch: 4, gradAccumulation: 2, maxSeqLen: 1024, seed: 99, evalEvery: 10,
}, 'meta-llama/Llama-2-7b-hf', COMPLETION_JSONL, 'completion.jsonl', { validationFraction: 0.2 });

const axolotl = (c: Case) => parseYaml(c.exports.axolotl.files['axolotl.yaml']);
const torchtune = (c: Case) => parseYaml(c.exports.torchtune.files['torchtune.yaml']);
const script = (c: Case) => c.exports.trl.files['train_trl.py'];
const noteFields = (c: Case, t: keyof Case['exports']) => c.exports[t].notes.map((n) => n.field);

describe('every file parses or compiles', () => {
  for (const [name, c] of [['a', A], ['b', B], ['c', C]] as const) {
    it(`run ${name}: the Axolotl YAML and the torchtune YAML parse (YAML 1.1 and 1.2 read them alike)`, () => {
      expect(axolotl(c).base_model).toBeTypeOf('string');
      expect(torchtune(c).model).toBeTypeOf('object');
    });
    it.skipIf(!python)(`run ${name}: the TRL script passes python3 -m py_compile`, () => {
      expect(pyCompile(script(c))).toBe('');
    });
  }
});

describe('run a: NF4 + all linear layers + cosine with warmup', () => {
  const { run } = A;
  it('Axolotl', () => {
    const y = axolotl(A);
    expect(y).toMatchObject({
      base_model: 'meta-llama/Llama-3.2-1B-Instruct', seed: run.seed, load_in_4bit: true, load_in_8bit: false, adapter: 'qlora',
      bnb_config_kwargs: { bnb_4bit_quant_type: 'nf4', bnb_4bit_use_double_quant: true }, bf16: true, fp16: false,
      lora_r: run.rank, lora_alpha: run.alpha, lora_dropout: run.dropout, lora_target_modules: ALL_LINEAR, peft_use_rslora: false,
      micro_batch_size: run.microBatch, gradient_accumulation_steps: run.gradAccumulation, num_epochs: run.epochs, sequence_len: run.maxSeqLen,
      optimizer: 'adamw_torch', adam_beta1: 0.9, adam_beta2: 0.95, adam_epsilon: run.eps, weight_decay: run.weightDecay, learning_rate: run.learningRate,
      lr_scheduler: 'cosine', warmup_steps: run.warmupSteps, max_grad_norm: run.gradClip, train_on_inputs: false, gradient_checkpointing: true,
      logging_steps: run.logEvery, save_steps: run.checkpointEverySteps, datasets: [{ path: 'data/train.jsonl', type: 'alpaca' }],
    });
    for (const k of ['max_steps', 'lora_rank_pattern', 'cosine_min_lr_ratio', 'test_datasets', 'chat_template']) expect(y).not.toHaveProperty(k);
    expect(jsonlRows(A.exports.axolotl.files['data/train.jsonl'])[0]).toEqual({ instruction: 'Add the two numbers.', input: '1 and 6', output: '7.' });
  });
  it('TRL + PEFT + bitsandbytes', () => {
    const s = script(A);
    expect(s).toContain('BASE_MODEL = "meta-llama/Llama-3.2-1B-Instruct"');
    expect(pyKwargs(s, 'BitsAndBytesConfig')).toEqual({ load_in_4bit: true, bnb_4bit_quant_type: 'nf4', bnb_4bit_use_double_quant: true, bnb_4bit_compute_dtype: { code: 'torch.bfloat16' } });
    expect(pyKwargs(s, 'LoraConfig')).toEqual({
      r: run.rank, lora_alpha: run.alpha, lora_dropout: run.dropout, target_modules: ALL_LINEAR, use_rslora: false, rank_pattern: {}, alpha_pattern: {}, bias: 'none', task_type: 'CAUSAL_LM',
    });
    expect(pyKwargs(s, 'SFTConfig')).toMatchObject({
      seed: run.seed, per_device_train_batch_size: run.microBatch, gradient_accumulation_steps: run.gradAccumulation, num_train_epochs: run.epochs,
      learning_rate: run.learningRate, lr_scheduler_type: 'cosine', warmup_steps: run.warmupSteps, optim: 'adamw_torch', adam_beta1: 0.9, adam_beta2: 0.95,
      adam_epsilon: run.eps, weight_decay: run.weightDecay, max_grad_norm: run.gradClip, max_length: run.maxSeqLen, completion_only_loss: true,
      bf16: true, fp16: false, gradient_checkpointing: true, logging_steps: run.logEvery, save_steps: run.checkpointEverySteps,
    });
    expect(pyKwargs(s, 'SFTConfig')).not.toHaveProperty('max_steps');
    const row = jsonlRows(A.exports.trl.files['data/train.jsonl'])[1];
    expect(row).toEqual({ prompt: 'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nWhat is the capital of Peru?\n\n### Response:\n', completion: 'Lima.' });
  });
  it('torchtune', () => {
    const y = torchtune(A);
    expect(y).toMatchObject({
      seed: run.seed, batch_size: run.microBatch, gradient_accumulation_steps: run.gradAccumulation, epochs: 2, max_steps_per_epoch: null,
      clip_grad_norm: run.gradClip, dtype: 'bf16', enable_activation_checkpointing: true, log_every_n_steps: run.logEvery, save_every_n_steps: run.checkpointEverySteps,
      model: {
        _component_: 'torchtune.models.llama3_2.lora_llama3_2_1b', lora_attn_modules: ['q_proj', 'k_proj', 'v_proj', 'output_proj'], apply_lora_to_mlp: true,
        apply_lora_to_output: false, lora_rank: run.rank, lora_alpha: run.alpha, lora_dropout: run.dropout, quantize_base: true,
      },
      tokenizer: { _component_: 'torchtune.models.llama3.llama3_tokenizer', max_seq_len: run.maxSeqLen },
      checkpointer: { _component_: 'torchtune.training.FullModelHFCheckpointer', model_type: 'LLAMA3_2' },
      optimizer: { _component_: 'torch.optim.AdamW', lr: run.learningRate, betas: [0.9, 0.95], eps: run.eps, weight_decay: run.weightDecay },
      lr_scheduler: { _component_: 'torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup', num_warmup_steps: run.warmupSteps },
      dataset: { _component_: 'torchtune.datasets.instruct_dataset', source: 'json', data_files: 'data/train.jsonl', train_on_input: false },
    });
    expect(noteFields(A, 'torchtune')).not.toContain('doubleQuant');
  });
});

describe('run b: 16-bit + q,v + SGD with momentum', () => {
  const { run } = B;
  it('Axolotl', () => {
    const y = axolotl(B);
    expect(y).toMatchObject({
      base_model: 'Qwen/Qwen2.5-0.5B-Instruct', load_in_4bit: false, load_in_8bit: false, adapter: 'lora', fp16: true, bf16: false,
      lora_r: run.rank, lora_alpha: run.alpha, lora_target_modules: ['q_proj', 'v_proj'], optimizer: 'sgd', optim_args: { momentum: 0.9, nesterov: true },
      learning_rate: run.learningRate, lr_scheduler: 'constant', warmup_steps: 0, max_steps: 50, max_grad_norm: 0, train_on_inputs: true,
      chat_template: 'chatml', datasets: [{ type: 'chat_template', field_messages: 'messages', roles_to_train: ['assistant'] }], saves_per_epoch: 1,
    });
    for (const k of ['bnb_config_kwargs', 'num_epochs', 'adam_beta1', 'save_steps']) expect(y).not.toHaveProperty(k);
  });
  it('TRL', () => {
    const s = script(B);
    expect(s).not.toContain('BitsAndBytesConfig(');
    expect(s).toContain('model = AutoModelForCausalLM.from_pretrained(BASE_MODEL, dtype=torch.float16)');
    expect(s).toContain('optimizer_cls_and_kwargs=(torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),');
    expect(s).toContain(`tokenizer.chat_template = ${JSON.stringify(CHATML_JINJA)}`);
    expect(pyKwargs(s, 'LoraConfig')).toMatchObject({ r: 8, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'] });
    const cfg = pyKwargs(s, 'SFTConfig');
    expect(cfg).toMatchObject({ max_steps: 50, lr_scheduler_type: 'constant', warmup_steps: 0, max_grad_norm: 0, completion_only_loss: false, fp16: true, bf16: false, save_strategy: 'epoch' });
    expect(cfg).not.toHaveProperty('optim');
    const rows = jsonlRows(B.exports.trl.files['data/train.jsonl']);
    expect(rows[1]).toEqual({
      prompt: [{ role: 'user', content: '2+2?' }, { role: 'assistant', content: '4.' }, { role: 'user', content: 'And 3+3?' }],
      completion: [{ role: 'assistant', content: '6.' }],
    });
    expect(B.exports.trl.notes.some((n) => n.field === 'dataset' && /1 example\(s\) have several answers/.test(n.text))).toBe(true);
  });
  it('torchtune', () => {
    const y = torchtune(B);
    expect(y).toMatchObject({
      model: { _component_: 'torchtune.models.qwen2_5.lora_qwen2_5_0_5b', lora_attn_modules: ['q_proj', 'v_proj'], apply_lora_to_mlp: false, quantize_base: false, lora_rank: 8, lora_alpha: 16 },
      tokenizer: { _component_: 'torchtune.models.qwen2_5.qwen2_5_tokenizer', path: '/tmp/Qwen2.5-0.5B-Instruct/vocab.json', merges_file: '/tmp/Qwen2.5-0.5B-Instruct/merges.txt', max_seq_len: 256 },
      optimizer: { _component_: 'torch.optim.SGD', lr: run.learningRate, momentum: 0.9, nesterov: true, weight_decay: 0 },
      lr_scheduler: { num_warmup_steps: 0, num_cycles: 0 }, clip_grad_norm: null, dtype: 'bf16', batch_size: 1, gradient_accumulation_steps: 8,
      dataset: { _component_: 'torchtune.datasets.chat_dataset', conversation_column: 'messages', conversation_style: 'openai', train_on_input: true },
    });
    const y2 = y as { epochs: number; max_steps_per_epoch: number };
    expect(y2.epochs * y2.max_steps_per_epoch).toBe(run.maxSteps);
    expect(noteFields(B, 'torchtune')).toContain('basePrecision'); // fp16 is not a torchtune recipe dtype: said, not dropped
  });
});

describe('run c: a per-layer rank pattern', () => {
  it('Axolotl passes the patterns to PEFT', () => {
    expect(axolotl(C)).toMatchObject({
      lora_rank_pattern: RANK_PATTERN, lora_alpha_pattern: ALPHA_PATTERN, peft_use_rslora: true, load_in_8bit: true, adapter: 'lora', bf16: true,
      lora_target_modules: ['q_proj', 'v_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head'], lr_scheduler: 'linear', warmup_steps: 5, num_epochs: 1.5,
      eval_steps: 10, test_datasets: [{ path: 'data/validation.jsonl' }],
      datasets: [{ type: { field_instruction: 'prompt', field_output: 'completion', format: '{instruction}', no_input_format: '{instruction}' } }],
    });
    expect(jsonlRows(C.exports.axolotl.files['data/train.jsonl']).length + jsonlRows(C.exports.axolotl.files['data/validation.jsonl']).length).toBe(10);
  });
  it('TRL passes the patterns to LoraConfig', () => {
    const s = script(C);
    expect(pyKwargs(s, 'LoraConfig')).toMatchObject({ r: 8, lora_alpha: 16, use_rslora: true, rank_pattern: RANK_PATTERN, alpha_pattern: ALPHA_PATTERN, target_modules: ['q_proj', 'v_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head'] });
    expect(pyKwargs(s, 'BitsAndBytesConfig')).toEqual({ load_in_8bit: true });
    expect(pyKwargs(s, 'SFTConfig')).toMatchObject({ num_train_epochs: 1.5, lr_scheduler_type: 'linear', warmup_steps: 5, eval_strategy: 'steps', eval_steps: 10, seed: 99 });
    expect(Object.keys(C.exports.trl.files).sort()).toEqual(['data/train.jsonl', 'data/validation.jsonl', 'train_trl.py']);
  });
  it('torchtune cannot express the patterns and says so in the file; rsLoRA becomes alpha x sqrt(r)', () => {
    const text = C.exports.torchtune.files['torchtune.yaml'];
    const y = torchtune(C);
    expect(y).toMatchObject({
      model: { _component_: 'torchtune.models.llama2.lora_llama2_7b', apply_lora_to_mlp: true, apply_lora_to_output: true, lora_rank: 8 },
      lr_scheduler: { _component_: 'transformers.get_linear_schedule_with_warmup', num_warmup_steps: 5 },
      dataset_val: { data_files: 'data/validation.jsonl' }, run_val_every_n_steps: 10,
    });
    expect((y.model as { lora_alpha: number }).lora_alpha).toBeCloseTo(16 * Math.sqrt(8), 12);
    expect(noteFields(C, 'torchtune')).toEqual(expect.arrayContaining(['rankPattern', 'alphaPattern', 'useRslora', 'basePrecision']));
    expect(text).toMatch(/^# - rankPattern: torchtune gives every adapted module the same rank/m);
    expect(text).toContain(JSON.stringify(RANK_PATTERN));
  });
});
