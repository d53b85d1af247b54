/**
 * Taking a finetune out of the studio, on the demo model: after a short run, the merged download is
 * one zip with every file from_pretrained needs and a message saying what is inside and how to load
 * it; the adapter GGUF is a GGUF v3 LoRA adapter for llama.cpp with its Ollama Modelfile; the run
 * downloads as Axolotl files (a YAML config with the run's settings, the dataset as JSONL).
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Download, type Page } from '@playwright/test';
import { strFromU8, unzipSync } from 'fflate';
import { parse } from 'yaml';
import { readGguf } from '../src/io/gguf';
import { openStudio, trainOnce, withRunSettings } from './helpers';

test.describe.configure({ timeout: 300_000 });

/** Click `button` and return the file it downloads. */
async function download(page: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Uint8Array }> {
  const pending: Promise<Download> = page.waitForEvent('download', { timeout: 120_000 });
  await click();
  const d = await pending;
  return { name: d.suggestedFilename(), bytes: new Uint8Array(readFileSync((await d.path())!)) };
}

test('merged zip, adapter GGUF with its Modelfile, Axolotl files of the run', async ({ page }) => {
  await withRunSettings(page, { maxSteps: 4, evalEvery: 2, warmupSteps: 1, schedule: 'warmup-cosine', rank: 4, alpha: 8 });
  await openStudio(page);
  await trainOnce(page);
  await page.getByRole('tab', { name: 'Adapters' }).click();
  const row = page.getByTestId('adapter-row').first();
  await expect(row).toBeVisible();
  const adapterName = (await row.getByTestId('adapter-name').locator('.name').textContent())!;

  await test.step('the merged download is a zip that from_pretrained loads, with a message saying so', async () => {
    await page.getByRole('checkbox', { name: `Merge ${adapterName}` }).check();
    const zip = await download(page, () => page.getByRole('button', { name: /^Merge 1 and download/ }).click());
    expect(zip.name).toMatch(/-merged\.zip$/);
    const files = unzipSync(zip.bytes);
    expect(Object.keys(files)).toEqual(['README.md', 'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors']);
    expect(JSON.parse(strFromU8(files['config.json']))).toMatchObject({ model_type: 'llama', torch_dtype: 'float16' });
    expect(JSON.parse(strFromU8(files['tokenizer_config.json'])).chat_template).toContain('A: ');
    const readme = strFromU8(files['README.md']);
    expect(parse(/^---\n([\s\S]*?)\n---\n/.exec(readme)![1])).toMatchObject({ base_model: 'studio-demo', library_name: 'transformers' });
    expect(readme).toContain('| Validation loss of the base model (step 0) |');
    const message = page.getByRole('status').filter({ hasText: 'Merged 1 adapter' });
    await expect(message).toContainText(`downloaded ${zip.name}`);
    await expect(message).toContainText('model.safetensors (F16), README.md, config.json, generation_config.json, tokenizer.json');
    await expect(message).toContainText('AutoModelForCausalLM.from_pretrained(');
  });

  await test.step('the adapter GGUF is a llama.cpp LoRA adapter, with progress and its Modelfile', async () => {
    await page.getByLabel('Export', { exact: true }).selectOption('adapter');
    await page.getByLabel('Type', { exact: true }).selectOption('f16');
    const file = await download(page, () => page.getByRole('button', { name: 'Download GGUF' }).click());
    expect(file.name).toMatch(/-lora-f16\.gguf$/);
    expect(strFromU8(file.bytes.subarray(0, 4))).toBe('GGUF');
    const gguf = readGguf(file.bytes);
    expect(gguf.version).toBe(3);
    expect([gguf.metadata.get('general.architecture'), gguf.metadata.get('general.type'), gguf.metadata.get('adapter.type'), gguf.metadata.get('adapter.lora.alpha')]).toEqual(['llama', 'adapter', 'lora', 8]);
    expect(gguf.tensors.map((t) => t.name)).toContain('blk.0.attn_q.weight.lora_a');
    expect(gguf.tensors.every((t) => t.type === 'F16')).toBe(true);
    await expect(page.getByRole('status').filter({ hasText: `Downloaded ${file.name}` })).toContainText('ollama create');
    const modelfile = await download(page, () => page.getByRole('button', { name: /^Download Modelfile/ }).click());
    expect(modelfile.name).toBe(file.name.replace(/\.gguf$/, '.Modelfile'));
    expect(strFromU8(modelfile.bytes)).toContain(`ADAPTER ./${file.name}`);
  });

  await test.step('the run as Axolotl files: its settings in the YAML, its dataset as JSONL', async () => {
    await page.getByRole('tab', { name: 'Runs' }).click();
    await page.getByLabel('Trainer', { exact: true }).selectOption('axolotl');
    const zip = await download(page, () => page.getByRole('button', { name: 'Download trainer files' }).click());
    expect(zip.name).toMatch(/-axolotl\.zip$/);
    const files = unzipSync(zip.bytes);
    expect(Object.keys(files).sort()).toEqual(['README.md', 'axolotl.yaml', 'data/train.jsonl', 'data/validation.jsonl']);
    const yaml = parse(strFromU8(files['axolotl.yaml'])) as Record<string, unknown>;
    expect(yaml).toMatchObject({ base_model: 'studio-demo', adapter: 'lora', lora_r: 4, lora_alpha: 8, max_steps: 4, warmup_steps: 1 });
    expect(strFromU8(files['data/train.jsonl']).trim().split('\n').length).toBeGreaterThan(100);
    await expect(page.getByTestId('trainer-export-message')).toContainText('axolotl');
  });
});
