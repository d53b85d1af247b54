import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainDataset } from '../../src/model/synthetic';
import { startHubServer, type HubServer } from '../helpers/hub-server';
import { configJsonOf, tinyHfModel, writeModelDir } from './model-fixture';

const tmp = mkdtempSync(join(tmpdir(), 'model-cli-'));
const model = tinyHfModel({ shards: 2, llama3Rope: true });
const dir = writeModelDir(join(tmp, 'tiny'), model.files);
let hub: HubServer;
beforeAll(async () => {
  hub = await startHubServer({ 'org/tiny': { files: model.files } });
});
afterAll(async () => {
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '-s', 'cli', '--', ...args], { timeout: 240_000, env: { ...process.env, HF_HUB_OFFLINE: '', HF_TOKEN: '', ...env } }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out: stdout, err: stderr });
    });
  });
}

describe('npm run cli -- inspect', () => {
  it('prints a JSON summary of a folder: architecture, sizes, parameters, dtypes, tokenizer', async () => {
    const r = await cli(['inspect', '--model', dir]);
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    const params = [...model.weights.values()].reduce((a, w) => a + w.length, 0);
    expect(s).toMatchObject({
      architecture: 'LlamaForCausalLM', parameters: params, tensors: model.weights.size,
      sizes: { hidden_size: 32, num_hidden_layers: 2, vocab_size: 67 },
      tokenizer: { vocab_size: 49, special_tokens: { eos: { content: '</s>', id: 2 } } },
    });
    expect(Object.keys(s.dtypes).sort()).toEqual(['BF16', 'F16', 'F32']);
  });

  it('inspects hf:org/name at HF_ENDPOINT from the headers, without downloading the weights', async () => {
    hub.reset();
    const cache = join(tmp, 'hf-cache-inspect');
    const r = await cli(['inspect', '--model', 'hf:org/tiny'], { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache });
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ name: 'org/tiny', source: 'hf:org/tiny', parameters: [...model.weights.values()].reduce((a, w) => a + w.length, 0) });
    const weightBytes = Object.entries(model.files).filter(([k]) => k.endsWith('.safetensors')).reduce((a, [, v]) => a + (v as Uint8Array).byteLength, 0);
    expect(hub.bytesServed).toBeLessThan(weightBytes / 2);
    const blobs = readdirSync(join(cache, 'models--org--tiny', 'blobs'));
    expect(blobs.length).toBe(4); // config, index, tokenizer.json, tokenizer_config.json: no shard
  });

  it.each([
    ['a folder that does not exist', ['--model', join(tmp, 'nope')], {}, /folder does not exist; give a model folder/],
    ['an unsupported architecture', ['--model', writeModelDir(join(tmp, 'neox'), { ...model.files, 'config.json': JSON.stringify({ ...configJsonOf(), architectures: ['GPTNeoXForCausalLM'], model_type: 'gpt_neox' }) })], {}, /ModelConfigError: config.json: architecture "GPTNeoXForCausalLM" \(model_type "gpt_neox"\) is not supported; supported: LlamaForCausalLM/],
    ['a model without tokenizer.json', ['--model', writeModelDir(join(tmp, 'notok'), Object.fromEntries(Object.entries(model.files).filter(([k]) => k !== 'tokenizer.json')))], {}, /BadFileError: .*notok\/tokenizer.json: file is missing/],
    ['a repo that does not exist', ['--model', 'hf:org/missing'], {}, /HubError: hf:org\/missing: not found on http:\/\/127/],
    ['a malformed repo id', ['--model', 'hf:a/b/c'], {}, /HubError: "a\/b\/c" is not a Hugging Face model id/],
    ['no --model', [], {}, /--model is required/],
  ])('exits 2 on %s', async (_, args, env, message) => {
    const r = await cli(['inspect', ...args], { HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(tmp, 'hf-cache-err'), ...env });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });
});

describe('npm run cli -- train --model hf:org/name', () => {
  it('downloads the model once; the second run makes no request to the hub', async () => {
    const data = join(tmp, 'train.jsonl');
    writeFileSync(data, chainDataset(67, 16, 9).map((e) => JSON.stringify({ tokens: e.ids })).join('\n'));
    const config = join(tmp, 'run.json');
    writeFileSync(config, JSON.stringify({ maxSeqLen: 8, microBatch: 4, maxSteps: 2, logEvery: 1, targets: ['query'], rank: 2, alpha: 4, basePrecision: 'nf4' }));
    const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(tmp, 'hf-cache-train') };
    hub.reset();
    const first = await cli(['train', '--model', 'hf:org/tiny', '--data', data, '--config', config, '--out', join(tmp, 'out1')], env);
    expect(first.code, first.out + first.err).toBe(0);
    expect(first.err).toMatch(/downloaded   model-00001-of-00002.safetensors/);
    expect(hub.count).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(tmp, 'out1', 'adapter_config.json'), 'utf8')).base_model_name_or_path).toBe('org/tiny');

    hub.reset();
    const second = await cli(['train', '--model', 'hf:org/tiny', '--data', data, '--config', config, '--out', join(tmp, 'out2')], env);
    expect(second.code, second.out + second.err).toBe(0);
    expect(second.err).toMatch(/cached       model-00002-of-00002.safetensors/);
    expect(hub.requests).toEqual([]);
    expect(existsSync(join(tmp, 'out2', 'adapter_model.safetensors'))).toBe(true);
  });

  it('refuses maxSeqLen beyond max_position_embeddings before touching the GPU', async () => {
    const data = join(tmp, 'train2.jsonl');
    writeFileSync(data, '{"tokens": [1, 2, 3]}\n');
    const config = join(tmp, 'run2.json');
    writeFileSync(config, JSON.stringify({ maxSeqLen: 128 }));
    const r = await cli(['train', '--model', dir, '--data', data, '--config', config, '--out', join(tmp, 'never')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/maxSeqLen 128 is longer than the model's max_position_embeddings \(64\)/);
  });
});
