/**
 * The model panel says which families the studio trains before a person types a repo id, and a repo
 * of another architecture is refused with the closest supported one named (through a local stand-in
 * for the Hub: no internet).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { SUPPORTED_ARCHITECTURES } from '../src/config/architectures';
import { HubServer } from '../tests/helpers/hub-server';
import { DEMO_DIR, openStudio } from './helpers';

const demoFile = (f: string) => new Uint8Array(readFileSync(join(DEMO_DIR, f)));

test('lists the supported families under the repo field; a MoE repo is refused naming the closest', async ({ page }) => {
  // The demo's files with a Qwen3-MoE config.json (its sizes kept: the refusal comes first).
  const config = { ...JSON.parse(readFileSync(join(DEMO_DIR, 'config.json'), 'utf8')), architectures: ['Qwen3MoeForCausalLM'], model_type: 'qwen3_moe' };
  const hub = await new HubServer({
    'org/moe': { files: { 'config.json': JSON.stringify(config), ...Object.fromEntries(['tokenizer.json', 'tokenizer_config.json', 'model.safetensors'].map((f) => [f, demoFile(f)])) } },
  }).start();
  try {
    await page.setViewportSize({ width: 1280, height: 900 });
    await openStudio(page);
    const panel = page.getByRole('region', { name: 'Base model' });
    await expect(panel.getByTestId('supported-models')).toHaveCount(0); // the demo needs no list
    await page.locator('label', { hasText: 'Hugging Face repo' }).click();
    await expect(page.getByLabel('Repo id')).toHaveValue('');
    const list = panel.getByTestId('supported-models');
    await expect(list).toBeVisible();
    for (const a of SUPPORTED_ARCHITECTURES) {
      await expect(list.getByText(a.architecture, { exact: true })).toBeVisible();
      await expect(list.getByText(a.knownAs, { exact: true })).toBeVisible();
    }
    await panel.screenshot({ path: test.info().outputPath('model-panel-supported.png') });

    await page.getByLabel('Repo id').fill('org/moe');
    await page.getByLabel('Hub address').fill(hub.url);
    await page.getByRole('button', { name: 'Load model' }).click();
    const error = page.getByTestId('model-error');
    await expect(error).toContainText('architecture "Qwen3MoeForCausalLM" (model_type "qwen3_moe") is not supported', { timeout: 60_000 });
    await expect(error).toContainText('the closest supported is Qwen3ForCausalLM (Qwen3 (dense))');
    await panel.screenshot({ path: test.info().outputPath('model-panel-refused.png') });
  } finally {
    await hub.close();
  }
});
