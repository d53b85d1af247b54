/**
 * The run as a torchtune config for its LoRA recipes (lora_finetune_distributed; the single-device
 * recipe reads the same keys) and the dataset as JSONL for torchtune's chat, instruct or text
 * completion dataset builders. Start: `tune run --nproc_per_node <GPUs> lora_finetune_distributed
 * --config torchtune.yaml`. The adapter is saved in PEFT's layout (adapter_model.safetensors +
 * adapter_config.json) next to the checkpoints.
 *
 * A full finetune (run.method "full") is a config for the full recipes instead
 * (full_finetune_distributed, full_finetune_single_device), as torchtune's own <size>_full.yaml
 * configs are: the model builder without the lora_ prefix and no lora_* / quantize_base keys,
 * no save_adapter_weights_only, and optimizer_in_bwd false (the single-device recipe requires the
 * key). The whole model is saved in Hugging Face layout.
 */
import { isChatTemplate, promptCompletionRows, toJsonl, type ExportDataset, type ExportExample } from './export-dataset';
import { adafactorKwargs, sophiaNote } from './optimizer-mapping';
import { assertExportable, basePrecision, commonNotes, loraModules, methodSummary, schedule, studioSteps, type TrainerExport, type TrainerExportInput, type TrainerNote } from './run-mapping';
import { torchtuneModel } from './torchtune-models';
import { comment, entry, list, map, mapOf, renderYaml, type YamlLine, type YamlMap, type YamlScalar } from './yaml-writer';

const ATTENTION = { q_proj: 'q_proj', k_proj: 'k_proj', v_proj: 'v_proj', o_proj: 'output_proj' } as const;
/** torchtune's dataset builder for the examples, and the rows it reads. */
function dataset(examples: readonly ExportExample[], data: ExportDataset, file: string): { builder: YamlMap; rows: unknown[]; folded: number; dropped: number } {
  const common: YamlLine[] = [entry('source', 'json'), entry('data_files', file), entry('split', 'train'), entry('packed', data.pack)];
  if (data.template === null) {
    return { builder: map(entry('_component_', 'torchtune.datasets.text_completion_dataset'), ...common, entry('column', 'text'), entry('add_eos', true)), rows: examples.map((e) => ({ text: (e as { text: string }).text })), folded: 0, dropped: 0 };
  }
  if (isChatTemplate(data.template)) {
    const rows = examples.map((e) => ({ messages: (e as { messages: unknown }).messages }));
    return {
      builder: map(entry('_component_', 'torchtune.datasets.chat_dataset'), ...common, entry('conversation_column', 'messages'), entry('conversation_style', 'openai'), entry('train_on_input', !data.mask)),
      rows, folded: 0, dropped: 0,
    };
  }
  const pc = promptCompletionRows(examples);
  return {
    builder: map(entry('_component_', 'torchtune.datasets.instruct_dataset'), ...common, entry('column_map', mapOf({ input: 'prompt', output: 'completion' })), entry('train_on_input', !data.mask)),
    ...pc,
  };
}

/** torchtune counts whole epochs, optionally cut at max_steps_per_epoch. */
function epochs(input: TrainerExportInput, notes: TrainerNote[]): { epochs: number; maxStepsPerEpoch: number | null } {
  const { run, data } = input;
  const { perEpoch, total } = studioSteps(run, data.train.length);
  if (run.maxSteps === undefined && Number.isInteger(run.epochs)) return { epochs: run.epochs, maxStepsPerEpoch: null };
  if (total <= perEpoch) return { epochs: 1, maxStepsPerEpoch: total };
  // Whole epochs that divide the steps exactly and keep most of each epoch, else the nearest below.
  const first = Math.ceil(total / perEpoch);
  let e = first;
  while (e <= total && !(total % e === 0 && total / e >= perEpoch / 2)) e++;
  if (e > total) e = first;
  const per = Math.floor(total / e);
  if (per * e !== total) notes.push({ field: run.maxSteps !== undefined ? 'maxSteps' : 'epochs', text: `torchtune runs whole epochs of at most max_steps_per_epoch steps: ${e} x ${per} = ${e * per} steps instead of the studio's ${total} (one GPU, ${perEpoch} steps per epoch)` });
  return { epochs: e, maxStepsPerEpoch: per };
}

