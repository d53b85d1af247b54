/**
 * Runs and adapters a person keeps: distinct default names, rename and note, delete with undo;
 * "Try" opens the playground with that adapter (and not the one selected before); buttons say
 * what they show (label in name) and the masked prompt is readable (contrast).
 */
import { expect, test, type Page } from '@playwright/test';
import { labelNotInName, openStudio, trainOnce, withRunSettings } from './helpers';

test.describe.configure({ timeout: 300_000 });

const contrast = (page: Page, selector: string) => page.evaluate((sel) => {
  const el = document.querySelector(sel) as HTMLElement;
  const rgb = (s: string) => (s.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
  const lum = (c: number[]) => {
    const [r, g, b] = c.map((v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const style = getComputedStyle(el);
  const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}, selector);

test('names, notes, delete with undo, try in the playground, accessible labels', async ({ page }) => {
  await withRunSettings(page, { maxSteps: 4, evalEvery: 2, warmupSteps: 1 });
  await openStudio(page);
  expect(await contrast(page, '.preview .seg.masked')).toBeGreaterThanOrEqual(4.5);

  await trainOnce(page);
  await trainOnce(page);

  await test.step('two runs of one config get distinct names', async () => {
    await page.getByRole('tab', { name: 'Runs' }).click();
    const names = await page.getByTestId('run-name').locator('.name').allTextContents();
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
    for (const n of names) expect(n).toMatch(/^Run \d+ · r16 α32 .+ f32$/);
    // Mean of the last training losses and the best validation loss with its step.
    await expect(page.getByTestId('run-row').first()).toContainText(/\d\.\d{4} \(step [24]\)/);
  });

  await test.step('rename a run and add a note; its adapter follows the new name', async () => {
    const row = page.getByTestId('run-row').first();
    await row.getByRole('button', { name: /^Edit the name and note of run/ }).click();
    await row.getByLabel('Name').fill('baseline, short');
    await row.getByLabel('Note').fill('four steps to check the setup');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect(row).toContainText('baseline, short');
    await expect(row).toContainText('four steps to check the setup');
    await page.reload();
    await openStudio(page);
    await page.getByRole('tab', { name: 'Runs' }).click();
    await expect(page.getByTestId('run-row').first()).toContainText('four steps to check the setup');
    await page.getByRole('tab', { name: 'Adapters' }).click();
    await expect(page.getByTestId('adapter-row').first()).toContainText('baseline, short');
  });

  await test.step('an adapter is renamed and noted on its own', async () => {
    const row = page.getByTestId('adapter-row').nth(1);
    await row.getByRole('button', { name: /^Edit the name and note of adapter/ }).click();
    await row.getByLabel('Name').fill('second try');
    await row.getByLabel('Note').fill('same settings');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect(row).toContainText('second try');
    await expect(row).toContainText('same settings');
    expect(await labelNotInName(page)).toEqual([]);
  });

  await test.step('"Try" selects that adapter in the playground, clearing the other one\'s output', async () => {
    await page.getByRole('button', { name: 'Try second try in the playground' }).click();
    const select = page.getByLabel('Adapter', { exact: true });
    await expect(select.locator('option:checked')).toHaveText('second try');
    await page.getByLabel('Max new tokens', { exact: true }).fill('4');
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect(page.getByTestId('output-adapter')).toContainText('tokens', { timeout: 60_000 });
    await page.getByRole('tab', { name: 'Adapters' }).click();
    await page.getByRole('button', { name: 'Try baseline, short in the playground' }).click();
    await expect(select.locator('option:checked')).toHaveText('baseline, short');
    await expect(page.getByTestId('output-adapter-text')).toBeEmpty();
    await expect(page.getByTestId('output-base-text')).toBeEmpty();
  });

  await test.step('deleting an adapter offers undo', async () => {
    await page.getByRole('tab', { name: 'Adapters' }).click();
    await page.getByRole('button', { name: 'Delete second try' }).click();
    await expect(page.getByTestId('adapter-row')).toHaveCount(1);
    const notice = page.getByTestId('undo-notice');
    await expect(notice).toContainText('Deleted adapter "second try"');
    await notice.getByRole('button', { name: 'Undo' }).click();
    await expect(page.getByTestId('adapter-row')).toHaveCount(2);
    await expect(notice).toHaveCount(0);
  });

  await test.step('deleting a run offers undo; without undo it is gone for good', async () => {
    await page.getByRole('tab', { name: 'Runs' }).click();
    await page.getByRole('button', { name: 'Delete run baseline, short' }).click();
    await expect(page.getByTestId('run-row')).toHaveCount(1);
    await page.getByTestId('undo-notice').getByRole('button', { name: 'Undo' }).click();
    await expect(page.getByTestId('run-row')).toHaveCount(2);
    await page.getByRole('button', { name: 'Delete run baseline, short' }).click();
    await expect(page.getByTestId('run-row')).toHaveCount(1);
    await expect(page.getByTestId('undo-notice')).toHaveCount(0, { timeout: 15_000 }); // the offer ends, the delete is final
    await page.reload();
    await openStudio(page);
    await page.getByRole('tab', { name: 'Runs' }).click();
    await expect(page.getByTestId('run-row')).toHaveCount(1);
    await expect(page.getByTestId('run-row')).not.toContainText('baseline, short');
    expect(await labelNotInName(page)).toEqual([]);
  });
});
