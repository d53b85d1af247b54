/**
 * The README's screenshots, as a new user sees the studio: Configure with the defaults, the Train
 * dashboard after a default run (its outcome in words), and Runs comparing that run's curves.
 */
import { expect, test } from '@playwright/test';
import { openStudio } from './helpers';

const SHOTS = 'docs/screenshots';

test.describe.configure({ timeout: 300_000 });

test('README screenshots: Configure, Train after a run, Runs', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 1000 });
  await openStudio(page);
  await page.getByRole('tab', { name: 'Configure' }).click();
  await expect(page.getByTestId('trainable-params')).not.toBeEmpty();
  await page.screenshot({ path: `${SHOTS}/configure.png`, fullPage: true });

  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByTestId('run-done')).toBeVisible({ timeout: 240_000 });
  await page.waitForTimeout(500); // the charts' last redraw
  await page.screenshot({ path: `${SHOTS}/dashboard.png`, fullPage: true });

  await page.getByRole('tab', { name: 'Runs' }).click();
  await page.getByRole('checkbox', { name: /^Compare Run/ }).first().check();
  await expect(page.getByTestId('compare-table')).toBeVisible();
  await page.waitForTimeout(500);
  await page.screenshot({ path: `${SHOTS}/runs.png`, fullPage: true });
});
