/** Two tabs of one browser: one trains, the other is refused with the reason and sees the run read-only. */
import { expect, test } from '@playwright/test';
import { drawnPoints, openStudio } from './helpers';

test('a second tab cannot train while the first does, and watches its run read-only', async ({ context }) => {
  const first = await context.newPage();
  const second = await context.newPage();
  await openStudio(first);
  await openStudio(second);

  await first.getByRole('tab', { name: 'Configure' }).click();
  await first.getByRole('radio', { name: 'steps' }).check();
  await first.getByLabel('Max steps').fill('400');
  await first.getByRole('button', { name: 'Train', exact: true }).click();
  await expect.poll(() => drawnPoints(first.getByTestId('loss-chart')), { timeout: 120_000 }).toBeGreaterThanOrEqual(2);

  // The second tab sees the run live, read-only.
  const banner = second.getByTestId('other-tab-banner');
  await expect(banner).toContainText('Training in another tab — this view is read-only', { timeout: 30_000 });
  await expect(banner).toContainText(/step \d+ of 400, loss \d/);
  await expect.poll(() => drawnPoints(second.getByTestId('other-tab-loss')), { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
  await expect(first.getByTestId('other-tab-banner')).toBeHidden(); // the training tab hears its own run, and ignores it

  // Training there is refused with the reason.
  await second.getByRole('tab', { name: 'Configure' }).click();
  await second.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(second.getByTestId('run-error')).toContainText('another tab of this studio is training', { timeout: 30_000 });
  await expect(banner).toBeVisible();

  // A tab opened now is told about the run at once.
  const third = await context.newPage();
  await third.goto('/');
  await expect(third.getByTestId('other-tab-banner')).toContainText('read-only', { timeout: 60_000 });

  // When the first tab stops, the others may train again.
  await first.getByRole('button', { name: /^Stop/ }).first().click();
  await expect(first.getByTestId('run-status')).toHaveText('stopped', { timeout: 120_000 });
  await expect(banner).toBeHidden({ timeout: 30_000 });
});
