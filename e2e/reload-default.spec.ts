/**
 * A reload during a run with the default settings: checkpoints are saved every 10 steps by
 * default, so the studio offers to resume after the reload, Runs shows the interrupted run with
 * its logged steps and figures, and resuming finishes it.
 */
import { expect, test, type Page } from '@playwright/test';
import type { RunRecord } from '../src/worker/api';
import { openStudio } from './helpers';

test.describe.configure({ timeout: 300_000 });

const runs = (page: Page) => page.evaluate(() => (globalThis as unknown as { __studio: { listRuns(): Promise<RunRecord[]> } }).__studio.listRuns());

test('reload mid-run with the default settings: resume is offered, Runs shows the steps logged', async ({ page }) => {
  await openStudio(page);
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByTestId('checkpoint-status')).toContainText(/Checkpoint saved after step (10|20|30|40|50|60|70|80|90)/, { timeout: 120_000 });
  await expect.poll(async () => (await runs(page))[0]?.pointCount ?? 0, { timeout: 60_000, intervals: [250] }).toBeGreaterThanOrEqual(22); // past the first evaluation (every 20 steps)
  await page.reload();
  await openStudio(page);

  const banner = page.getByTestId('resume-banner');
  await expect(banner).toBeVisible({ timeout: 30_000 });
  const resume = banner.getByRole('button', { name: /^Resume Run \d+ · r16 α32 .+ f32 from step (10|20|30|40|50|60|70|80|90)$/ });
  await expect(resume).toBeEnabled();

  await page.getByRole('tab', { name: 'Runs' }).click();
  const row = page.getByTestId('run-row').first();
  await expect(row).toContainText('interrupted');
  await expect(row).toContainText(/(2[2-9]|[3-9]\d) \/ 100/); // its logged steps
  await expect(row).toContainText(/\d\.\d{4} \(step \d+\)/); // and its best validation loss so far
  await expect(row.getByRole('button', { name: /^Resume/ })).toBeEnabled();

  await resume.click();
  await expect(page.getByTestId('run-status')).toHaveText('done', { timeout: 180_000 });
  await expect(page.getByTestId('run-outcome')).toContainText(/validation loss \d+\.\d+ → \d+\.\d+/);
});
