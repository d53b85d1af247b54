import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { parseModelConfig, type ModelConfig } from '../../config/model-config';
import { bytesSource, openSafetensors, type SafetensorsFile } from '../../io/safetensors';
import { importPeftAdapter, type PeftAdapter } from '../../io/peft';
import { BadFileError } from '../../core/errors';

/** A golden case laid out like tests/fixtures/golden/llama-tiny (PyTorch's results for a model + adapter). */
export interface GoldenCase {
  dir: string;
  config: ModelConfig;
  /** Base weights by Hugging Face name, f32. */
  weights: Map<string, Float32Array>;
  adapter: PeftAdapter;
  B: number;
  T: number;
  tokens: Int32Array; //  (B, T)
  targets: Int32Array; // (B, T), -100 = ignored
  expected: SafetensorsFile;
  adamw: { lr: number; weightDecay: number; betas: [number, number]; eps: number };
  loss: number;
  lossAfterAdamw: number;
}

const expectedJsonSchema = z.object({
  loss: z.number(),
  loss_after_adamw_1: z.number(),
  adamw: z.object({ lr: z.number(), weight_decay: z.number(), betas: z.tuple([z.number(), z.number()]), eps: z.number() }),
});

/** The safetensors key PEFT uses for one LoRA tensor (M: DoRA's magnitude, saved without `.weight`). */
export function adapterKey(path: string, which: 'A' | 'B' | 'M'): string {
  return which === 'M' ? `base_model.model.${path}.lora_magnitude_vector` : `base_model.model.${path}.lora_${which}.weight`;
}

/** The tensors of one adapted module a golden case compares: A and B, and M for DoRA. */
export function tensorKinds(t: { M?: Float32Array }): readonly ('A' | 'B' | 'M')[] {
  return t.M ? ['A', 'B', 'M'] : ['A', 'B'];
}

/** Golden cases are small: read each file whole (no file handles left open). */
async function openFile(dir: string, name: string): Promise<SafetensorsFile> {
  return openSafetensors(bytesSource(await readBytes(dir, name), join(dir, name)));
}

async function readBytes(dir: string, name: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(join(dir, name)));
  } catch {
    throw new BadFileError(join(dir, name), 'file is missing or unreadable');
  }
}

async function readJson(dir: string, name: string): Promise<unknown> {
  const path = join(dir, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new BadFileError(path, 'file is missing; a golden case needs config.json, model.safetensors, adapter_config.json, adapter_model.safetensors, expected.json and expected.safetensors');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BadFileError(path, `file is not valid JSON (${e instanceof Error ? e.message : e})`);
  }
}

function asInt(name: string, a: Float32Array): Int32Array {
  const out = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isInteger(a[i])) throw new BadFileError(name, `element ${i} (${a[i]}) is not an integer token id`);
    out[i] = a[i];
  }
  return out;
}

export async function loadGoldenCase(dir: string): Promise<GoldenCase> {
  const config = parseModelConfig(await readJson(dir, 'config.json'));
  const exp = expectedJsonSchema.parse(await readJson(dir, 'expected.json'));
  const modelFile = await openFile(dir, 'model.safetensors');
  const weights = new Map<string, Float32Array>();
  for (const name of modelFile.names()) weights.set(name, await modelFile.readF32(name));

  const adapterConfig = JSON.stringify(await readJson(dir, 'adapter_config.json'));
  const adapterBytes = bytesSource(await readBytes(dir, 'adapter_model.safetensors'), join(dir, 'adapter_model.safetensors'));
  const adapter = await importPeftAdapter(adapterBytes, adapterConfig, config);

  const expected = await openFile(dir, 'expected.safetensors');
  const shape = expected.info('tokens').shape;
  if (shape.length !== 2) throw new BadFileError(join(dir, 'expected.safetensors'), `"tokens" must be [B, T], got [${shape.join(', ')}]`);
  const [B, T] = shape;
  return {
    dir,
    config,
    weights,
    adapter,
    B,
    T,
    tokens: asInt('tokens', await expected.readF32('tokens')),
    targets: asInt('targets', await expected.readF32('targets')),
    expected,
    adamw: { lr: exp.adamw.lr, weightDecay: exp.adamw.weight_decay, betas: exp.adamw.betas, eps: exp.adamw.eps },
    loss: exp.loss,
    lossAfterAdamw: exp.loss_after_adamw_1,
  };
}