function lrScheduler(input: TrainerExportInput): YamlMap {
  const s = schedule(input.run);
  if (s.kind === 'constant') {
    return map(comment('a cosine of zero cycles: the constant learning rate'), entry('_component_', 'torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup'), entry('num_warmup_steps', 0), entry('num_cycles', 0.0));
  }
  if (s.kind === 'linear') return map(comment('transformers\' schedule (pip install transformers): linear warmup, then linear decay to 0'), entry('_component_', 'transformers.get_linear_schedule_with_warmup'), entry('num_warmup_steps', s.warmupSteps));
  if (s.minLrRatio > 0) {
    return map(comment('transformers\' schedule (pip install transformers): torchtune\'s own cosine ends at 0'), entry('_component_', 'transformers.get_cosine_with_min_lr_schedule_with_warmup'), entry('num_warmup_steps', s.warmupSteps), entry('min_lr_rate', s.minLrRatio));
  }
  return map(entry('_component_', 'torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup'), entry('num_warmup_steps', s.warmupSteps));
}

function precisionNotes(input: TrainerExportInput): TrainerNote[] {
  const { run } = input;
  const notes: TrainerNote[] = [];
  if (run.basePrecision === 'int8') notes.push({ field: 'basePrecision', text: 'torchtune has no 8-bit base weights; the base is loaded in bf16 (more memory than the studio\'s int8)' });
  if (run.basePrecision === 'f16') notes.push({ field: 'basePrecision', text: 'torchtune\'s recipes train in bf16 or fp32, not fp16; bf16 is used' });
  if (run.basePrecision === 'nf4' && !run.doubleQuant) notes.push({ field: 'doubleQuant', text: 'torchtune\'s NF4 (torchao) always quantizes the per-block scales (double quantization); it cannot be turned off' });
  return notes;
}

function loraNotes(input: TrainerExportInput, tiedHead: boolean): TrainerNote[] {
  const { run } = input;
  const notes: TrainerNote[] = [];
  if (run.useRslora) notes.push({ field: 'useRslora', text: `torchtune has no rsLoRA; lora_alpha is written as alpha x sqrt(r) = ${run.alpha * Math.sqrt(run.rank)}, which gives the same scale alpha / sqrt(r) (the saved adapter_config says use_rslora false with that alpha)` });
  if (Object.keys(run.rankPattern).length) notes.push({ field: 'rankPattern', text: `torchtune gives every adapted module the same rank; the per-module ranks ${JSON.stringify(run.rankPattern)} are not applied (those modules train at rank ${run.rank})` });
  if (Object.keys(run.alphaPattern).length) notes.push({ field: 'alphaPattern', text: `torchtune gives every adapted module the same alpha; ${JSON.stringify(run.alphaPattern)} is not applied` });
  if (run.targets.includes('head') && tiedHead) notes.push({ field: 'targets', text: 'head: this model ties the output head to the embedding and torchtune cannot put LoRA on a tied head; apply_lora_to_output is false' });
  return notes;
}

/** The model section's LoRA keys (builder arguments of the lora_ builders); none for a full finetune. */
function loraKeys(input: TrainerExportInput, tiedHead: boolean): readonly YamlLine[] {
  const { run } = input;
  if (run.method === 'full') return [];
  const p = basePrecision(run);
  const modules = loraModules(run);
  const alpha = run.useRslora ? run.alpha * Math.sqrt(run.rank) : run.alpha;
  return map(
    entry('lora_attn_modules', list(...modules.filter((m): m is keyof typeof ATTENTION => m in ATTENTION).map((m) => ATTENTION[m]))),
    entry('apply_lora_to_mlp', run.targets.includes('mlp'), 'gate_proj, up_proj and down_proj (w1, w3, w2)'),
    entry('apply_lora_to_output', run.targets.includes('head') && !tiedHead),
    entry('lora_rank', run.rank), entry('lora_alpha', alpha, run.useRslora ? `rsLoRA: alpha ${run.alpha} x sqrt(${run.rank})` : undefined), entry('lora_dropout', run.dropout),
    run.useDora && entry('use_dora', true, 'DoRA (magnitude vectors beside lora_a / lora_b)'),
    entry('quantize_base', p.load === '4bit', p.load === '4bit' ? 'QLoRA: NF4 base weights (torchao: blocks of 64, scales quantized in blocks of 256)' : undefined),
  ).lines;
}

