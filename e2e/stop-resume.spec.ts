/**
 * Stop and save with the default settings: the status says "stopped", nothing is left of the
 * run's progress (no phase bar, no ETA), the dashboard says where it stopped and what the
 * validation loss came to, Runs shows the stopped run's best validation loss; the stopped run
 * resumes from its checkpoint to the end.
 */
import { expect, test, type Page } from '@playwright/test';
import type { RunRecord } from '../src/worker/api';
import { openStudio } from './helpers';

test.describe.configure({ timeout: 300_000 });

const runs = (page: Page) => page.evaluate(() => (globalThis as unknown as { __studio: { listRuns(): Promise<RunRecord[]> } }).__studio.listRuns());

test('stop and save, read the outcome, resume the stopped run to the end', async ({ page }) => {
  await openStudio(page);
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  // Past the first validation (step 20) and the first checkpoint.
  await expect.poll(async () => (await runs(page))[0]?.pointCount ?? 0, { timeout: 120_000, intervals: [250] }).toBeGreaterThanOrEqual(22);
  await page.getByRole('button', { name: 'Stop and save' }).click();

  await expect(page.getByTestId('run-status')).toHaveText('stopped', { timeout: 60_000 });
  const outcome = page.getByTestId('run-outcome');
  await expect(outcome).toContainText(/^Stopped after step \d+ of 100: validation loss \d+\.\d+ → \d+\.\d+/);
  const stoppedAt = Number(/step (\d+)/.exec((await outcome.textContent())!)![1]);
  await expect(page.getByRole('progressbar')).toHaveCount(1); // progress only: no "Saving the adapter" left behind
  await expect(page.getByText(/ETA/)).toHaveCount(0);
  await page.waitForTimeout(1500); // late events change nothing
  await expect(page.getByRole('progressbar')).toHaveCount(1);
  await expect(page.getByTestId('run-status')).toHaveText('stopped');

  await page.getByRole('tab', { name: 'Runs' }).click();
  const row = page.getByTestId('run-row').first();
  await expect(row).toContainText('stopped');
  // The best validation loss, with its step: an evaluation step (every 10) no later than the stop.
  const best = /\d\.\d{4} \(step (\d+)\)/.exec((await row.textContent()) ?? '');
  expect(best, 'best validation loss with its step').not.toBeNull();
  const bestStep = Number(best![1]);
  expect(bestStep % 10 === 0 && bestStep >= 10 && bestStep <= stoppedAt).toBe(true);
  await expect(row).toContainText(`${stoppedAt} / 100`);
  await expect(row.getByRole('button', { name: new RegExp(`^Resume .* from step ${stoppedAt}$`) })).toBeEnabled();

  await page.getByRole('tab', { name: 'Train' }).click();
  await page.getByRole('button', { name: `Resume from step ${stoppedAt}` }).click();
  await expect(page.getByTestId('run-status')).toHaveText(/training|done/, { timeout: 60_000 });
  await expect(page.getByTestId('run-status')).toHaveText('done', { timeout: 180_000 });
  await expect(page.getByTestId('run-outcome')).toContainText(/^Done: validation loss \d+\.\d+ → \d+\.\d+/);
  const [after] = await runs(page);
  expect(after.status).toBe('completed');
  expect(after.final?.steps).toBe(100);
  expect(after.baseValLoss).toBeGreaterThan(0);
  await page.getByRole('tab', { name: 'Runs' }).click();
  await expect(page.getByTestId('run-row').first()).toContainText('completed');
  await expect(page.getByTestId('run-row').first().getByRole('button', { name: /^Resume/ })).toHaveCount(0);
});
