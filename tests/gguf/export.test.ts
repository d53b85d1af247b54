/**
 * Model, adapter and merged GGUFs of tiny models written to disk in Hugging Face layout
 * (scripts/llama-cpp-check/tiny-models.ts), read back: names, types, dims, values, metadata.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loraScaling } from '../../src/config/lora-config';
import { fromGgufValues, ggufModuleWeight, llamaCppLoraScale, permuteQkRows, quantizeQ4_K, quantizeQ6_K, readGguf, useMoreBits, type GgufExportType, type GgufFile } from '../../src/io/gguf';
import { openModelSpec } from '../../src/io/model-source/node';
import { exportGguf, type GgufWhat } from '../../src/model/export/gguf-export';
import { writeTinyModel, type TinyKind, type TinyModel } from '../../scripts/llama-cpp-check/tiny-models';

const root = mkdtempSync(join(tmpdir(), 'gguf-export-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const models = new Map<TinyKind, TinyModel>();
const tiny = (k: TinyKind) => models.get(k) ?? (models.set(k, writeTinyModel(root, k)), models.get(k)!);

async function run(m: TinyModel, what: GgufWhat, type: GgufExportType): Promise<{ file: GgufFile; chunks: number[]; modelfile: string; warnings: string[] }> {
  const model = await openModelSpec(m.modelDir);
  const chunks: Uint8Array[] = [];
  try {
    const r = await exportGguf({ model, adapter: what === 'base' ? undefined : m.adapter, what, type, fileName: `${what}.gguf`, sink: (c) => void chunks.push(c.slice()) });
    const bytes = new Uint8Array(r.totalBytes);
    let at = 0;
    for (const c of chunks) (bytes.set(c, at), (at += c.byteLength));
    expect(at).toBe(r.totalBytes);
    return { file: readGguf(bytes), chunks: chunks.map((c) => c.byteLength), modelfile: r.modelfile, warnings: r.warnings };
  } finally {
    await model.close();
  }
}

const typesOf = (f: GgufFile) => Object.fromEntries(f.tensors.map((t) => [t.name, t.type]));

describe('model GGUF', () => {
  it('F16: llama.cpp names and dims, 1-D tensors F32, q/k permuted, streamed tensor by tensor', async () => {
    const m = tiny('llama-untied');
    const { file, chunks } = await run(m, 'base', 'f16');
    expect(file.metadata.get('general.type')).toBe('model');
    expect(file.metadata.get('general.file_type')).toBe(1);
    const names = file.tensors.map((t) => t.name);
    expect([names[0], ...names.slice(-2)]).toEqual(['token_embd.weight', 'output_norm.weight', 'output.weight']);
    expect(file.tensors.length).toBe(3 + 2 * 9);
    const t = typesOf(file);
    expect([t['token_embd.weight'], t['output.weight'], t['blk.1.ffn_down.weight'], t['blk.0.attn_norm.weight'], t['output_norm.weight']]).toEqual(['F16', 'F16', 'F16', 'F32', 'F32']);
    expect(file.tensors.find((x) => x.name === 'blk.0.attn_k.weight')!.dims).toEqual([64, 32]);
    const q = m.weights.get('model.layers.0.self_attn.q_proj.weight')!;
    const back = fromGgufValues('model.layers.0.self_attn.q_proj.weight', file.f32('blk.0.attn_q.weight'), [64, 64], m.config, 'llama');
    back.forEach((v, i) => expect(Math.abs(v - q[i])).toBeLessThanOrEqual(Math.abs(q[i]) * 2 ** -11 + 1e-7));
    expect(Math.max(...chunks)).toBe(Math.max(chunks[0], 320 * 64 * 2)); // the header, or one tensor: never the whole file
  });

  it('Q4_0: matrices Q4_0, the head Q8_0; a tied head is the embedding, so the embedding is Q8_0', async () => {
    const untied = typesOf((await run(tiny('llama-untied'), 'base', 'q4_0')).file);
    expect([untied['token_embd.weight'], untied['output.weight'], untied['blk.0.attn_q.weight'], untied['blk.1.ffn_down.weight']]).toEqual(['Q4_0', 'Q8_0', 'Q4_0', 'Q4_0']);
    const tied = await run(tiny('llama-tied'), 'base', 'q4_0');
    expect(typesOf(tied.file)['token_embd.weight']).toBe('Q8_0');
    expect(tied.file.tensors.some((t) => t.name === 'output.weight')).toBe(false);
    expect(tied.file.metadata.get('general.file_type')).toBe(2);
  });

  it('Q8_0 falls back to F16 for rows that are not whole blocks, with a warning', async () => {
    const odd = writeTinyModel(root, 'qwen3', { configOverrides: { intermediate_size: 48 }, dirName: 'qwen3-ff48' });
    const { file, warnings } = await run(odd, 'base', 'q8_0');
    expect(typesOf(file)['blk.0.ffn_down.weight']).toBe('F16');
    expect(typesOf(file)['blk.0.ffn_up.weight']).toBe('Q8_0');
    expect(warnings).toContain('blk.0.ffn_down.weight: rows of 48 values are not whole Q8_0 blocks of 32; written F16');
  });
});

describe('Q4_K_M (llama-quantize\'s mix)', () => {
  it('use_more_bits: the first and last eighth of the layers and every third between', () => {
    const pick = (n: number) => Array.from({ length: n }, (_, i) => i).filter((i) => useMoreBits(i, n));
    expect(pick(2)).toEqual([1]);
    expect(pick(8)).toEqual([0, 3, 6, 7]);
    expect(pick(32)).toEqual([0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]);
  });

  it('hidden 256: Q4_K, attn_v / ffn_down Q6_K where use_more_bits holds, the head Q6_K; blocks as the quantizers write them', async () => {
    const m = writeTinyModel(root, 'llama-untied', { configOverrides: { hidden_size: 256, intermediate_size: 256, head_dim: 64 }, dirName: 'llama-256' });
    const { file, warnings } = await run(m, 'base', 'q4_k_m');
    expect(file.metadata.get('general.file_type')).toBe(15);
    const t = typesOf(file);
    expect([t['token_embd.weight'], t['output.weight'], t['blk.0.attn_q.weight'], t['blk.0.attn_v.weight'], t['blk.1.attn_v.weight'], t['blk.0.ffn_down.weight'], t['blk.1.ffn_down.weight'], t['blk.1.ffn_up.weight'], t['output_norm.weight']])
      .toEqual(['Q4_K', 'Q6_K', 'Q4_K', 'Q4_K', 'Q6_K', 'Q4_K', 'Q6_K', 'Q4_K', 'F32']);
    expect(warnings).toEqual([]);
    // v is not permuted for llama: the file's blocks are the quantizers' of the checkpoint's rows.
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
    expect(same(file.raw('blk.0.attn_v.weight'), quantizeQ4_K(m.weights.get('model.layers.0.self_attn.v_proj.weight')!))).toBe(true);
    expect(same(file.raw('blk.1.ffn_down.weight'), quantizeQ6_K(m.weights.get('model.layers.1.mlp.down_proj.weight')!))).toBe(true);
  });

  it('rows below 256 get llama-quantize\'s fallbacks: Q4_K -> Q5_0, Q6_K -> Q8_0, the head Q8_0, then F16', async () => {
    const { file, warnings } = await run(tiny('llama-untied'), 'base', 'q4_k_m');
    const t = typesOf(file);
    expect([t['token_embd.weight'], t['output.weight'], t['blk.0.attn_v.weight'], t['blk.1.attn_v.weight'], t['blk.0.ffn_down.weight']]).toEqual(['Q5_0', 'Q8_0', 'Q5_0', 'Q8_0', 'Q5_0']);
    expect(warnings).toContain('blk.1.attn_v.weight: rows of 64 values are not whole Q6_K super-blocks of 256; written Q8_0, as llama-quantize does');
    expect(warnings.some((w) => w.startsWith('output.weight'))).toBe(false); // Q8_0 is the mix's own choice for a head of 64
    const odd = await run(writeTinyModel(root, 'qwen3', { configOverrides: { intermediate_size: 48 }, dirName: 'qwen3-ff48-k' }), 'base', 'q4_k_m');
    expect(typesOf(odd.file)['blk.0.ffn_down.weight']).toBe('F16');
    expect(odd.warnings).toContain('blk.0.ffn_down.weight: rows of 48 values are not whole Q4_K super-blocks of 256 or 32-value blocks; written F16');
  });
});

describe('adapter GGUF', () => {
  it('general.type adapter, lora_a [in, r] and lora_b [r, out], lora_b permuted for llama q/k', async () => {
    const m = tiny('llama-untied');
    const { file } = await run(m, 'adapter', 'f32');
    expect(Object.fromEntries([...file.metadata].filter(([k]) => !k.startsWith('general.name') && k !== 'general.file_type' && k !== 'general.quantization_version')))
      .toEqual({ 'general.architecture': 'llama', 'general.type': 'adapter', 'adapter.type': 'lora', 'adapter.lora.alpha': 8 });
    const a = file.tensors.find((t) => t.name === 'blk.1.attn_k.weight.lora_a')!;
    const b = file.tensors.find((t) => t.name === 'blk.1.attn_k.weight.lora_b')!;
    expect([a.dims, b.dims]).toEqual([[64, 4], [4, 32]]);
    const peft = m.adapter.tensors.find((t) => t.path === 'model.layers.1.self_attn.k_proj')!;
    expect([...file.f32(a.name)]).toEqual([...peft.A]);
    expect([...file.f32(b.name)]).toEqual([...permuteQkRows(peft.B, 32, 4, 2)]);
    const v = m.adapter.tensors.find((t) => t.path === 'model.layers.0.self_attn.v_proj')!;
    expect([...file.f32('blk.0.attn_v.weight.lora_b')]).toEqual([...v.B]);
    expect(file.tensors.some((t) => t.name === 'output.weight.lora_a')).toBe(true);
  });

  it('folds PEFT\'s per-module scale (rsLoRA, rank_pattern, alpha_pattern) into lora_b for llama.cpp\'s alpha / r', async () => {
    const m = tiny('qwen2'); // rsLoRA, v_proj r = 2, o_proj alpha = 3
    const { file } = await run(m, 'adapter', 'f32');
    const alpha = file.metadata.get('adapter.lora.alpha') as number;
    for (const t of m.adapter.tensors) {
      const name = ggufModuleWeight(t.path, 'qwen2'); // e.g. blk.0.attn_v.weight
      const B = file.f32(`${name}.lora_b`);
      const r = file.tensors.find((x) => x.name === `${name}.lora_a`)!.dims[1];
      const want = loraScaling(t.r, t.alpha, true);
      B.forEach((v, i) => expect(v * llamaCppLoraScale(alpha, r)).toBeCloseTo(t.B[i] * want, 6));
    }
  });

  it('refuses an lm_head LoRA on a tied head (the base GGUF has no output.weight)', async () => {
    const m = tiny('llama-tied');
    const head = { ...m.adapter.tensors[0], path: 'lm_head', module: 'lm_head' as const, layer: null, inFeatures: 64, outFeatures: 320 };
    head.A = new Float32Array(4 * 64);
    head.B = new Float32Array(320 * 4);
    await expect(run({ ...m, adapter: { ...m.adapter, tensors: [...m.adapter.tensors, head] } }, 'adapter', 'f32')).rejects.toThrow(/export the merged model instead/);
  });
});

describe('merged GGUF', () => {
  it('holds base + scale x B A (F32), and a Modelfile naming it', async () => {
    const m = tiny('qwen2');
    const { file, modelfile } = await run(m, 'merged', 'f32');
    const t = m.adapter.tensors.find((x) => x.path === 'model.layers.1.self_attn.v_proj')!;
    const W = m.weights.get('model.layers.1.self_attn.v_proj.weight')!;
    const got = file.f32('blk.1.attn_v.weight');
    const s = loraScaling(t.r, t.alpha, true);
    for (let o = 0; o < t.outFeatures; o += 7) {
      for (let i = 0; i < t.inFeatures; i += 5) {
        let d = 0;
        for (let k = 0; k < t.r; k++) d += t.B[o * t.r + k] * t.A[k * t.inFeatures + i];
        expect(got[o * t.inFeatures + i]).toBeCloseTo(W[o * t.inFeatures + i] + s * d, 5);
      }
    }
    expect(typesOf(file)['blk.1.attn_v.bias']).toBe('F32');
    expect(modelfile).toContain('FROM ./merged.gguf');
    expect(modelfile).not.toContain('ADAPTER');
  });

  it('an adapter export\'s Modelfile names the base GGUF and the adapter', async () => {
    const { modelfile } = await run(tiny('llama-tied'), 'adapter', 'f16');
    expect(modelfile).toMatch(/FROM \.\/base-f16\.gguf\nADAPTER \.\/adapter\.gguf/);
  });
});
