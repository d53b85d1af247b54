/**
 * The studio remembers what you loaded: a Hub repo (with its address) and a dataset file are
 * offered after a reload and load again in one click, the repo from this browser's cache without
 * a single request, the dataset with the options it was read with. The Hub fields are filled in
 * again; an access token is kept only when "Remember the token" is checked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { HubServer } from '../tests/helpers/hub-server';
import { DEMO_DIR } from './helpers';

const FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'];
const REPO = 'studio/remembered-demo';
const TOKEN = 'hf_not_for_storage_0123456789';

/** Every value in the studio's IndexedDB databases, as text (to look for a token). */
function storedText(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const out: string[] = [];
    for (const { name } of await indexedDB.databases()) {
      if (!name) continue;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      for (const store of [...db.objectStoreNames]) {
        const values = await new Promise<unknown[]>((resolve, reject) => {
          const r = db.transaction(store).objectStore(store).getAll();
          r.onsuccess = () => resolve(r.result);
          r.onerror = () => reject(r.error);
        });
        out.push(JSON.stringify(values));
      }
      db.close();
    }
    return out.join('\n') + JSON.stringify({ ...localStorage });
  });
}

test('a Hub repo and a dataset are offered after a reload and load again from the cache in one click', async ({ page }) => {
  const hub = await new HubServer({
    [REPO]: { files: Object.fromEntries(FILES.map((f) => [f, new Uint8Array(readFileSync(join(DEMO_DIR, f)))])) },
  }).start();
  try {
    await page.goto('/');
    await expect(page.getByTestId('dataset-info')).toContainText('dataset.jsonl', { timeout: 60_000 });
    // What the studio loads by itself (the demo) is not offered back.
    await expect(page.getByTestId('last-loaded')).toHaveCount(0);

    await page.locator('label', { hasText: 'Hugging Face repo' }).click();
    await page.getByLabel('Repo id').fill(REPO);
    await page.getByLabel('Access token (gated models)').fill(TOKEN); // the stand-in repo is open: the token is sent, not needed
    await page.getByLabel('Hub address').fill(hub.url);
    await page.getByRole('button', { name: 'Load model' }).click();
    await expect(page.getByTestId('model-info')).toContainText(REPO, { timeout: 60_000 });
    const lines = Array.from({ length: 24 }, (_, i) => JSON.stringify({ instruction: `Say ${i}.`, input: '', output: `${i}.` }));
    await page.getByLabel('Dataset file', { exact: true }).setInputFiles({ name: 'mine.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(lines.join('\n') + '\n') });
    await expect(page.getByTestId('dataset-info')).toContainText('mine.jsonl');
    await page.getByLabel('Validation share').selectOption('0.2');
    await expect(page.getByTestId('dataset-info')).toContainText(/\(\d+ train, [1-9]\d* validation\)/);
    const split = /\(\d+ train, \d+ validation\)/.exec((await page.getByTestId('dataset-info').textContent()) ?? '')![0];
    expect(await storedText(page)).not.toContain(TOKEN);

    await page.reload();
    await expect(page.getByTestId('dataset-info')).toContainText('dataset.jsonl', { timeout: 60_000 });
    const offer = page.getByTestId('last-loaded');
    await expect(offer).toContainText(REPO);
    await expect(offer).toContainText("in this browser's cache");
    await expect(offer).toContainText('mine.jsonl');
    const before = hub.requests.length;
    await offer.getByRole('button', { name: 'Load them again' }).click();
    await expect(page.getByTestId('model-info')).toContainText(REPO, { timeout: 60_000 });
    await expect(page.getByTestId('dataset-info')).toContainText('mine.jsonl');
    await expect(page.getByTestId('dataset-info')).toContainText(split); // with the validation share it was read with
    expect(hub.requests.slice(before), 'loading the remembered repo asks the Hub for nothing').toEqual([]);
    await expect(page.getByTestId('last-loaded')).toHaveCount(0);
    // The Hub fields are filled in again, without the token.
    await expect(page.getByLabel('Repo id')).toHaveValue(REPO);
    await expect(page.getByLabel('Hub address')).toHaveValue(hub.url);
    await expect(page.getByLabel('Access token (gated models)')).toHaveValue('');

    // Asked to, the token is kept and filled in after a reload.
    await page.getByLabel('Access token (gated models)').fill(TOKEN);
    await page.getByLabel('Remember the token in this browser').check();
    await page.getByRole('button', { name: 'Load model' }).click();
    await expect(page.locator('.progress-list')).toContainText('from the cache', { timeout: 60_000 });
    await expect(page.getByRole('button', { name: 'Load model' })).toBeEnabled();
    await page.reload();
    await page.locator('label', { hasText: 'Hugging Face repo' }).click();
    await expect(page.getByLabel('Access token (gated models)')).toHaveValue(TOKEN);
    await expect(page.getByLabel('Remember the token in this browser')).toBeChecked();
  } finally {
    await hub.close();
  }
});
