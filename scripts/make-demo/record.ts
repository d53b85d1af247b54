/**
 * What the pretraining run leaves behind in pretraining.json (and the README): options, timing,
 * per-cycle losses, and what the base model writes for a few prompts.
 */
import type { ModelConfig } from '../../src/config/model-config';
import type { CycleReport, ReloraOptions } from './relora';
import { generate } from './sample';
import { BOS, BYTE_OFFSET, byteIds, CHAT_TEMPLATE, EOS, VOCAB_SIZE } from './tokenizer-files';

export interface Sample {
  prompt: string;
  /** 0 = greedy. */
  temperature: number;
  completion: string;
}

export interface PretrainRecord {
  corpus: { package: string; version: string; characters: number; sha256: string };
  options: ReloraOptions;
  seconds: number;
  cycles: CycleReport[];
  parameters: number;
  modelBytes: number;
  samples: Sample[];
}

export const TEXT_PROMPTS = ['It is a truth universally', 'Mr. Darcy', 'She was'];
export const QUESTION_PROMPTS = ['Will Max rest?', 'Amy can draw.', 'Ted did jump!'];

/** The chat template's generation prompt for one question (CHAT_TEMPLATE with add_generation_prompt). */
export function questionPrompt(q: string): string {
  if (!CHAT_TEMPLATE.startsWith('{{ bos_token }}')) throw new Error('questionPrompt assumes the template starts with bos_token');
  return `Q: ${q}\nA: `;
}

export function decodeBytes(ids: readonly number[]): string {
  return new TextDecoder().decode(Uint8Array.from(ids.filter((i) => i >= BYTE_OFFSET && i < VOCAB_SIZE).map((i) => i - BYTE_OFFSET)));
}

/** Continuations of a few text prompts (greedy and sampled) and questions (greedy): BOS first, stop at EOS or 60 tokens. */
export function baseSamples(config: ModelConfig, weights: Map<string, Float32Array>): Sample[] {
  const model = { config, weights };
  const prompts: [string, number][] = [
    ...TEXT_PROMPTS.map((p): [string, number] => [p, 0]), ...TEXT_PROMPTS.map((p): [string, number] => [p, 0.7]),
    ...QUESTION_PROMPTS.map((q): [string, number] => [questionPrompt(q), 0]),
  ];
  return prompts.map(([prompt, temperature], i) => ({
    prompt, temperature,
    completion: decodeBytes(generate(model, new Map(), [BOS, ...byteIds(prompt)], { maxTokens: 60, temperature, stopId: EOS, seed: i })),
  }));
}
