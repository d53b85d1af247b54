import { summarizeModel } from '../../io/model-source';
import { openModelSpec, stderrProgress } from '../../io/model-source/node';
import { CliUsageError, parseCliArgs } from '../args';

/**
 * `inspect --model <dir|hf:org/name[@revision]>`: config, tokenizer files and the tensor index
 * (safetensors headers only, never the weights) as a JSON summary on stdout. A hub model is found
 * at HF_ENDPOINT (default huggingface.co) with HF_TOKEN for gated repos; its small files are cached.
 * With --check-weights every tensor is read as training reads it, so corrupt values (NaN, inf) are found.
 */
export async function runInspect(argv: string[]): Promise<number> {
  const { values } = parseCliArgs(argv, { model: { type: 'string' }, 'check-weights': { type: 'boolean' } });
  if (!values.model) throw new CliUsageError('--model is required');
  const model = await openModelSpec(values.model, { onProgress: stderrProgress() });
  try {
    const summary = await summarizeModel(model);
    // --check-weights: read every tensor as training would (NaN or infinite values are named).
    if (values['check-weights']) {
      const load = model.loader();
      for (const name of (await model.tensorIndex()).keys()) await load(name);
    }
    console.log(JSON.stringify(summary, null, 2));
  } finally {
    await model.close();
  }
  return 0;
}
