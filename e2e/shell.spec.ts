import { expect, test } from '@playwright/test';

test('the studio opens and finds a WebGPU adapter', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'WebGPU Finetuning Studio' })).toBeVisible();
  await expect(page.getByTestId('adapter-info')).toContainText('GPU:');
});

test('without WebGPU the page says what is missing instead of crashing', async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined });
  });
  await page.goto('/');
  await expect(page.getByRole('alert')).toContainText('WebGPU is not available');
  await expect(page.getByRole('alert')).toContainText('Chrome');
});
