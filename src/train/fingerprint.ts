/**
 * Fingerprints that tie a checkpoint to what it was trained on: the base model (name, config and
 * the byte size of its weights: hashing every weight byte of a 7B model on each resume would take
 * minutes), the dataset (the tokenized train and validation examples, so the same file through
 * another template, split or length gives another fingerprint) and the run config. SHA-256 through
 * WebCrypto (browser, worker and Node alike), hex.
 */
import type { TokenizedExample } from '../data/batching';
import type { ModelConfig } from '../config/model-config';
import type { RunConfig } from '../config/run-config';
import type { Fingerprints } from '../config/fingerprints';
import { canonicalJson, sha256 } from '../core/hash';



const text = (s: string) => new TextEncoder().encode(s) as Uint8Array<ArrayBuffer>;

export async function modelFingerprint(name: string, config: ModelConfig, weightBytes: number): Promise<Fingerprints['model']> {
  return { name, hash: await sha256(text(canonicalJson({ name, config, weightBytes }))) };
}

/** Every example as [length, ids..., loss mask bits...], train then validation, in order. */
export async function datasetFingerprint(name: string, train: readonly TokenizedExample[], validation: readonly TokenizedExample[]): Promise<Fingerprints['dataset']> {
  let words = 2;
  for (const e of [...train, ...validation]) words += 1 + 2 * e.ids.length;
  const out = new Int32Array(words);
  out[0] = train.length;
  out[1] = validation.length;
  let at = 2;
  for (const e of [...train, ...validation]) {
    out[at++] = e.ids.length;
    out.set(e.ids, at);
    at += e.ids.length;
    for (let i = 0; i < e.ids.length; i++) out[at++] = (e.inLoss?.[i] ?? true) ? 1 : 0;
  }
  return { name, hash: await sha256(new Uint8Array(out.buffer)), train: train.length, validation: validation.length };
}

/** The config without the checkpoint cadence (how often to save does not change what is trained). */
export async function configFingerprint(run: RunConfig): Promise<Fingerprints['config']> {
  const { checkpointEverySteps: _s, checkpointEveryMinutes: _m, ...rest } = run;
  return { hash: await sha256(text(canonicalJson(rest))) };
}

/**
 * What differs between a checkpoint's fingerprints and the loaded model, dataset and config, as
 * sentences that say what to load; empty when everything matches.
 */
export function fingerprintMismatches(saved: Fingerprints, now: Fingerprints): { field: 'model' | 'dataset' | 'config'; message: string }[] {
  const out: { field: 'model' | 'dataset' | 'config'; message: string }[] = [];
  if (saved.model.hash !== now.model.hash) {
    out.push({
      field: 'model',
      message: saved.model.name === now.model.name
        ? `the loaded model "${now.model.name}" differs from the one the checkpoint was trained on (its config or weights changed); load the same "${saved.model.name}" again`
        : `the checkpoint was trained on the model "${saved.model.name}" but "${now.model.name}" is loaded; load "${saved.model.name}" in Model & data`,
    });
  }
  if (saved.dataset.hash !== now.dataset.hash) {
    const counts = `${saved.dataset.train} training + ${saved.dataset.validation} validation examples`;
    out.push({
      field: 'dataset',
      message: saved.dataset.name === now.dataset.name
        ? `the loaded dataset "${now.dataset.name}" gives other tokens than the checkpoint's (${counts}); use the same template, prompt masking, max sequence length, validation split and seed as the run`
        : `the checkpoint was trained on the dataset "${saved.dataset.name}" (${counts}) but "${now.dataset.name}" is loaded; load "${saved.dataset.name}" with the run's options`,
    });
  }
  if (saved.config.hash !== now.config.hash) {
    out.push({ field: 'config', message: 'the run config differs from the one the checkpoint was saved with; resume the run with its own config' });
  }
  return out;
}
