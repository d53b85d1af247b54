/** public/demo/README.md, written from the pretraining record so its figures are the run's. */
import type { PretrainRecord } from './record';

const fence = (s: string) => '`' + s.replace(/\n/g, '\\n').replace(/`/g, "'") + '`';

export function demoReadme(r: PretrainRecord, examples: number): string {
  const o = r.options;
  const first = r.cycles[0];
  const last = r.cycles[r.cycles.length - 1];
  const tokens = o.cycles * o.stepsPerCycle * o.microBatch * o.seqLen;
  return `# The bundled demo

A tiny Llama-family model pretrained on this machine with the project's own WebGPU engine, its
tokenizer, and a small instruction dataset that a LoRA finetune visibly learns: the studio's
bundled demo. Everything here is made by \`npm run make-demo\` (scripts/make-demo/; 15 to 20 minutes
on a 2-core machine without a GPU, and it needs \`apt-get\` for the corpus, or \`--corpus <dir>\`).

| file | what |
| --- | --- |
| \`config.json\` | \`LlamaForCausalLM\`: 2 layers, hidden 64, MLP 176, 4 query heads and 2 key/value heads of 16, 256 positions, untied head; vocabulary 259 tokens, embedding and head rows padded to 320 (a multiple of 64; ids 259-319 unused) |
| \`model.safetensors\` | ${r.parameters.toLocaleString('en')} parameters in F32, ${r.modelBytes.toLocaleString('en')} bytes |
| \`tokenizer.json\`, \`tokenizer_config.json\`, \`special_tokens_map.json\` | byte-level BPE without merges: \`<pad>\` 0, \`<s>\` 1 (BOS), \`</s>\` 2 (EOS), then the 256 bytes; a chat template |
| \`generation_config.json\` | BOS, EOS and pad ids for generation |
| \`dataset.jsonl\` | ${examples} instruction examples in Alpaca format (\`instruction\`, \`input\`, \`output\`) |
| \`pretraining.json\` | the pretraining run: options, time, loss per cycle, base-model samples |

## The chat template

\`<s>Q: {question}\\nA: {answer}</s>\` — one line per turn (a system message, if any, goes first on
its own line). Choose the template **model** (the model's own) when finetuning on the demo: every
example fits in 64 tokens with it, while the Alpaca template's preamble alone is over 100 bytes
(tokens, for this byte-level tokenizer), so with it examples need a maximum sequence length of 256.

## How the base model was made

- **Text**: Jane Austen's six novels (*Sense and Sensibility*, *Pride and Prejudice*, *Mansfield Park*,
  *Emma*, *Northanger Abbey*, *Persuasion*), public domain, as the Debian package
  \`${r.corpus.package}\` ${r.corpus.version} ships them (package licence MIT; the texts are Project
  Gutenberg transcriptions). The script fetches it with \`apt-get download\` and reads the R data files
  itself (no R needed); wrapped lines are joined into paragraphs and underscores (italics) dropped:
  ${r.corpus.characters.toLocaleString('en')} characters, sha256 \`${r.corpus.sha256.slice(0, 16)}…\`. Each paragraph is a
  document: its bytes, then \`</s>\`, so the base model already knows to end after a finished
  sentence. The last 40,000 tokens (the end of *Persuasion*) are held out for validation. The corpus
  is not committed.
- **Training**: ReLoRA (Lialin et al., 2023) through the studio's own training graph: the engine only
  trains LoRA, so each cycle trains a rank-${o.rank} LoRA (alpha ${o.rank}, full rank at this size) on every
  linear layer and the head with AdamW (peak learning rate ${o.learningRate}, ${o.warmupSteps} warmup steps then
  cosine to 10%, gradient clipping 1), then merges \`W += (alpha/r) B A\` into the base and starts
  again with a fresh LoRA and optimizer state. Norms stay 1; the embedding table stays at its
  initialisation, which is computed from the corpus: each token's code is its row of the top-64
  singular vectors of the next-token log-probability matrix, scaled to RMS 1 (tokens the corpus
  never shows keep random codes). ${o.cycles} cycles of ${o.stepsPerCycle} steps of ${o.microBatch} windows of ${o.seqLen} bytes after BOS,
  starting at random word starts (seed ${o.seed}): ${tokens.toLocaleString('en')} tokens, about ${Math.round((100 * tokens) / r.corpus.characters)}% of the corpus.
- **Run**: ${(r.seconds / 60).toFixed(1)} minutes on SwiftShader (CPU Vulkan) in Node through the \`webgpu\` package.
  Training loss ${first.trainLoss.toFixed(2)} after the first cycle, ${last.trainLoss.toFixed(2)} after the last;
  validation loss ${last.evalLoss.toFixed(3)} nats per byte (uniform over 259 tokens: ${Math.log(259).toFixed(3)}).

It is a byte-level model of ${Math.round(r.parameters / 1000)}k parameters that has seen a few percent of the corpus once, in
the time this machine allows: it writes common words and punctuation, not sense, and greedy
decoding falls into loops. What the base model writes after BOS:

${r.samples.map((s) => `- ${fence(s.prompt)} → ${fence(s.completion)}${s.temperature ? ` (sampled, temperature ${s.temperature})` : ''}`).join('\n')}

## Finetuning it

Measured on this 2-core machine without a GPU (SwiftShader in Node), with other jobs running, on the
instruction data under the model's template (353 examples of 30 to 53 tokens; 19% of the tokens are
answers and EOS, the rest is masked prompt):

- The studio's defaults (rank 8, alpha 16, query + value, learning rate 2e-4, micro-batch 4), maximum
  sequence length 64, 30 steps: 1.2 s per step; the loss is noisy from step to step (3.4 to 8.8:
  each step sees only about 30 answer tokens) and falls slowly, 6.03 to 5.27 (mean of the first and
  last five steps). Command: \`npm run cli -- train --model public/demo --data public/demo/dataset.jsonl
  --template model --config run.json --out out\` with run.json
  \`{"rank": 8, "alpha": 16, "maxSeqLen": 64, "microBatch": 4, "maxSteps": 30, "logEvery": 1}\`.
- A learning rate for a model this small: rank 8, alpha 16, all linear layers, learning rate 5e-3,
  100 steps (85 s): 0.83 s per step, loss 5.76 to 2.98. The answers change from "the the the ..."
  to short capitalised replies that end with \`</s>\`; 100 steps do not yet make them right.
  Command: \`node --import tsx --import ./scripts/raw-import.mjs scripts/make-demo/finetune-check.ts
  --steps 100 --config '{"rank":8,"alpha":16,"targets":["query","key","value","projection","mlp"],"maxSeqLen":64,"learningRate":5e-3}'\`
  (it prints the loss per step and the base and finetuned answers to a few questions).

So for the demo, use a learning rate of 2e-3 to 1e-2 and a maximum sequence length of 64 (every
example fits; 128 doubles the time per step without adding anything).

## The instruction dataset

Generated by \`scripts/make-demo/instructions.ts\` (seeded): sums of two digits, the number after
another, opposites, capitals, colours, animal sounds, a little Austen trivia, repeating a word and
its first letter. Short questions with short, fixed-style answers (\`3 + 5 = 8.\`, \`Paris.\`,
\`Cold.\`) that the base model never gives, so a few dozen LoRA steps change its answers visibly:
it learns the answer style and to end its turn with \`</s>\`. Written for this project (no
third-party text).

## Licence

The novels are in the public domain. The model weights, tokenizer files and dataset were made by
this project's scripts and are released with it.
`;
}
