/**
 * Evaluation in the studio: after a tiny run on the demo, the base model and the run's adapter are
 * scored on the bundled multiple-choice task (demo-tell-ask-shout-mc), with progress, both scores side by side;
 * an uploaded task file with a malformed line is refused with a message that names the line.
 */
import { expect, test } from '@playwright/test';
import { openStudio, trainOnce, withRunSettings } from './helpers';

test.describe.configure({ timeout: 300_000 });

test('evaluate the base model against the adapter on the bundled demo-tell-ask-shout-mc task; a malformed task file is named', async ({ page }) => {
  await withRunSettings(page, { maxSteps: 4, evalEvery: 2, warmupSteps: 1 });
  await openStudio(page);
  await trainOnce(page);

  await page.getByRole('tab', { name: 'Adapters' }).click();
  const panel = page.getByTestId('evaluate-panel');
  await panel.getByLabel('Task', { exact: true }).selectOption('demo-tell-ask-shout-mc.jsonl');
  // The run's adapter is chosen by itself (the newest); the base model is scored beside it.
  await expect(page.getByTestId('adapter-row')).toHaveCount(1);
  const adapterName = (await page.getByTestId('adapter-row').getByTestId('adapter-name').locator('.name').textContent())!;
  await expect(panel.getByLabel('Adapter to evaluate', { exact: true }).locator('option:checked')).toHaveText(adapterName);
  await expect(panel.getByLabel('Base model too (the reference)')).toBeChecked();

  const progressShown = panel.getByRole('progressbar').first().waitFor({ timeout: 60_000 });
  await panel.getByRole('button', { name: 'Evaluate' }).click();
  await progressShown;
  const results = panel.getByTestId('eval-results');
  await expect(results).toBeVisible({ timeout: 120_000 });
  await expect(results).toContainText('demo-tell-ask-shout-mc.jsonl: multiple choice, 30 items');
  for (const who of ['base', 'adapter']) {
    await expect(panel.getByTestId(`eval-n-${who}`)).toHaveText('30');
    for (const metric of ['acc', 'acc_norm']) {
      const v = Number(await panel.getByTestId(`eval-${metric}-${who}`).textContent());
      expect(v, `${metric} of the ${who}`).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  }
  await expect(results.locator('thead')).toContainText('base model');
  await expect(results.locator('thead')).toContainText('adapter ');
  await expect(panel.getByRole('progressbar')).toHaveCount(0);

  await test.step('a malformed task file is refused, naming the file and line', async () => {
    await panel.getByLabel('Task', { exact: true }).selectOption('upload');
    const lines = [
      JSON.stringify({ context: 'Q: What is the capital of France?\nA: ', choices: ['Paris.', 'Rome.'], answer: 0 }),
      JSON.stringify({ context: 'Q: What is 1 plus 1?\nA: ', choices: ['2.'], answer: 0 }),
    ];
    await panel.getByLabel('Task file', { exact: true }).setInputFiles({ name: 'bad-task.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(lines.join('\n') + '\n') });
    await expect(panel.getByTestId('eval-upload-name')).toHaveText('chosen: bad-task.jsonl');
    await panel.getByRole('button', { name: 'Evaluate' }).click();
    const error = panel.getByTestId('eval-error');
    await expect(error).toContainText('bad-task.jsonl, line 2', { timeout: 30_000 });
    await expect(error).toContainText('"choices" must be an array of at least 2 non-empty strings');
    await expect(panel.getByTestId('eval-results')).toHaveCount(0);
  });
});
