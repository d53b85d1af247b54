/**
 * The model card (README.md) that goes into every download of a finetune, merged model or PEFT
 * adapter: YAML front matter as the Hugging Face Hub reads it (base_model, library_name, tags,
 * pipeline_tag), then what the model is, its base model, the data, the run's settings, its
 * evaluation scores, the files and how to load them. Plain text from the run's record: nothing here
 * reads a file.
 */
import type { LoraConfig } from '../config/lora-config';
import type { RunConfig } from '../config/run-config';
import type { RunRecord } from './stores/runs';
import { entry, list, map, renderYaml } from './trainers/yaml-writer';

export interface ModelCardInput {
  /** `full`: a fully finetuned model (every base weight trained; its run's config has method "full"). */
  kind: 'merged' | 'adapter' | 'full';
  /** The card's title: the adapter's (or run's) name. */
  title: string;
  /** The base model's Hub id (org/name) or name. */
  baseModel: string;
  /** The LoRA config (absent for a full finetune). */
  lora?: LoraConfig;
  /** The run that trained it; absent for an imported adapter. */
  run?: Pick<RunRecord, 'name' | 'config' | 'dataset' | 'baseValLoss' | 'final' | 'totalSteps' | 'status'>;
  /** The person's note on the adapter or run. */
  note?: string;
  /** A merged model: the adapters merged in, their weights, the stored dtype. */
  merge?: { adapters: { name: string; weight: number }[]; dtype: string; mergedModules: number };
  /** The files of the download, in order. */
  files: string[];
}

const isHubId = (s: string) => /^[\w.-]+\/[\w.-]+$/.test(s);
/** Markdown table cells: a `|` or line break inside text would break the row. */
const cell = (v: unknown) => String(v).replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const fmt = (n: number | undefined, digits = 4) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits));

/** The run's settings a reader needs to reproduce it, as table rows. */
function settingsRows(c: RunConfig, lora: LoraConfig | undefined): [string, string][] {
  if (c.method === 'full' || !lora) return [['Method', 'full finetuning: every base weight trained in f32'], ...trainingRows(c)];
  const patterns = [
    Object.keys(lora.rankPattern ?? {}).length ? `rank_pattern ${JSON.stringify(lora.rankPattern)}` : '',
    Object.keys(lora.alphaPattern ?? {}).length ? `alpha_pattern ${JSON.stringify(lora.alphaPattern)}` : '',
  ].filter(Boolean).join(', ');
  return [
    ['LoRA', `r ${lora.r}, alpha ${lora.alpha}${lora.useRslora ? ' (rsLoRA: alpha / sqrt(r))' : ''}, dropout ${lora.dropout}${patterns ? `, ${patterns}` : ''}`],
    ['Target modules', lora.targetModules.join(', ')],
    ...trainingRows(c),
  ];
}

/** The rows every method shares: precision, optimizer, schedule, batch, length, clipping, seed. */
function trainingRows(c: RunConfig): [string, string][] {
  return [
    ['Base weights during training', c.basePrecision === 'nf4' ? `NF4${c.doubleQuant ? ' with double quantization' : ''} (QLoRA)` : c.basePrecision],
    ['Optimizer', `${c.optimizer}, learning rate ${c.learningRate}, weight decay ${c.weightDecay}`],
    ['Schedule', `${c.schedule}, ${c.warmupSteps} warmup steps${c.schedule.includes('cosine') ? `, min lr ratio ${c.minLrRatio}` : ''}`],
    ['Batch', `${c.microBatch} sequences x ${c.gradAccumulation} accumulation = ${c.microBatch * c.gradAccumulation} per step, ${c.maxSeqLen} tokens each`],
    ['Length', c.maxSteps !== undefined ? `${c.maxSteps} steps` : `${c.epochs} epoch${c.epochs === 1 ? '' : 's'}`],
    ['Gradient clipping', c.gradClip ? String(c.gradClip) : 'off'],
    ['Seed', String(c.seed)],
  ];
}

function front(input: ModelCardInput): string {
  const kindTags = input.kind === 'full' ? ['full-finetune'] : ['lora', input.kind === 'adapter' ? 'peft' : 'merged'];
  const tags = [...kindTags.slice(0, 1), 'finetune-studio', ...kindTags.slice(1), ...(input.run?.config.basePrecision === 'nf4' ? ['qlora'] : [])];
  const yaml = renderYaml(map(
    entry('base_model', input.baseModel),
    entry('library_name', input.kind === 'adapter' ? 'peft' : 'transformers'),
    entry('pipeline_tag', 'text-generation'),
    entry('tags', list(...tags)),
  ));
  return `---\n${yaml}---`;
}

