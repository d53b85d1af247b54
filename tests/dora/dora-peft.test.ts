import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { exportPeftAdapter } from '../../src/io/peft/export';
import { importPeftAdapter } from '../../src/io/peft/import';
import { bytesSource } from '../../src/io/safetensors/byte-source';
import { openSafetensors } from '../../src/io/safetensors/reader';
import { writeSafetensors } from '../../src/io/safetensors/writer';
import { loadGoldenCase } from '../../src/cli/golden/golden-case';
import { writeAdapterGguf } from '../../src/io/gguf/adapter-gguf';

// The golden DoRA adapter was written in PEFT's layout by scripts/golden/make_golden.py --dora.
const dir = 'tests/fixtures/golden/qwen3-tiny-dora';
const c = await loadGoldenCase(dir);
const configText = await readFile(`${dir}/adapter_config.json`, 'utf8');
const MAG = 'base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector';

async function importWith(edit: (ts: { name: string; dtype: 'F32'; shape: number[]; data: Float32Array }[]) => typeof ts, config = configText) {
  const file = await openSafetensors(bytesSource(await readFile(`${dir}/adapter_model.safetensors`), 'adapter_model.safetensors'));
  const ts = await Promise.all(file.names().map(async (name) => ({ name, dtype: 'F32' as const, shape: file.info(name).shape, data: await file.readF32(name) })));
  return importPeftAdapter(bytesSource(writeSafetensors(edit(ts), { format: 'pt' }), 'adapter_model.safetensors'), config, c.config);
}

describe('DoRA adapters in PEFT\'s layout', () => {
  it('export writes lora_A, lora_B and lora_magnitude_vector [out] per module, and use_dora true', async () => {
    const { weights, configJson } = exportPeftAdapter(c.adapter);
    expect(JSON.parse(configJson).use_dora).toBe(true);
    const f = await openSafetensors(bytesSource(weights, 'out'));
    const expected = c.adapter.tensors.flatMap((t) => [
      [`base_model.model.${t.path}.lora_A.weight`, [t.r, t.inFeatures]],
      [`base_model.model.${t.path}.lora_B.weight`, [t.outFeatures, t.r]],
      [`base_model.model.${t.path}.lora_magnitude_vector`, [t.outFeatures]],
    ] as const);
    expect(f.names().sort()).toEqual(expected.map(([k]) => k).sort());
    for (const [k, shape] of expected) expect(f.info(k).shape, k).toEqual(shape);
    // The same keys and shapes as the file PyTorch's script wrote, and the values round-trip.
    const golden = await openSafetensors(bytesSource(await readFile(`${dir}/adapter_model.safetensors`), 'golden'));
    expect(golden.names().sort()).toEqual(f.names().sort());
    const back = await importPeftAdapter(bytesSource(weights, 'out'), configJson, c.config);
    back.tensors.forEach((t, i) => expect(t.M).toEqual(c.adapter.tensors[i].M));
  });

  it('plain LoRA adapters still say use_dora false and carry no magnitude', () => {
    const plain = { ...c.adapter, config: { ...c.adapter.config, useDora: undefined }, tensors: c.adapter.tensors.map(({ M: _, ...t }) => t) };
    expect(JSON.parse(exportPeftAdapter(plain).configJson).use_dora).toBe(false);
    expect(() => exportPeftAdapter({ ...plain, tensors: c.adapter.tensors })).toThrow(/DoRA magnitude but config.useDora is off/);
  });

  it('import refuses a missing or misshapen magnitude, and a magnitude without use_dora', async () => {
    await expect(importWith((ts) => ts.filter((t) => t.name !== MAG))).rejects.toThrow(/use_dora is true but module "model\.layers\.0\.self_attn\.q_proj" has no DoRA magnitude/);
    await expect(importWith((ts) => ts.map((t) => (t.name === MAG ? { ...t, shape: [1, t.shape[0]] } : t)))).rejects.toThrow(/must be \[\d+\] \(its out features\)/);
    const noDora = JSON.stringify({ ...JSON.parse(configText), use_dora: false });
    await expect(importWith((ts) => ts, noDora)).rejects.toThrow(/DoRA magnitude vector but adapter_config\.json's use_dora is false/);
  });

  it('a llama.cpp LoRA GGUF refuses a DoRA adapter and says to merge instead', async () => {
    const sink = { write: async () => {}, close: async () => {} };
    await expect(writeAdapterGguf({ config: c.config, adapter: c.adapter, name: 'dora' }, sink as never)).rejects.toThrow(/DoRA adapter cannot be written .* merge it/);
  });
});
