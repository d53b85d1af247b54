// `npm run cli -- <command> ...`: headless checks and runs in Node.
import { runCount } from './commands/count';
import { CliUsageError } from './args';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: () => Promise<Command>; help: string }> = {
  golden: { run: async () => (await import('./commands/golden')).runGolden, help: 'golden <dir> [--engine cpu|gpu] [--gpu-limits adapter|default] [--activation-precision f32|bf16]   check logits, loss, LoRA gradients and one AdamW step against a PyTorch golden case (bf16: against the CPU reference in the same mode and against the f32 golden)' },
  nf4: { run: async () => (await import('./commands/nf4')).runNf4, help: 'nf4 <dir>                          check NF4 codes and absmax bit-exactly against a bitsandbytes golden case' },
  inspect: { run: async () => (await import('./commands/inspect')).runInspect, help: 'inspect --model <dir|hf:org/name[@revision]> [--check-weights]   config, tokenizer and tensor index as JSON (HF_ENDPOINT, HF_TOKEN); --check-weights reads every tensor and names NaN/inf' },
  train: { run: async () => (await import('./commands/train')).runTrain, help: 'train --model <dir|hf:org/name> --data <file> [--config run.json] [--validation <file>] [--template t] [--no-mask] [--pack] [--validation-split F] [--gpu-limits adapter|default] [--activation-precision f32|bf16] --out <dir>   LoRA finetuning on WebGPU in Node (any dataset format `data` reads, or {"tokens": [...]} JSONL)' },
  data: { run: async () => (await import('./commands/data')).runData, help: 'data --data <file> --model <dir> [--template alpaca|chatml|llama3|model|none] [--max-len N] [--no-mask] [--format f] [--columns field=col,...] [--pack] [--validation-split F]   dataset statistics as JSON' },
  plan: { run: async () => (await import('./commands/plan')).runPlan, help: 'plan --model <dir|config.json|hf:org/name> [--config run.json] [--gpu-limits adapter|default] [--activation-precision f32|bf16]   the run\'s GPU memory by category from config.json alone, its largest binding, and whether it fits the limits (JSON)' },
  'export-trainer': { run: async () => (await import('./commands/export-trainer')).runExportTrainer, help: 'export-trainer --config <run.json> --model <dir|hf:org/name|org/name> --data <file> --out <dir> [--trainer axolotl|trl|torchtune|all] [--template t] [--no-mask] [--pack] [--validation-split F]   the run as an Axolotl config, a TRL + PEFT script and a torchtune config, each with its dataset (docs/scale-out.md)' },
  gguf: { run: async () => (await import('./commands/gguf')).runGguf, help: 'gguf --model <dir|hf:org/name> [--adapter <dir>] --what base|adapter|merged --type f32|f16|q8_0|q4_0|q4_k_m --out <file.gguf> [--base-gguf <name>]   GGUF for llama.cpp / Ollama, with an Ollama Modelfile next to it' },
  bundle: { run: async () => (await import('./commands/bundle')).runBundle, help: 'bundle --model <dir|hf:org/name> --adapter <dir> [--dtype bf16|f16|f32] [--out <file.zip>]   the adapter merged into the model as one zip that from_pretrained loads (weights, config, tokenizer, model card)' },
  eval: { run: async () => (await import('./commands/eval')).runEval, help: 'eval --model <dir|hf:org/name> [--adapter <dir>] --task <file.jsonl> [--kind mc|exact|perplexity] [--micro-batch N] [--max-new-tokens N] [--stop S] [--normalize whitespace,case]   score the base model or an adapter on a task file (JSON: n, acc/acc_norm, exact_match or perplexity/mean_loss, per_example)' },
  sweep: { run: async () => (await import('./commands/sweep')).runSweep, help: 'sweep --model <dir|hf:org/name> --data <file> --grid grid.json --out <dir> [--task <file.jsonl> ...] [--validation <file>] [dataset flags]   train a grid (array-valued run-config fields are the axes) or {"runs": [...]} one after another; results.csv and results.json' },
  count: { run: async () => runCount, help: 'count --config <config.json> --r <n> --targets <query,key,value,projection,mlp,head> [--rank-pattern <json>]' },
};

function usage(): string {
  return ['usage: npm run cli -- <command> [options]', '', ...Object.values(COMMANDS).map((c) => `  ${c.help}`)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.run())(rest);
  } catch (e) {
    if (e instanceof CliUsageError) {
      console.error(`${e.message}\n\n  ${command.help}`);
      return 2;
    }
    // Known, typed errors (bad files, bad configs) get their message; anything else its stack.
    if (e instanceof Error && e.name !== 'Error') {
      console.error(`${e.name}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
