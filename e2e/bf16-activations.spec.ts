/**
 * bf16 saved activations in the studio: the Configure form offers the choice with its one-line
 * explanation, the estimate's activation memory drops and says bf16, and the demo trains in the
 * browser with it (the validation loss goes down, no console error).
 */
import { expect, test, type Page } from '@playwright/test';
import { openStudio, outcomeLosses, trainOnce, watchProblems, withRunSettings } from './helpers';

test.describe.configure({ timeout: 300_000 });

/** The activations entry of the estimate's legend, e.g. "activations (bf16) 1.2 MiB". */
const activationsLegend = (page: Page) => page.locator('.legend li').filter({ hasText: /^activations/ });

test('the Configure form: the choice, its explanation, and a smaller estimate', async ({ page }) => {
  await openStudio(page);
  await page.getByRole('tab', { name: 'Configure' }).click();
  const select = page.getByRole('combobox', { name: 'Saved activations' });
  await expect(select).toHaveValue('f32');
  await expect(select.locator('option')).toHaveText(['f32', 'bf16 (half the activation memory)']);
  await expect(page.locator(`#${await select.getAttribute('id')}-help`)).toContainText('stored as bf16 (math stays f32)');
  await expect(activationsLegend(page)).not.toContainText('bf16');
  const before = await activationsLegend(page).innerText();

  const size = (s: string) => {
    const m = /([\d.]+) (B|KiB|MiB|GiB)/.exec(s)!;
    return Number(m[1]) * 1024 ** ['B', 'KiB', 'MiB', 'GiB'].indexOf(m[2]);
  };
  await select.selectOption('bf16');
  await expect(activationsLegend(page)).toContainText('activations (bf16)');
  // The estimate comes back from the worker's dry-run plan.
  await expect.poll(async () => size(await activationsLegend(page).innerText())).toBeLessThan(size(before));
  console.log(`estimate: ${before} -> ${await activationsLegend(page).innerText()}`);
});

test('the demo trains in the browser with bf16 activations and lowers the validation loss', async ({ page }) => {
  const watch = watchProblems(page);
  await withRunSettings(page, { maxSteps: 16, evalEvery: 8, schedule: 'constant', warmupSteps: 0, learningRate: 1e-2, activationPrecision: 'bf16' });
  await openStudio(page);
  await trainOnce(page);
  await expect(page.getByTestId('run-status')).toHaveText('done');
  const { base, best } = await outcomeLosses(page);
  console.log(`bf16 activations: validation loss ${base} -> ${best}`);
  expect(best).toBeLessThan(base);
  expect(watch.problems).toEqual([]);
});