function howToLoad(input: ModelCardInput): string {
  if (input.kind === 'merged' || input.kind === 'full') {
    return [
      'A complete model in Hugging Face layout: unzip it and load the folder.',
      '',
      '```python',
      'from transformers import AutoModelForCausalLM, AutoTokenizer',
      'model = AutoModelForCausalLM.from_pretrained("./this-folder")',
      'tokenizer = AutoTokenizer.from_pretrained("./this-folder")',
      '```',
      '',
      input.kind === 'full'
        ? 'For llama.cpp, Ollama or LM Studio, convert it with llama.cpp\'s `convert_hf_to_gguf.py`.'
        : 'For llama.cpp, Ollama or LM Studio, convert it with llama.cpp\'s `convert_hf_to_gguf.py`, or download the GGUF from the studio\'s Adapters tab.',
    ].join('\n');
  }
  return [
    'A PEFT LoRA adapter: load the base model, then the adapter on top of it.',
    '',
    '```python',
    'from peft import PeftModel',
    'from transformers import AutoModelForCausalLM, AutoTokenizer',
    `base = AutoModelForCausalLM.from_pretrained(${JSON.stringify(input.baseModel)})`,
    'model = PeftModel.from_pretrained(base, "./this-folder")',
    `tokenizer = AutoTokenizer.from_pretrained(${JSON.stringify(input.baseModel)})`,
    '```',
    '',
    '`model.merge_and_unload()` folds it into the base weights.',
  ].join('\n');
}

/** README.md for a merged model or an adapter download. */
export function modelCard(input: ModelCardInput): string {
  const { run, lora } = input;
  const base = isHubId(input.baseModel) ? `[${input.baseModel}](https://huggingface.co/${input.baseModel})` : `\`${input.baseModel}\``;
  const what = input.kind === 'full'
    ? `A full finetune of ${base}: every weight trained and stored in float32, made with finetune studio.`
    : input.kind === 'merged'
    ? `A finetune of ${base} with the LoRA adapter merged into its weights (W + scale x B A), made with finetune studio.`
    : `A LoRA adapter for ${base}, made with finetune studio.`;
  const out: string[] = [front(input), '', `# ${input.title}`, '', what];
  if (input.note) out.push('', `> ${input.note.replace(/\n/g, '\n> ')}`);

  out.push('', '## Base model', '', base);
  if (input.merge) {
    out.push('', '## Merge', '', `Merged in ${input.merge.dtype} (${input.merge.mergedModules} modules), adapter(s) and weights:`, '');
    for (const a of input.merge.adapters) out.push(`- ${a.name}: ${a.weight}`);
  }

  out.push('', '## Data', '');
  if (run) {
    const d = run.dataset;
    out.push(`\`${d.name}\`: ${d.examples} examples, ${d.validation} held out for validation, ${d.tokensPerEpoch} tokens per epoch.`);
  } else {
    out.push('Not recorded: the adapter was imported, not trained in the studio.');
  }

  out.push('', '## Training', '');
  if (run) {
    out.push(`Run "${run.name}" (${run.status}).`, '', '| setting | value |', '|---|---|');
    for (const [k, v] of settingsRows(run.config, lora)) out.push(`| ${k} | ${cell(v)} |`);
    out.push('', '<details><summary>The full run config (the studio\'s <code>run.json</code>)</summary>', '', '```json', JSON.stringify(run.config, null, 2), '```', '', '</details>');
  } else if (lora) {
    out.push(`LoRA r ${lora.r}, alpha ${lora.alpha}, targets ${lora.targetModules.join(', ')}.`);
  } else {
    out.push('Full finetuning of every weight (the run is no longer recorded).');
  }

  out.push('', '## Evaluation', '');
  const f = run?.final;
  if (run && (f || run.baseValLoss !== undefined)) {
    out.push('| metric | value |', '|---|---|');
    if (run.baseValLoss !== undefined) out.push(`| Validation loss of the base model (step 0) | ${fmt(run.baseValLoss)} |`);
    if (f?.bestVal) out.push(`| Best validation loss | ${fmt(f.bestVal.loss)} (step ${f.bestVal.step}) |`);
    if (f?.valLoss !== undefined) out.push(`| Last validation loss | ${fmt(f.valLoss)} |`);
    if (f) {
      out.push(`| Training loss (mean of the last 10 steps) | ${fmt(f.trainLossMean ?? f.trainLoss)} |`);
      out.push(`| Steps | ${f.steps} of ${run.totalSteps} |`);
      out.push(`| Training time | ${(f.wallMs / 1000).toFixed(0)} s |`);
    }
  } else {
    out.push('No evaluation was recorded.');
  }

  out.push('', '## Files', '', ...input.files.map((name) => `- \`${name}\``), '', '## How to load', '', howToLoad(input), '');
  return out.join('\n');
}
