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
example fits in 32 tokens with it, while the Alpaca template's preamble alone is over 100 bytes
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

## Finetuning it: the demo task

The dataset teaches one small skill the base model does not have: say whether a short sentence
**tells**, **asks** or **shouts**. \`Tom will swim.\` → \`Tell.\`, \`Will Tom swim?\` → \`Ask.\`,
\`Tom will swim!\` → \`Shout.\` (the final mark and, for questions, the word order decide). The base
model answers none of them (it writes \`the the the ...\`). The held-out prompts in \`tasks/\` use
names and verbs the dataset never shows, so a right answer there means the rule was learned, not
the examples.

Why this task: a 133k-parameter byte-level model that has read a few percent of Austen learns
slowly. Measured here (2 cores, SwiftShader, other jobs running), tasks that need knowledge or
copying (sums, capitals, opposites, the topic of a sentence, its language) got at most 10% of the
held-out answers right within 100 steps; this three-way mapping got them nearly all, and every example fits in 32 tokens,
so a step is cheap.

The studio's defaults were chosen with it: rank 16, alpha 32, LoRA on every linear layer and the
LM head, AdamW at a constant learning rate of 1e-2 (twenty to fifty times a large model's: this
model barely moves at 1e-3), micro-batch 8, 32 tokens, 100 steps (about one epoch of the 810
training examples), validation every 20 steps.

Measured with those settings (\`npm run cli -- train --model public/demo --data public/demo/dataset.jsonl
--template model --validation-split 0.1 --config run.json --out out\`, run.json holding the settings
above, then \`npm run cli -- eval --model public/demo --adapter out --task public/demo/tasks/demo-tell-ask-shout-exact.jsonl\`):

| learning rate (constant) | validation loss at steps 0 / 20 / 60 / 100 | held-out exact answers (30 prompts) |
| --- | --- | --- |
| base model | 3.47 | 0 |
| 5e-3 | 3.47 / 0.47 / 0.20 / 0.11 | 0.67 |
| 8e-3 | 3.47 / 0.37 / 0.21 / 0.10 | 0.67 |
| **1e-2 (the default)** | 3.47 / 0.42 / 0.09 / 0.007 | **1.00** |

On earlier trial sets of the same task, LoRA on the linear layers without the head got 63% of the
held-out answers right after 100 steps against 98% with it: through the head the model learns to
spell its three answers.

In the studio (headless Chromium, WebGPU on SwiftShader, this 2-core machine under load), pressing
Train on the defaults finishes in 80 to 90 seconds (\`e2e/first-run.spec.ts\` prints the time, the
losses and the held-out scores, and fails if the loss does not fall by 40% or fewer than half of the
held-out answers are right). How the skill arrives is worth watching: the answer format (a
capitalised word, a full stop, the end of the turn) is learned in the first 20 steps, which takes
most of the loss; the choice between the three answers comes later, when the held-out answers turn
right.

## The instruction dataset

Generated by \`scripts/make-demo/instructions.ts\` (seeded): 900 records, 300 of each answer, from
16 names, 16 verbs and five auxiliaries (\`will\`, \`must\`, \`can\`, \`may\`, \`did\`), at most 17 bytes a
sentence. The studio keeps a tenth for validation. Written for this project (no third-party text).

## Licence

The novels are in the public domain. The model weights, tokenizer files and dataset were made by
this project's scripts and are released with it.

## Evaluation tasks (\`tasks/\`)

Task sets for \`npm run cli -- eval\`, the studio's Evaluate panel and sweeps:

| file | kind | items | what it shows |
| --- | --- | --- | --- |
| \`tasks/demo-tell-ask-shout-exact.jsonl\` | exact match | 30 | held-out sentences (names and verbs not in the dataset) under the model's template; the answer is generated greedily until \`</s>\` and compared exactly. The playground offers the same prompts, with the expected answer |
| \`tasks/demo-tell-ask-shout-mc.jsonl\` | multiple choice | 30 | the same prompts scored by log-likelihood of \`Tell.\`, \`Ask.\` and \`Shout.\` |
| \`tasks/demo-english-mc.jsonl\` | multiple choice | 20 | Austen-style phrase starts with the real next word against the same letters scrambled: what the base model already knows and a finetune should not break |
`;
}