export function exportTorchtune(input: TrainerExportInput): TrainerExport {
  const { run, data } = input;
  assertExportable(run);
  const full = run.method === 'full';
  const recipe = full ? 'full_finetune_distributed' : 'lora_finetune_distributed';
  const p = basePrecision(run);
  const model = torchtuneModel(input.baseModel, input.model.config);
  const localName = input.baseModel.split(/[\\/]/).filter(Boolean).pop() ?? 'model';
  const checkpointDir = input.model.isLocalPath ? input.baseModel : `/tmp/${localName}`;
  const notes: TrainerNote[] = [...commonNotes(run), ...precisionNotes(input), ...(full ? [] : loraNotes(input, model?.tiedEmbeddings ?? false))];
  if (!model) notes.push({ field: 'base model', text: `torchtune has no builder known for "${input.baseModel}" here; set model._component_ and tokenizer to the family's (torchtune.models.<family>.${full ? '' : 'lora_'}<family>_<size>)` });

  const train = dataset(data.train, data, 'data/train.jsonl');
  const validation = data.validation.length ? dataset(data.validation, data, 'data/validation.jsonl') : null;
  const folded = train.folded + (validation?.folded ?? 0);
  if (folded) notes.push({ field: 'dataset', text: `${folded} example(s) have several answers; torchtune's instruct dataset takes one input and one output, so the last answer is trained and earlier ones are read as input` });
  if (model && data.template !== null && !isChatTemplate(data.template) && model.chatFormat !== 'plain') {
    notes.push({ field: 'template', text: `torchtune's ${model.chatFormat} tokenizer wraps each prompt and answer in its chat format around the studio's "${data.template}" text` });
  }
  if (model && isChatTemplate(data.template) && data.template !== 'model' && model.chatFormat !== data.template) {
    notes.push({ field: 'template', text: `torchtune formats conversations with the model family's tokenizer (${model.chatFormat}), not the studio's "${data.template}" template` });
  }
  if (model && !model.tokenizer.takesMaxSeqLen) notes.push({ field: 'maxSeqLen', text: 'the Hugging Face tokenizer of torchtune takes no max_seq_len: sequences are not cut at maxSeqLen (and packing needs it)' });
  const { epochs: nEpochs, maxStepsPerEpoch } = epochs(input, notes);

  const modelArgs = Object.entries(model?.args ?? {}).map(([k, v]) => entry(k, v as YamlScalar));
  const tokFiles = Object.entries(model?.tokenizer.files ?? { path: 'tokenizer.json' }).map(([k, f]) => entry(k, `${checkpointDir}/${f}`));
  const adamw = map(entry('_component_', 'torch.optim.AdamW'), entry('lr', run.learningRate), entry('betas', list(run.betas[0], run.betas[1])), entry('eps', run.eps), entry('weight_decay', run.weightDecay));
  // torchtune instantiates any optimizer class: Lion from bitsandbytes, Adafactor from transformers; no SophiaG (optimizer-mapping.ts).
  const af = adafactorKwargs(run);
  const optimizer = run.optimizer === 'sgd'
    ? map(entry('_component_', 'torch.optim.SGD'), entry('lr', run.learningRate), entry('momentum', run.momentum), entry('nesterov', run.nesterov), entry('weight_decay', run.weightDecay))
    : run.optimizer === 'lion'
      ? map(entry('_component_', 'bitsandbytes.optim.Lion32bit', 'pip install bitsandbytes'), entry('lr', run.learningRate), entry('betas', list(run.lionBetas[0], run.lionBetas[1])), entry('weight_decay', run.weightDecay))
      : run.optimizer === 'adafactor'
        ? map(entry('_component_', 'transformers.optimization.Adafactor', 'pip install transformers (relative_step off: the schedule below drives lr)'),
          ...Object.entries(af).map(([k, v]) => entry(k, Array.isArray(v) ? list(...v) : v)), entry('weight_decay', run.weightDecay))
        : adamw;
  if (run.optimizer === 'sophia') notes.push(sophiaNote('torchtune', `torch.optim.AdamW, betas ${run.betas.join(' / ')}`));
  const weightFiles = input.model.weightFiles?.length ? input.model.weightFiles : ['model.safetensors'];

  const doc = map(
    entry('output_dir', `/tmp/torchtune/${input.runName ?? (full ? 'full' : 'lora')}`),
    entry('seed', run.seed), entry('shuffle', true),
    comment(full ? 'model: full finetuning, every weight trained (no LoRA)' : 'model and LoRA'),
    entry('model', map(
      entry('_component_', (full ? model?.fullBuilder : model?.builder) ?? `SET_ME: torchtune.models.<family>.${full ? '' : 'lora_'}<family>_<size>`),
      ...modelArgs,
      ...loraKeys(input, model?.tiedEmbeddings ?? false),
    )),
    entry('tokenizer', map(entry('_component_', model?.tokenizer.component ?? 'SET_ME'), ...tokFiles, (model?.tokenizer.takesMaxSeqLen ?? true) && entry('max_seq_len', run.maxSeqLen))),
    entry('checkpointer', map(
      entry('_component_', 'torchtune.training.FullModelHFCheckpointer'),
      entry('checkpoint_dir', checkpointDir, input.model.isLocalPath ? undefined : `tune download ${input.baseModel} --output-dir ${checkpointDir}`),
      entry('checkpoint_files', list(...weightFiles), input.model.weightFiles?.length ? undefined : 'list every *.safetensors file of the download (sharded models have several)'),
      entry('recipe_checkpoint', null), entry('output_dir', '${output_dir}'), entry('model_type', model?.modelType ?? 'SET_ME'),
    )),
    entry('resume_from_checkpoint', false), !full && entry('save_adapter_weights_only', true),
    comment('data'),
    entry('dataset', train.builder),
    validation && entry('dataset_val', validation.builder),
    validation && run.evalEvery > 0 && entry('run_val_every_n_steps', run.evalEvery),
    comment('batch and steps (per GPU)'),
    entry('batch_size', run.microBatch), entry('gradient_accumulation_steps', run.gradAccumulation),
    entry('epochs', nEpochs), entry('max_steps_per_epoch', maxStepsPerEpoch),
    comment('optimizer and schedule'),
    entry('optimizer', optimizer),
    entry('lr_scheduler', lrScheduler(input)),
    entry('loss', map(entry('_component_', 'torchtune.modules.loss.CEWithChunkedOutputLoss'))),
    entry('clip_grad_norm', run.gradClip > 0 ? run.gradClip : null, run.gradClip > 0 ? undefined : 'no clipping'),
    comment('precision and memory'),
    entry('device', 'cuda'), entry('dtype', p.dtype === 'float32' ? 'fp32' : 'bf16'),
    entry('enable_activation_checkpointing', run.activationCheckpointing), entry('compile', false),
    full && entry('optimizer_in_bwd', false, 'the optimizer steps after the backward, as the studio does (gradient accumulation and clipping need it)'),
    comment('logging and checkpoints'),
    entry('metric_logger', map(entry('_component_', 'torchtune.training.metric_logging.DiskLogger'), entry('log_dir', '${output_dir}/logs'))),
    entry('log_every_n_steps', run.logEvery), entry('log_peak_memory_stats', true),
    run.checkpointEverySteps > 0 && entry('save_every_n_steps', run.checkpointEverySteps),
  );
  const launch = `tune run --nproc_per_node <GPUs> ${recipe} --config torchtune.yaml`;
  const summary = methodSummary(run, input.baseModel);
  const header = [
    `torchtune config exported by the finetuning studio${input.runName ? ` for run "${input.runName}"` : ''}.`,
    summary,
    `Start on every GPU of the machine, from this folder:  ${launch}${full ? ' (one GPU: tune run full_finetune_single_device --config torchtune.yaml)' : ''}`,
    full
      ? 'The finetuned model lands in output_dir/epoch_<n>/ as model*.safetensors + config.json + tokenizer files (Hugging Face layout): from_pretrained loads it, and so does the studio as a base model.'
      : 'The adapter lands in output_dir/epoch_<n>/ as adapter_model.safetensors + adapter_config.json (PEFT): the studio imports it.',
    ...(notes.length ? ['', 'Not reproduced exactly:', ...notes.map((n) => `- ${n.field}: ${n.text}`)] : []),
  ].join('\n');
  const files: Record<string, string> = { 'torchtune.yaml': renderYaml(doc, header), 'data/train.jsonl': toJsonl(train.rows) };
  if (validation) files['data/validation.jsonl'] = toJsonl(validation.rows);
  return { trainer: 'torchtune', summary, files, notes, launch };
}
