/**
 * The run as an Axolotl config (YAML) and its dataset as JSONL in the dataset type that config
 * names. Keys follow Axolotl's schema (src/axolotl/utils/schemas: lora_rank_pattern, peft_use_rslora,
 * bnb_config_kwargs, optim_args, cosine_min_lr_ratio ...). Start: `axolotl train axolotl.yaml` in
 * the folder (one process per GPU through accelerate). A full finetune is a config without
 * `adapter` (schemas/peft.py: "leave blank to train all parameters"), with no lora_* keys and
 * load_in_4bit/8bit false (Axolotl refuses a quantized base without an adapter).
 */
import type { Segment } from '../../data/segment';
import { alpacaPair, toJsonl, type ExportExample } from './export-dataset';
import { hfOptim } from './optimizer-mapping';
import { assertExportable, basePrecision, commonNotes, hfTrainerDecayNote, loraModules, methodSummary, schedule, type TrainerExport, type TrainerExportInput, type TrainerNote } from './run-mapping';
import { comment, entry, list, map, mapOf, renderYaml, type YamlLine, type YamlMap } from './yaml-writer';

const CHAT_TEMPLATE_NAME = { chatml: 'chatml', llama3: 'llama3', model: 'tokenizer_default' } as const;

/** Axolotl's dataset type for a file: the first that every example of the export fits. */
type DatasetType = 'completion' | 'chat_template' | 'alpaca' | 'user_defined' | 'input_output';

function datasetType(all: readonly ExportExample[]): DatasetType {
  const kinds = new Set(all.map((e) => e.kind));
  if (kinds.has('text')) return 'completion';
  if (kinds.has('messages')) return 'chat_template';
  if (kinds.size === 1 && kinds.has('alpaca')) return 'alpaca';
  return kinds.has('segments') ? 'input_output' : 'user_defined';
}

function typeLines(t: DatasetType): YamlLine[] {
  switch (t) {
    case 'completion':
      return [entry('type', 'completion'), entry('field', 'text')];
    case 'chat_template':
      return [entry('type', 'chat_template'), entry('field_messages', 'messages'), entry('roles_to_train', list('assistant')), entry('train_on_eos', 'turn')];
    case 'alpaca':
      return [entry('type', 'alpaca')];
    case 'user_defined':
      // Prompts already rendered by the studio's template: a user-defined type that adds nothing around them.
      return [entry('type', map(entry('field_instruction', 'prompt'), entry('field_output', 'completion'), entry('format', '{instruction}'), entry('no_input_format', '{instruction}')),
        'the prompt as the studio\'s template rendered it; Axolotl adds BOS (as the tokenizer does) and EOS')];
    case 'input_output':
      return [entry('type', 'input_output'), comment('several answers per example: template-free segments, BOS and EOS written in (Axolotl adds none here)')];
  }
}

function asPair(e: ExportExample): { prompt: string; completion: string } | null {
  return e.kind === 'alpaca' ? alpacaPair(e) : e.kind === 'pair' ? { prompt: e.prompt, completion: e.completion } : null;
}

function asSegments(e: ExportExample): Segment[] {
  if (e.kind === 'segments') return e.segments;
  const p = asPair(e);
  if (!p) throw new TypeError(`${e.kind} examples have no segments`);
  return [{ text: p.prompt, train: false }, { text: p.completion, train: true }];
}

/** One JSONL row of the dataset type. */
function row(e: ExportExample, t: DatasetType, bos: string | null, eos: string | null): unknown {
  if (e.kind === 'text') return { text: e.text };
  if (e.kind === 'messages') return { messages: e.messages };
  if (t === 'alpaca' && e.kind === 'alpaca') return { instruction: e.instruction, input: e.input, output: e.output };
  if (t === 'user_defined') return asPair(e);
  const all = [...(bos ? [{ text: bos, train: false }] : []), ...asSegments(e), ...(eos ? [{ text: eos, train: true }] : [])];
  return { segments: all.filter((s) => s.text).map((s) => ({ label: s.train, text: s.text })) };
}

