/**
 * A new user's first minutes: the page loads without a console error or a failed request; the
 * Train tab trains with the configured defaults in one click (two from first load); the run ends
 * saying "validation loss A → B" (A the base model before step 1, B the best) and offers the
 * playground, which opens with that adapter selected and no stale output.
 */
import { expect, test } from '@playwright/test';
import { drawnPoints, outcomeLosses, watchProblems } from './helpers';

test.describe.configure({ timeout: 300_000 });

test('load, Train on the Train tab with the defaults, read the outcome, try the adapter: no console error, no failed request', async ({ page }) => {
  const watch = watchProblems(page);
  await page.goto('/');
  // Click 1: the Train tab. Click 2: Train (enabled once the demo model and dataset have loaded by themselves).
  await page.getByRole('tab', { name: 'Train' }).click();
  const train = page.getByRole('button', { name: 'Train', exact: true });
  await expect(train).toBeEnabled({ timeout: 60_000 });
  await expect(page.getByText('No run yet in this tab.')).toContainText('studio-demo');
  const started = Date.now();
  await train.click();

  await expect(page.getByTestId('run-status')).toHaveText('training', { timeout: 60_000 });
  await expect.poll(() => drawnPoints(page.getByTestId('loss-chart')), { timeout: 120_000 }).toBeGreaterThanOrEqual(3);
  // Tokens processed per second, and loss tokens apart (fewer: the prompt is masked), never 0 while training.
  const tps = Number((await page.getByTestId('tokens-per-second').textContent())!.replace(/,/g, ''));
  const lossTps = Number((await page.getByTestId('loss-tokens-per-second').textContent())!.replace(/,/g, ''));
  expect(tps).toBeGreaterThan(0);
  expect(lossTps).toBeGreaterThan(0);
  expect(lossTps).toBeLessThan(tps);

  await expect(page.getByTestId('run-done')).toBeVisible({ timeout: 240_000 });
  console.log(`default run: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  await expect(page.getByTestId('run-status')).toHaveText('done');
  const { base, best } = await outcomeLosses(page);
  expect(best).toBeLessThan(base);
  // The progress line has no ETA once the run is over, and no phase bar is left behind.
  await expect(page.getByRole('progressbar')).toHaveCount(1);
  await expect(page.getByText(/ETA/)).toHaveCount(0);
  // The validation curve starts from the base model at step 0.
  const validation = page.getByTestId('loss-chart');
  await expect(validation).toBeVisible();

  const runName = (await page.locator('#dash-title').textContent())!;
  expect(runName).toMatch(/^Run \d+ · r8 α16 query\+value f32$/);
  await page.getByRole('button', { name: 'Try it in the playground' }).click();
  await expect(page.getByRole('tab', { name: 'Playground' })).toHaveAttribute('aria-selected', 'true');
  const adapter = page.getByLabel('Adapter', { exact: true });
  await expect(adapter.locator('option:checked')).toHaveText(runName);
  await expect(page.getByTestId('output-adapter-text')).toBeEmpty();
  expect(watch.problems).toEqual([]);
});
