/**
 * The merged and adapter downloads as zips: every file from_pretrained needs (weights, config,
 * generation config, tokenizer files, the card), the weights equal to base + scale x B A, shards
 * with their index above the shard size, and a model card with the Hub's front matter.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runBundle } from '../../src/cli/commands/bundle';
import { parse } from 'yaml';
import { loraScaling } from '../../src/config/lora-config';
import { parseRunConfig } from '../../src/config/run-config';
import { exportPeftAdapter } from '../../src/io/peft';
import { openModelSpec } from '../../src/io/model-source/node';
import { bytesSource, openSafetensors } from '../../src/io/safetensors';
import type { RunRecord } from '../../src/io/stores/runs';
import { writeAdapterBundle, writeMergedBundle } from '../../src/model/export/bundle';
import { writeTinyModel } from '../../scripts/llama-cpp-check/tiny-models';

const root = mkdtempSync(join(tmpdir(), 'bundle-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const m = writeTinyModel(root, 'qwen2'); // rsLoRA with rank and alpha patterns: per-module scales

const run: RunRecord = {
  version: 1, id: 'r1', name: 'Run 3 · r4', createdAt: 0, updatedAt: 0, status: 'completed', pointCount: 30, totalSteps: 30,
  config: parseRunConfig({ rank: 4, alpha: 8, targets: ['query', 'value'], maxSteps: 30, learningRate: 5e-3 }),
  model: { name: 'tiny-qwen2', source: 'files', params: 1 }, dataset: { name: 'train.jsonl', examples: 120, validation: 12, tokensPerEpoch: 4000 },
  baseValLoss: 5.5, final: { trainLoss: 2.2, trainLossMean: 2.3, valLoss: 2.6, bestVal: { loss: 2.5, step: 20 }, peakMemory: 0, wallMs: 61_000, steps: 30 },
};
const card = { title: 'my finetune', baseModel: 'org/tiny-qwen2', lora: m.adapter.config, run, note: 'first try' };

async function zipOf(write: (sink: (c: Uint8Array) => void) => Promise<{ totalBytes: number }>): Promise<Record<string, Uint8Array>> {
  const chunks: Uint8Array[] = [];
  const { totalBytes } = await write((c) => void chunks.push(c.slice()));
  const bytes = new Uint8Array(totalBytes);
  let at = 0;
  for (const c of chunks) (bytes.set(c, at), (at += c.byteLength));
  return unzipSync(bytes);
}

async function merged(maxShardBytes?: number) {
  const model = await openModelSpec(m.modelDir);
  try {
    return await zipOf((sink) => writeMergedBundle({ model, adapters: [{ adapter: m.adapter, weight: 1, name: 'my finetune' }], dtype: 'F32', card, sink, maxShardBytes }));
  } finally {
    await model.close();
  }
}

/** W + scale x B A of one module, in float64. */
function expected(path: string): Float64Array {
  const t = m.adapter.tensors.find((x) => x.path === path)!;
  const W = m.weights.get(`${path}.weight`)!;
  const s = loraScaling(t.r, t.alpha, m.adapter.config.useRslora);
  return Float64Array.from(W, (w, idx) => {
    const o = Math.floor(idx / t.inFeatures);
    const i = idx % t.inFeatures;
    let d = 0;
    for (let k = 0; k < t.r; k++) d += t.B[o * t.r + k] * t.A[k * t.inFeatures + i];
    return w + s * d;
  });
}