/** Axolotl's lora_alpha and alpha_pattern are integers: a fractional alpha is rounded, and said so. */
function intAlpha(value: number, where: string, notes: TrainerNote[]): number {
  if (Number.isInteger(value)) return value;
  const r = Math.max(1, Math.round(value));
  notes.push({ field: where, text: `Axolotl takes an integer alpha; ${value} is written as ${r}, which scales the update by ${(r / value).toFixed(4)}x the studio's` });
  return r;
}

/** The LoRA keys (PEFT settings through Axolotl's names); none for a full finetune. */
function loraLines(input: TrainerExportInput, notes: TrainerNote[]): YamlLine[] {
  const { run } = input;
  if (run.method === 'full') return [comment('full finetuning: no adapter key, so Axolotl trains every weight of the model')];
  const alphaPattern = Object.fromEntries(Object.entries(run.alphaPattern).map(([k, v]) => [k, intAlpha(v, `alphaPattern.${k}`, notes)]));
  const lines: (YamlLine | false)[] = [
    comment('LoRA'),
    entry('adapter', basePrecision(run).load === '4bit' ? 'qlora' : 'lora'),
    entry('lora_r', run.rank), entry('lora_alpha', intAlpha(run.alpha, 'alpha', notes)), entry('lora_dropout', run.dropout),
    entry('lora_target_modules', list(...loraModules(run))),
    entry('peft_use_rslora', run.useRslora),
    run.useDora && entry('peft_use_dora', true, 'DoRA (PEFT use_dora)'),
    Object.keys(run.rankPattern).length > 0 && entry('lora_rank_pattern', mapOf(run.rankPattern), 'PEFT rank_pattern (needs an Axolotl with lora_rank_pattern)'),
    Object.keys(alphaPattern).length > 0 && entry('lora_alpha_pattern', mapOf(alphaPattern), 'PEFT alpha_pattern'),
  ];
  return lines.filter((l): l is YamlLine => l !== false);
}

