/** The Storage tab: the four categories with sizes, an adapter listed and deleted by keyboard, persistence shown. */
import { expect, test } from '@playwright/test';
import { drawnPoints, keyboardTab, openStudio, tabTo, unlabelledControls } from './helpers';

test('the Storage tab lists what the studio keeps and deletes an item', async ({ page }) => {
  await openStudio(page);
  // Something to store: a short run saves a run record and an adapter.
  await page.getByRole('tab', { name: 'Configure' }).click();
  await page.getByRole('radio', { name: 'steps' }).check();
  await page.getByLabel('Max steps').fill('6');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect.poll(() => drawnPoints(page.getByTestId('loss-chart')), { timeout: 120_000 }).toBeGreaterThanOrEqual(1);
  await expect(page.getByTestId('run-status')).toHaveText('done', { timeout: 120_000 });

  await keyboardTab(page, 'Storage');
  for (const [id, label] of [['models', 'Cached models'], ['adapters', 'Adapters'], ['checkpoints', 'Checkpoints'], ['runs', 'Runs']]) {
    await expect(page.getByTestId(`storage-${id}`).getByRole('heading')).toContainText(new RegExp(`^${label}: \\d`));
  }
  await expect(page.getByTestId('quota')).toContainText(/This site uses .* of the .* the browser allows/);
  await expect(page.getByTestId('persisted')).toContainText(/Persistent storage: (granted|not granted)/);
  const adapters = page.getByTestId('storage-adapters');
  await expect(adapters.getByTestId('storage-item')).toHaveCount(1);
  await expect(adapters.getByRole('heading')).not.toContainText(': 0 B');
  expect(await unlabelledControls(page)).toEqual([]);

  // Delete the adapter with the keyboard only.
  page.once('dialog', (d) => void d.accept());
  const del = adapters.getByRole('button', { name: /^Delete adapters item / });
  await tabTo(page, del);
  await page.keyboard.press('Enter');
  await expect(adapters.getByTestId('storage-item')).toHaveCount(0);
  await expect(adapters.getByRole('heading')).toHaveText('Adapters: 0 B');
  await page.getByRole('tab', { name: 'Adapters' }).click();
  await expect(page.getByTestId('adapter-row')).toHaveCount(0);
});
