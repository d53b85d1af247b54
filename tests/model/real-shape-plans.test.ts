/**
 * Memory plans of real models (their public config.json, tests/fixtures/configs/) under WebGPU's
 * default limits: every buffer fits one binding (128 MiB, below maxBufferSize's 256 MiB) once the
 * embedding, the head, large linears and the flat LoRA state are cut into pieces, and the totals
 * stay where issue 12 puts them. Dry-run plans only: no GPU, no weights.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/config/model-config';
import { parseRunConfig, type RunConfigInput } from '../../src/config/run-config';
import { DEFAULT_LIMITS } from '../../src/engine/dry-run';
import { planMemory } from '../../src/model/plan/memory-plan';

const config = (name: string) => parseModelConfig(JSON.parse(readFileSync(`tests/fixtures/configs/${name}.json`, 'utf8')));
const ALL_LINEAR: RunConfigInput['targets'] = ['query', 'key', 'value', 'projection', 'mlp'];
const NO_FEATURES = { f16: false, subgroups: false, timestamps: false };
const BINDING = DEFAULT_LIMITS.maxStorageBufferBindingSize;

const cases: { name: string; model: string; run: RunConfigInput; atMost?: number; lora?: number }[] = [
  { name: 'Llama-2-7B r8 q+v NF4, 1 x 1304, checkpointing', model: 'llama-2-7b', run: { rank: 8, targets: ['query', 'value'], basePrecision: 'nf4', microBatch: 1, maxSeqLen: 1304, activationCheckpointing: true } },
  { name: 'Llama-3-8B QLoRA r16 all linear, 1 x 512, checkpointing', model: 'llama-3-8b', run: { rank: 16, targets: ALL_LINEAR, basePrecision: 'nf4', doubleQuant: true, microBatch: 1, maxSeqLen: 512, activationCheckpointing: true }, atMost: 6.5e9 },
  { name: 'Llama-3.2-1B r16 all linear NF4, 4 x 512, checkpointing', model: 'llama-3.2-1b', run: { rank: 16, targets: ALL_LINEAR, basePrecision: 'nf4', microBatch: 4, maxSeqLen: 512, activationCheckpointing: true } },
  { name: 'Qwen2.5-0.5B r16 all linear NF4, 4 x 512, checkpointing', model: 'qwen2.5-0.5b', run: { rank: 16, targets: ALL_LINEAR, basePrecision: 'nf4', microBatch: 4, maxSeqLen: 512, activationCheckpointing: true } },
  // A 2.56 GB LoRA vector (and as much again for the gradients, twice for AdamW): twenty chunks each.
  { name: 'Llama-2-7B r256 all linear NF4, 1 x 512, checkpointing', model: 'llama-2-7b', run: { rank: 256, targets: ALL_LINEAR, basePrecision: 'nf4', microBatch: 1, maxSeqLen: 512, activationCheckpointing: true }, lora: 639_631_360 },
  // f32 MLP weights of (11008, 4096): 172 MiB each, in row shards.
  { name: 'Llama-2-7B r8 q+v f32 base, 1 x 512, checkpointing', model: 'llama-2-7b', run: { rank: 8, targets: ['query', 'value'], basePrecision: 'f32', microBatch: 1, maxSeqLen: 512, activationCheckpointing: true } },
];

describe('plans of real models under WebGPU default limits', () => {
  for (const c of cases) {
    it(`${c.name}: no buffer above one binding${c.atMost ? `, at most ${c.atMost / 1e9} GB` : ''}`, async () => {
      const plan = await planMemory(config(c.model), parseRunConfig(c.run), DEFAULT_LIMITS, NO_FEATURES);
      const over = plan.buffers.filter((b) => b.bytes > BINDING).map((b) => `${b.label} ${b.bytes}`);
      expect(over).toEqual([]);
      expect(plan.largest.bytes).toBeLessThanOrEqual(BINDING);
      if (c.atMost) expect(plan.total).toBeLessThanOrEqual(c.atMost);
      if (c.lora) {
        const pieces = plan.buffers.filter((b) => b.label.startsWith('lora params ['));
        expect(pieces.length).toBeGreaterThanOrEqual(20);
        expect(pieces.reduce((s, b) => s + b.bytes, 0)).toBe(4 * c.lora);
      }
    });
  }
});
