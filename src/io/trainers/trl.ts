/**
 * The run as a Hugging Face training script: TRL's SFTTrainer with a PEFT LoraConfig and, for NF4
 * and 8-bit bases, a bitsandbytes BitsAndBytesConfig (a full finetune: the model loaded in float32
 * and SFTTrainer without peft_config, which trains every weight); the dataset as JSONL in TRL's
 * prompt-completion form (conversational for the chat templates) or its language-modeling form
 * (plain text). Start: `accelerate launch --num_processes <GPUs> train_trl.py`.
 */
import { promptCompletionRows, toJsonl, type ExportDataset, type PromptCompletionRows } from './export-dataset';
import { code, kwargs, py, pyComment, type PyValue } from './python-literal';
import { adafactorKwargs, hfOptim } from './optimizer-mapping';
import { assertExportable, basePrecision, commonNotes, hfTrainerDecayNote, loraModules, methodSummary, schedule, type TrainerExport, type TrainerExportInput, type TrainerNote } from './run-mapping';

/** The studio's chatml and llama3 templates (src/data/templates.ts) as Jinja, for the tokenizer. */
export const CHATML_JINJA =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
export const LLAMA3_JINJA =
  "{{ '<|begin_of_text|>' }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + (message['content'] | trim) + '<|eot_id|>' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

function datasetNotes(data: ExportDataset, t: PromptCompletionRows, v: PromptCompletionRows): TrainerNote[] {
  const notes: TrainerNote[] = [];
  if (t.folded + v.folded > 0) {
    notes.push({ field: 'dataset', text: `${t.folded + v.folded} example(s) have several answers; TRL's prompt-completion form trains the last one and reads the earlier ones as prompt (the studio trains every answer)` });
  }
  if (t.dropped + v.dropped > 0) notes.push({ field: 'dataset', text: `${t.dropped + v.dropped} example(s) have no answer and are left out (the studio drops them too)` });
  if (data.template !== null && ['chatml', 'llama3', 'model'].includes(data.template)) {
    notes.push({ field: 'template', text: 'TRL ends a conversation at the template\'s end-of-turn token; the studio also appends EOS after it' });
  }
  return notes;
}