export function exportAxolotl(input: TrainerExportInput): TrainerExport {
  const { run, data } = input;
  assertExportable(run);
  const full = run.method === 'full';
  const notes: TrainerNote[] = [...commonNotes(run), ...hfTrainerDecayNote(run)];
  const p = basePrecision(run);
  const s = schedule(run);
  const type = datasetType([...data.train, ...data.validation]);
  const rows = (examples: readonly ExportExample[]) => examples.map((e) => row(e, type, data.bos, data.eos));
  if (type === 'input_output' && !data.eos) {
    notes.push({ field: 'dataset', text: 'input_output rows carry their own BOS/EOS; no tokenizer was at hand, so add the model\'s BOS (if it uses one) and EOS text to the segments' });
  }
  const lora = loraLines(input, notes);
  const chatTemplate = data.template && data.template in CHAT_TEMPLATE_NAME ? CHAT_TEMPLATE_NAME[data.template as keyof typeof CHAT_TEMPLATE_NAME] : null;
  const dsEntry = (file: string): YamlMap => map(entry('path', file), entry('ds_type', 'json'), ...typeLines(type));

  // AdamW, Lion and Adafactor by transformers' optim names; Sophia as AdamW, with a note (optimizer-mapping.ts).
  const hf = hfOptim(run, 'Axolotl');
  notes.push(...hf.notes);
  const optimizer: YamlLine[] = run.optimizer !== 'sgd'
    ? [entry('optimizer', hf.name, run.optimizer === 'lion' ? 'bitsandbytes Lion: adam_beta1 / adam_beta2 are its betas' : undefined),
      ...(hf.betas ? [entry('adam_beta1', hf.betas[0]), entry('adam_beta2', hf.betas[1])] : []), ...(hf.eps !== null ? [entry('adam_epsilon', hf.eps)] : []), entry('weight_decay', run.weightDecay)]
    : [entry('optimizer', 'sgd'), entry('optim_args', mapOf({ momentum: run.momentum, nesterov: run.nesterov }), 'passed to torch.optim.SGD by transformers >= 5 (older transformers ignore optim_args for SGD: momentum would be 0)'), entry('weight_decay', run.weightDecay)];

  const doc = map(
    entry('base_model', input.baseModel),
    entry('seed', run.seed), entry('data_seed', run.seed),
    comment('base precision'),
    entry('load_in_4bit', p.load === '4bit'), entry('load_in_8bit', p.load === '8bit'),
    p.load === '4bit' && entry('bnb_config_kwargs', mapOf({ bnb_4bit_quant_type: 'nf4', bnb_4bit_use_double_quant: p.doubleQuant }), 'bnb_4bit_compute_dtype follows bf16/fp16 below'),
    entry('bf16', p.dtype === 'bfloat16'), entry('fp16', p.dtype === 'float16'),
    p.dtype === 'float32' && entry('tf32', false, 'the studio computes in full f32: no TF32 matmuls'),
    ...lora,
    comment('data'),
    chatTemplate && entry('chat_template', chatTemplate, data.template === 'model' ? 'the model\'s own chat template (tokenizer_config.json)' : undefined),
    entry('datasets', list(dsEntry('data/train.jsonl'))),
    data.validation.length > 0 && entry('test_datasets', list(map(...dsEntry('data/validation.jsonl').lines, entry('split', 'train')))),
    entry('val_set_size', 0),
    entry('train_on_inputs', !data.mask, data.mask ? 'prompt tokens masked from the loss' : 'every token trained'),
    entry('sequence_len', run.maxSeqLen),
    entry('sample_packing', data.pack),
    comment('batch and steps (per GPU)'),
    entry('micro_batch_size', run.microBatch), entry('gradient_accumulation_steps', run.gradAccumulation),
    run.maxSteps !== undefined ? entry('max_steps', run.maxSteps, 'the studio\'s maxSteps overrides epochs') : entry('num_epochs', run.epochs),
    comment('optimizer and schedule'),
    ...optimizer,
    entry('learning_rate', run.learningRate),
    entry('lr_scheduler', s.kind),
    s.kind === 'cosine' && s.minLrRatio > 0 && entry('cosine_min_lr_ratio', s.minLrRatio),
    entry('warmup_steps', s.warmupSteps),
    entry('max_grad_norm', run.gradClip, run.gradClip === 0 ? '0: no clipping' : undefined),
    entry('gradient_checkpointing', run.activationCheckpointing),
    comment('logging, evaluation, checkpoints'),
    entry('logging_steps', run.logEvery),
    data.validation.length > 0 && run.evalEvery > 0 && entry('eval_steps', run.evalEvery),
    run.checkpointEverySteps > 0 ? entry('save_steps', run.checkpointEverySteps) : entry('saves_per_epoch', 1),
    entry('output_dir', `./outputs/${input.runName ?? (full ? 'full' : 'lora')}`),
  );
  const summary = methodSummary(run, input.baseModel);
  const header = [
    `Axolotl config exported by the finetuning studio${input.runName ? ` for run "${input.runName}"` : ''}.`,
    summary,
    'Start on every GPU of the machine, from this folder:  axolotl train axolotl.yaml',
    full
      ? 'The finetuned model lands in output_dir as *.safetensors + config.json + tokenizer files (Hugging Face layout): from_pretrained loads it, and so does the studio as a base model.'
      : 'The adapter lands in output_dir as adapter_model.safetensors + adapter_config.json (PEFT): the studio imports it.',
    ...(notes.length ? ['', 'Not reproduced exactly:', ...notes.map((n) => `- ${n.field}: ${n.text}`)] : []),
  ].join('\n');
  const files: Record<string, string> = { 'axolotl.yaml': renderYaml(doc, header), 'data/train.jsonl': toJsonl(rows(data.train)) };
  if (data.validation.length) files['data/validation.jsonl'] = toJsonl(rows(data.validation));
  return { trainer: 'axolotl', summary, files, notes, launch: 'axolotl train axolotl.yaml' };
}
