/**
 * Full finetuning in the studio, on the demo: Method = Full finetuning in Configure, a short run,
 * tried in the playground (its own weights beside the base model's, on a held-out example), the
 * model listed under "Fully finetuned models" (not as an adapter), and its download: one zip
 * with every file from_pretrained needs (model.safetensors in F32, config.json, generation config,
 * tokenizer files, model card), its evaluation against the base model on a bundled task, and its
 * GGUF (Q8_0) with the Ollama Modelfile.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { strFromU8, unzipSync } from 'fflate';
import { readGguf } from '../src/io/gguf';
import { bytesSource, openSafetensors } from '../src/io/safetensors';
import { DEMO_DIR, openStudio, trainOnce, watchProblems, withRunSettings } from './helpers';

test.describe.configure({ timeout: 180_000 });

test('a full finetuning run keeps its model in the library and downloads it as a Hugging Face folder', async ({ page }) => {
  const watch = watchProblems(page);
  await withRunSettings(page, { basePrecision: 'f32', maxSteps: 10, evalEvery: 5, schedule: 'constant', warmupSteps: 0, learningRate: 1e-3 });
  await openStudio(page);
  await page.getByRole('tab', { name: 'Configure' }).click();
  await page.getByRole('combobox', { name: 'Method', exact: true }).selectOption('full');
  await trainOnce(page);
  await expect(page.getByTestId('run-done')).toContainText('Fully finetuned models');

  // Tried in the playground: the finetuned model chosen in place of an adapter, on a held-out example.
  await page.getByTestId('run-done').getByRole('button', { name: 'Try it in the playground' }).click();
  await expect(page.getByRole('tab', { name: 'Playground' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByLabel('Adapter', { exact: true }).locator('option:checked')).toHaveText(/full adamw lr 1e-3 f32$/);
  await expect(page.getByTestId('expected-answer')).toBeVisible();
  await page.getByLabel('Max new tokens', { exact: true }).fill('8');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('output-adapter')).toContainText(/Finetuned model .*full adamw lr 1e-3 f32/);
  await expect(page.getByTestId('output-adapter')).toContainText('tokens', { timeout: 60_000 });
  await expect(page.getByTestId('output-adapter-verdict')).toBeVisible();
  await expect(page.getByTestId('output-base-verdict')).toBeVisible();

  await page.getByRole('tab', { name: 'Adapters' }).click();
  const row = page.getByTestId('full-model-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('full adamw lr 1e-3 f32');
  await expect(row).toContainText('studio-demo');
  await expect(page.getByTestId('adapter-row')).toHaveCount(0); // no LoRA adapter was saved

  const pending = page.waitForEvent('download', { timeout: 60_000 });
  await row.getByRole('button', { name: /^Download \(zip\)/ }).click();
  const d = await pending;
  expect(d.suggestedFilename()).toMatch(/full_adamw_lr_1e-3_f32\.zip$/);
  const files = unzipSync(new Uint8Array(readFileSync((await d.path())!)));
  expect(Object.keys(files)).toEqual(['README.md', 'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors']);
  expect(JSON.parse(strFromU8(files['config.json']))).toMatchObject({ model_type: 'llama', torch_dtype: 'float32' });
  const weights = await openSafetensors(bytesSource(files['model.safetensors']));
  const demo = await openSafetensors(bytesSource(new Uint8Array(readFileSync(`${DEMO_DIR}/model.safetensors`))));
  expect(weights.names().sort()).toEqual(demo.names().sort());
  expect(await weights.readF32('model.layers.0.mlp.down_proj.weight')).not.toEqual(await demo.readF32('model.layers.0.mlp.down_proj.weight'));
  expect(strFromU8(files['README.md'])).toContain('A full finetune of `studio-demo`');
  await expect(page.getByTestId('full-model-message')).toContainText('AutoModelForCausalLM.from_pretrained(');

  // Scored against the base model on a bundled task, its weights in place of the base's.
  const panel = page.getByTestId('evaluate-panel');
  await panel.getByLabel('Task', { exact: true }).selectOption('demo-tell-ask-shout-mc.jsonl');
  const modelName = (await row.getByTestId('full-model-name').locator('.name').textContent())!;
  await panel.getByLabel('Adapter to evaluate', { exact: true }).selectOption({ label: modelName });
  await panel.getByRole('button', { name: 'Evaluate' }).click();
  await expect(panel.getByTestId('eval-results')).toBeVisible({ timeout: 60_000 });
  await expect(panel.getByTestId('eval-results').locator('thead')).toContainText(`finetuned model ${modelName}`);
  for (const who of ['base', 'full']) await expect(panel.getByTestId(`eval-n-${who}`)).toHaveText('30');
  await expect(row.getByRole('button', { name: `Try ${modelName} in the playground` })).toBeEnabled();

  // The model itself as one GGUF (Q8_0), with its Ollama Modelfile.
  const gguf = page.getByTestId('full-model-gguf');
  await gguf.getByLabel('Type', { exact: true }).selectOption('q8_0');
  const pendingGguf = page.waitForEvent('download', { timeout: 60_000 });
  await gguf.getByRole('button', { name: 'Download GGUF' }).click();
  const g = await pendingGguf;
  expect(g.suggestedFilename()).toMatch(/full_adamw_lr_1e-3_f32-q8_0\.gguf$/);
  const ggufBytes = new Uint8Array(readFileSync((await g.path())!));
  const f32Bytes = files['model.safetensors'].byteLength;
  expect(ggufBytes.byteLength).toBeGreaterThan(f32Bytes / 5); // about 8.5 bits per weight, plus the vocabulary
  expect(ggufBytes.byteLength).toBeLessThan(f32Bytes / 2);
  expect(readGguf(ggufBytes).metadata.get('general.file_type')).toBe(7); // MOSTLY_Q8_0
  await expect(page.getByTestId('full-model-message')).toContainText('ollama create');
  const pendingModelfile = page.waitForEvent('download');
  await gguf.getByRole('button', { name: /^Download Modelfile/ }).click();
  const mf = await pendingModelfile;
  expect(mf.suggestedFilename()).toMatch(/-q8_0\.Modelfile$/);
  expect(readFileSync((await mf.path())!, 'utf8')).toMatch(/^FROM \.\/.*-q8_0\.gguf$/m);
  expect(watch.problems).toEqual([]);
});
