/**
 * A model from a Hugging Face repo, through a local stand-in for the Hub (no internet): per-file
 * progress, then the model in the studio; after a reload the second load comes from the browser's
 * cache without a single request.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { HubServer } from '../tests/helpers/hub-server';
import { DEMO_DIR } from './helpers';

const FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'];

test('loads a repo from the Hub (stand-in) with progress, then from the cache', async ({ page }) => {
  const hub = await new HubServer({
    'studio/tiny-demo': { files: Object.fromEntries(FILES.map((f) => [f, new Uint8Array(readFileSync(join(DEMO_DIR, f)))])) },
  }).start();
  try {
    const load = async () => {
      await page.locator('label', { hasText: 'Hugging Face repo' }).click();
      await page.getByLabel('Repo id').fill('studio/tiny-demo');
      await page.getByLabel('Hub address').fill(hub.url);
      await page.getByRole('button', { name: 'Load model' }).click();
      await expect(page.getByTestId('model-info')).toContainText('studio/tiny-demo', { timeout: 60_000 });
    };
    await page.goto('/');
    await expect(page.getByTestId('model-info')).toContainText('studio-demo', { timeout: 60_000 });
    await load();
    await expect(page.getByRole('progressbar', { name: 'model.safetensors' })).toHaveAttribute('aria-valuenow', '100');
    expect(hub.requests.some((r) => r.path.includes('model.safetensors') || r.path.startsWith('/cdn/'))).toBe(true);

    const before = hub.requests.length;
    await page.reload();
    await expect(page.getByTestId('model-info')).toContainText('studio-demo', { timeout: 60_000 });
    await load();
    expect(hub.requests.slice(before)).toEqual([]);
    await expect(page.locator('.progress-list')).toContainText('from the cache');
  } finally {
    await hub.close();
  }
});