export function exportTrl(input: TrainerExportInput): TrainerExport {
  const { run, data } = input;
  assertExportable(run);
  const full = run.method === 'full';
  const p = basePrecision(run);
  const s = schedule(run);
  const train = promptCompletionRows(data.train);
  const validation = promptCompletionRows(data.validation);
  const hasVal = validation.rows.length > 0;
  const notes: TrainerNote[] = [...commonNotes(run), ...hfTrainerDecayNote(run), ...datasetNotes(data, train, validation)];
  const isText = data.template === null;
  const dtype = code(`torch.${p.dtype}`);
  const quantized = p.load === '4bit' || p.load === '8bit';

  const bnb = p.load === '4bit'
    ? kwargs([{ name: 'load_in_4bit', value: true }, { name: 'bnb_4bit_quant_type', value: 'nf4' }, { name: 'bnb_4bit_use_double_quant', value: p.doubleQuant }, { name: 'bnb_4bit_compute_dtype', value: dtype }])
    : kwargs([{ name: 'load_in_8bit', value: true }]);
  const lora = kwargs([
    { name: 'r', value: run.rank }, { name: 'lora_alpha', value: run.alpha }, { name: 'lora_dropout', value: run.dropout },
    { name: 'target_modules', value: loraModules(run) }, { name: 'use_rslora', value: run.useRslora },
    ...(run.useDora ? [{ name: 'use_dora', value: true }] : []),
    { name: 'rank_pattern', value: run.rankPattern }, { name: 'alpha_pattern', value: run.alphaPattern },
    { name: 'bias', value: 'none' }, { name: 'task_type', value: 'CAUSAL_LM' },
  ]);
  const sched: { name: string; value: PyValue; comment?: string }[] = s.kind === 'cosine' && s.minLrRatio > 0
    ? [{ name: 'lr_scheduler_type', value: 'cosine_with_min_lr' }, { name: 'lr_scheduler_kwargs', value: { min_lr_rate: s.minLrRatio } }]
    : [{ name: 'lr_scheduler_type', value: s.kind }];
  // AdamW and Lion by transformers' optim names, Sophia as AdamW with a note; SGD and Adafactor
  // through optimizer_cls_and_kwargs below (Adafactor exactly as the studio ran it).
  const hf = hfOptim(run, 'TRL');
  if (run.optimizer !== 'adafactor') notes.push(...hf.notes);
  const optim: { name: string; value: PyValue; comment?: string }[] = run.optimizer === 'adamw' || run.optimizer === 'lion' || run.optimizer === 'sophia'
    ? [{ name: 'optim', value: hf.name, comment: run.optimizer === 'lion' ? 'bitsandbytes Lion: adam_beta1 / adam_beta2 are its betas' : undefined },
      { name: 'adam_beta1', value: hf.betas![0] }, { name: 'adam_beta2', value: hf.betas![1] }, ...(hf.eps !== null ? [{ name: 'adam_epsilon', value: hf.eps }] : [])]
    : [];
  const config = kwargs([
    { name: 'output_dir', value: code('str(HERE / "outputs")') },
    { name: 'seed', value: run.seed }, { name: 'data_seed', value: run.seed },
    { name: 'per_device_train_batch_size', value: run.microBatch }, { name: 'gradient_accumulation_steps', value: run.gradAccumulation },
    run.maxSteps !== undefined ? { name: 'max_steps', value: run.maxSteps, comment: 'the studio\'s maxSteps overrides epochs' } : { name: 'num_train_epochs', value: run.epochs },
    { name: 'learning_rate', value: run.learningRate }, ...sched, { name: 'warmup_steps', value: s.warmupSteps },
    ...optim, { name: 'weight_decay', value: run.weightDecay },
    { name: 'max_grad_norm', value: run.gradClip, comment: run.gradClip === 0 ? '0: no clipping' : undefined },
    { name: 'max_length', value: run.maxSeqLen }, { name: 'packing', value: data.pack },
    ...(isText ? [{ name: 'dataset_text_field', value: 'text' }] : [{ name: 'completion_only_loss', value: data.mask, comment: data.mask ? 'prompt tokens masked from the loss' : 'every token trained' }]),
    { name: 'bf16', value: p.dtype === 'bfloat16' }, { name: 'fp16', value: p.dtype === 'float16' },
    { name: 'gradient_checkpointing', value: run.activationCheckpointing },
    { name: 'logging_steps', value: run.logEvery },
    ...(hasVal && run.evalEvery > 0 ? [{ name: 'eval_strategy', value: 'steps' }, { name: 'eval_steps', value: run.evalEvery }] : []),
    ...(run.checkpointEverySteps > 0 ? [{ name: 'save_strategy', value: 'steps' }, { name: 'save_steps', value: run.checkpointEverySteps }] : [{ name: 'save_strategy', value: 'epoch' }]),
    { name: 'report_to', value: 'none' },
  ]);
  const template = data.template === 'chatml' ? CHATML_JINJA : data.template === 'llama3' ? LLAMA3_JINJA : null;
  const summary = methodSummary(run, input.baseModel);
  const header = [
    full
      ? `Hugging Face TRL (SFTTrainer) full-finetuning script exported by the finetuning studio${input.runName ? ` for run "${input.runName}"` : ''}.`
      : `Hugging Face TRL (SFTTrainer) + PEFT (LoraConfig) + bitsandbytes script exported by the finetuning studio${input.runName ? ` for run "${input.runName}"` : ''}.`,
    summary,
    full ? 'pip install "trl>=0.20" "transformers>=4.56" datasets accelerate' : 'pip install "trl>=0.20" "peft>=0.14" "transformers>=4.56" bitsandbytes datasets accelerate',
    'Start on every GPU of the machine, from this folder:  accelerate launch --num_processes <GPUs> train_trl.py',
    full
      ? 'The finetuned model lands in outputs/ as model*.safetensors + config.json + tokenizer files (Hugging Face layout): from_pretrained loads it, and so does the studio as a base model.'
      : 'The adapter lands in outputs/ as adapter_model.safetensors + adapter_config.json (PEFT): the studio imports it.',
    ...(notes.length ? ['', 'Not reproduced exactly:', ...notes.map((n) => `- ${n.field}: ${n.text}`)] : []),
  ].join('\n');
  const script = `${pyComment(header)}
from pathlib import Path

import torch
from accelerate import PartialState
from datasets import load_dataset
${full ? '' : 'from peft import LoraConfig\n'}from transformers import ${run.optimizer === 'adafactor' ? 'Adafactor, ' : ''}AutoModelForCausalLM, AutoTokenizer${full ? '' : ', BitsAndBytesConfig'}
from trl import SFTConfig, SFTTrainer

HERE = Path(__file__).resolve().parent
BASE_MODEL = ${py(input.baseModel)}

${quantized ? `# Base precision: ${run.basePrecision}${p.load === '4bit' ? `, double quantization ${p.doubleQuant ? 'on' : 'off'}` : ''}.
quantization_config = BitsAndBytesConfig(
${bnb}
)
model = AutoModelForCausalLM.from_pretrained(
    BASE_MODEL,
    dtype=${py(dtype)},
    quantization_config=quantization_config,
    device_map={"": PartialState().local_process_index},
)` : `# ${full ? `Full finetuning: every weight loaded and trained in ${p.dtype} (base precision ${run.basePrecision})` : `Base precision: ${run.basePrecision}`}.
model = AutoModelForCausalLM.from_pretrained(BASE_MODEL, dtype=${py(dtype)})`}
tokenizer = AutoTokenizer.from_pretrained(BASE_MODEL)
${template ? `# The studio's "${data.template}" prompt template.\ntokenizer.chat_template = ${py(template)}` : data.template === 'model' ? '# The model\'s own chat template (tokenizer_config.json), as the studio\'s "model" template.' : `# Prompts were rendered by the studio's "${data.template ?? 'none'}" template${isText ? ' (plain text: no template)' : ''}.`}

data_files = {"train": str(HERE / "data" / "train.jsonl")${hasVal ? ', "validation": str(HERE / "data" / "validation.jsonl")' : ''}}
dataset = load_dataset("json", data_files=data_files)

${full ? '# Full finetuning: SFTTrainer is given no PEFT config, so it trains every weight of the model.' : `peft_config = LoraConfig(
${lora}
)`}

args = SFTConfig(
${config}
)

trainer = SFTTrainer(
    model=model,
    args=args,
    train_dataset=dataset["train"],
    eval_dataset=${hasVal ? 'dataset["validation"]' : 'None'},
    processing_class=tokenizer,${full ? '' : `
    peft_config=peft_config,`}${run.optimizer === 'sgd' ? `
    # SGD with the studio's momentum and Nesterov flag (weight_decay comes from args).
    optimizer_cls_and_kwargs=(torch.optim.SGD, ${py({ lr: run.learningRate, momentum: run.momentum, nesterov: run.nesterov })}),` : ''}${run.optimizer === 'adafactor' ? `
    # transformers' Adafactor as the studio ran it (weight_decay comes from args).
    optimizer_cls_and_kwargs=(Adafactor, ${py(adafactorKwargs(run))}),` : ''}
)
trainer.train()
trainer.save_model(args.output_dir)
`;
  const files: Record<string, string> = { 'train_trl.py': script, 'data/train.jsonl': toJsonl(train.rows) };
  if (hasVal) files['data/validation.jsonl'] = toJsonl(validation.rows);
  return { trainer: 'trl', summary, files, notes, launch: 'accelerate launch --num_processes <GPUs> train_trl.py' };
}