describe('merged bundle', () => {
  it('holds what from_pretrained needs, and the weights are base + scale x B A', async () => {
    const files = await merged();
    expect(Object.keys(files)).toEqual(['README.md', 'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']);
    expect(JSON.parse(strFromU8(files['config.json']))).toMatchObject({ model_type: 'qwen2', hidden_size: 64, torch_dtype: 'float32' });
    expect(JSON.parse(strFromU8(files['generation_config.json']))).toEqual({ _from_model_config: true, bos_token_id: 1, eos_token_id: 2 });
    expect(JSON.parse(strFromU8(files['tokenizer_config.json'])).chat_template).toContain('A: ');
    const st = await openSafetensors(bytesSource(files['model.safetensors']));
    expect(st.names().length).toBe(m.weights.size);
    for (const path of ['model.layers.0.self_attn.v_proj', 'model.layers.1.self_attn.o_proj', 'model.layers.1.mlp.down_proj']) {
      const got = await st.readF32(`${path}.weight`);
      const want = expected(path);
      got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(Math.abs(want[i]) * 2 ** -23 + 1e-9));
    }
    // An unadapted tensor is written as it was.
    expect([...(await st.readF32('model.norm.weight'))]).toEqual([...m.weights.get('model.norm.weight')!]);
  });

  it('above the shard size: model-0000i-of-0000n.safetensors and an index naming every tensor\'s shard', async () => {
    const files = await merged(60_000);
    const shards = Object.keys(files).filter((f) => f.endsWith('.safetensors'));
    expect(shards.length).toBeGreaterThan(2);
    expect(shards[0]).toBe(`model-00001-of-${String(shards.length).padStart(5, '0')}.safetensors`);
    expect(files['model.safetensors']).toBeUndefined();
    const index = JSON.parse(strFromU8(files['model.safetensors.index.json'])) as { metadata: { total_size: number }; weight_map: Record<string, string> };
    expect(Object.keys(index.weight_map).sort()).toEqual([...m.weights.keys()].sort());
    let total = 0;
    for (const shard of shards) {
      const st = await openSafetensors(bytesSource(files[shard]));
      for (const name of st.names()) {
        expect(index.weight_map[name]).toBe(shard);
        total += st.info(name).end - st.info(name).begin;
      }
    }
    expect(index.metadata.total_size).toBe(total);
    const st = await openSafetensors(bytesSource(files[index.weight_map['model.layers.1.mlp.down_proj.weight']]));
    const want = expected('model.layers.1.mlp.down_proj');
    (await st.readF32('model.layers.1.mlp.down_proj.weight')).forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
  });

  it('its card has the Hub\'s front matter and states the base model, data, run config and scores', async () => {
    const readme = strFromU8((await merged())['README.md']);
    const front = parse(/^---\n([\s\S]*?)\n---\n/.exec(readme)![1]) as Record<string, unknown>;
    expect(front).toEqual({ base_model: 'org/tiny-qwen2', library_name: 'transformers', pipeline_tag: 'text-generation', tags: ['lora', 'finetune-studio', 'merged'] });
    for (const text of ['# my finetune', '[org/tiny-qwen2](https://huggingface.co/org/tiny-qwen2)', '`train.jsonl`: 120 examples, 12 held out', '"learningRate": 0.005',
      '| Validation loss of the base model (step 0) | 5.5000 |', '| Best validation loss | 2.5000 (step 20) |', '- `model.safetensors`', 'AutoModelForCausalLM.from_pretrained', '> first try',
      'Merged in F32']) {
      expect(readme).toContain(text);
    }
  });
});

describe('adapter bundle', () => {
  it('PEFT files and the card (library_name peft)', async () => {
    const peft = exportPeftAdapter(m.adapter);
    const files = await zipOf((sink) => writeAdapterBundle({ weights: peft.weights, configJson: peft.configJson, card, sink }));
    expect(Object.keys(files)).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
    expect(Buffer.from(files['adapter_model.safetensors']).equals(Buffer.from(peft.weights))).toBe(true);
    const readme = strFromU8(files['README.md']);
    expect(readme).toMatch(/^---\nbase_model: "org\/tiny-qwen2"\nlibrary_name: "peft"\n/);
    expect(readme).toContain('PeftModel.from_pretrained(base, "./this-folder")');
  });
});

describe('npm run cli -- bundle', () => {
  it('writes the merged zip from a model folder and a PEFT adapter folder', async () => {
    const out = join(root, 'cli.zip');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await runBundle(['--model', m.modelDir, '--adapter', m.adapterDir, '--dtype', 'f16', '--out', out])).toBe(0);
      expect(JSON.parse(log.mock.calls[0][0] as string)).toMatchObject({ out, merged_modules: 2 * 7 });
    } finally {
      log.mockRestore();
    }
    const files = unzipSync(new Uint8Array(readFileSync(out)));
    expect(Object.keys(files)).toEqual(['README.md', 'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']);
    expect(JSON.parse(strFromU8(files['config.json'])).torch_dtype).toBe('float16');
    expect(strFromU8(files['README.md'])).toContain('# qwen2-adapter (merged)');
  });
});
