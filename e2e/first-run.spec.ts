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
  console.log(`validation loss ${base} -> ${best}`);
  // The demo's promise: the default run cuts the base model's validation loss by at least 40%.
  expect(best).toBeLessThanOrEqual(0.6 * base);
  // The progress line has no ETA once the run is over, and no phase bar is left behind.
  await expect(page.getByRole('progressbar')).toHaveCount(1);
  await expect(page.getByText(/ETA/)).toHaveCount(0);
  // The validation curve starts from the base model at step 0.
  const validation = page.getByTestId('loss-chart');
  await expect(validation).toBeVisible();

  const runName = (await page.locator('#dash-title').textContent())!;
  expect(runName).toMatch(/^Run \d+ · r16 α32 .* f32$/);
  await page.getByRole('button', { name: 'Try it in the playground' }).click();
  await expect(page.getByRole('tab', { name: 'Playground' })).toHaveAttribute('aria-selected', 'true');
  const adapter = page.getByLabel('Adapter', { exact: true });
  await expect(adapter.locator('option:checked')).toHaveText(runName);
  await expect(page.getByTestId('output-adapter-text')).toBeEmpty();

  await test.step('the playground is prefilled with a held-out example and checks the answers', async () => {
    const example = page.getByLabel('Held-out example', { exact: true });
    await expect(example.locator('option:checked')).not.toHaveText('your own prompt');
    await expect(page.getByTestId('expected-answer')).toContainText(/Tell\.|Ask\.|Shout\./);
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect(page.getByTestId('output-base-verdict')).toHaveText('✗ wrong', { timeout: 60_000 });
    await expect(page.getByTestId('output-adapter-verdict')).toBeVisible({ timeout: 60_000 });
  });

  await test.step('held-out prompts: the base model gets (almost) none right, the adapter at least half', async () => {
    await page.getByRole('tab', { name: 'Adapters' }).click();
    const panel = page.getByTestId('evaluate-panel');
    await panel.getByLabel('Task', { exact: true }).selectOption('demo-tell-ask-shout-exact.jsonl');
    await expect(panel.getByLabel('Adapter to evaluate', { exact: true }).locator('option:checked')).toHaveText(runName);
    await panel.getByRole('button', { name: 'Evaluate' }).click();
    await expect(panel.getByTestId('eval-results')).toBeVisible({ timeout: 180_000 });
    const base = Number(await panel.getByTestId('eval-exact_match-base').textContent());
    const tuned = Number(await panel.getByTestId('eval-exact_match-adapter').textContent());
    console.log(`held-out exact match: base ${base}, adapter ${tuned}`);
    expect(base).toBeLessThanOrEqual(0.05);
    expect(tuned).toBeGreaterThanOrEqual(0.5);
  });
  expect(watch.problems).toEqual([]);
});
