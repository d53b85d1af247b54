/**
 * The five optimizers in the studio: the Configure form's select offers each with one line on what
 * it does and shows its own settings; Sophia (its Hessian estimate sampled on the GPU in the
 * worker) and Adafactor (its factored second moment) each train the demo in the browser and lower
 * the validation loss, with no console error.
 */
import { expect, test } from '@playwright/test';
import { openStudio, outcomeLosses, trainOnce, watchProblems, withRunSettings } from './helpers';

test.describe.configure({ timeout: 300_000 });

test('the optimizer select: five optimizers, a line on each, their own settings', async ({ page }) => {
  await openStudio(page);
  await page.getByRole('tab', { name: 'Configure' }).click();
  const select = page.getByRole('combobox', { name: 'Optimizer', exact: true });
  await expect(select.locator('option')).toHaveText(['AdamW', 'SGD', 'Lion', 'Adafactor', 'Sophia']);
  const help = page.locator('#sec-opt ~ .grid .help').first();

  await select.selectOption('lion');
  await expect(help).toContainText('sign of a momentum mix');
  await expect(page.getByLabel('Lion beta 1')).toHaveValue('0.9');
  await expect(page.getByLabel('Lion beta 2')).toHaveValue('0.99');
  await expect(page.getByLabel('Beta 1', { exact: true })).toHaveCount(0);
  // the studio's learning rate of 1e-3 is AdamW's: Lion is warned about it
  await expect(page.getByText(/Lion moves every parameter by up to the learning rate/)).toBeVisible();

  await select.selectOption('adafactor');
  await expect(help).toContainText('row and column averages');
  await expect(page.getByLabel('Adafactor beta 1')).toHaveCount(0);
  await page.getByLabel('First moment (beta1)').check();
  await expect(page.getByLabel('Adafactor beta 1')).toHaveValue('0.9');
  await page.getByLabel('First moment (beta1)').uncheck();
  await expect(page.getByLabel('Adafactor decay rate')).toHaveValue('-0.8');

  await select.selectOption('sophia');
  await expect(help).toContainText('diagonal Hessian estimate');
  await expect(page.getByLabel('Sophia rho')).toHaveValue('0.04');
  await expect(page.getByLabel('Sophia Hessian every (steps)')).toHaveValue('10');

  await select.selectOption('adamw');
  await expect(page.getByLabel('Beta 1', { exact: true })).toHaveValue('0.9');
});

for (const [name, settings] of [
  ['Sophia', { optimizer: 'sophia', learningRate: 3e-3, sophiaHessianEvery: 4 }],
  ['Adafactor', { optimizer: 'adafactor', learningRate: 1e-2 }],
] as const) {
  test(`${name} trains the demo in the browser and lowers the validation loss`, async ({ page }) => {
    const watch = watchProblems(page);
    await withRunSettings(page, { maxSteps: 16, evalEvery: 8, schedule: 'constant', warmupSteps: 0, ...settings });
    await openStudio(page);
    await trainOnce(page);
    await expect(page.getByTestId('run-status')).toHaveText('done');
    const { base, best } = await outcomeLosses(page);
    console.log(`${name}: validation loss ${base} -> ${best}`);
    expect(best).toBeLessThan(base);
    expect(watch.problems).toEqual([]);
  });
}
