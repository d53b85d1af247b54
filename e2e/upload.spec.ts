/**
 * A person's own Alpaca file with the demo model: picking it loads it (the demo model's short
 * template, no preamble that cannot fit); a file whose prompts do not fit the sequence length says
 * so and offers the length that fits in place; a new length renders the person's file, never the
 * demo data that stayed loaded meanwhile; and a run trains on it.
 */
import { expect, test, type Page } from '@playwright/test';
import { openStudio } from './helpers';

test.describe.configure({ timeout: 240_000 });

const alpaca = (name: string, rows: { instruction: string; input?: string; output: string }[]) => ({
  name, mimeType: 'application/jsonl', buffer: Buffer.from(rows.map((r) => JSON.stringify({ input: '', ...r })).join('\n') + '\n'),
});
const pick = (page: Page, file: ReturnType<typeof alpaca>) => page.getByLabel('Dataset file', { exact: true }).setInputFiles(file);
const info = (page: Page) => page.getByTestId('dataset-info');

test('upload your own Alpaca file: it loads, a length that cannot fit is offered in place, changes render your file', async ({ page }) => {
  await openStudio(page);

  await test.step('a short Alpaca file loads as it is', async () => {
    await pick(page, alpaca('colors.jsonl', Array.from({ length: 30 }, (_, i) => ({ instruction: `Name color ${i % 5}.`, output: ['red', 'green', 'blue', 'black', 'white'][i % 5] }))));
    await expect(info(page)).toContainText('colors.jsonl');
    await expect(page.getByTestId('dataset-error')).toHaveCount(0);
  });

  const long = alpaca('long.jsonl', Array.from({ length: 20 }, (_, i) => ({
    instruction: `Read this sentence carefully and then answer with the number it ends with, nothing else: the number is ${i}.`, output: `${i}`,
  })));
  let needed = 0;
  await test.step('prompts longer than the sequence length: the message says so and offers the fix', async () => {
    await pick(page, long);
    const err = page.getByTestId('dataset-error');
    await expect(err).toContainText('long.jsonl');
    await expect(err).toContainText('maximum sequence length of 32 tokens');
    const fix = page.getByTestId('length-fix').getByRole('button');
    await expect(fix).toHaveText(/^Use \d+ tokens and load long\.jsonl$/);
    needed = Number(/Use (\d+)/.exec((await fix.textContent())!)![1]);
    expect(needed).toBeGreaterThan(32);
    // The file that stayed loaded is named, not passed off as the person's.
    await expect(info(page)).toContainText('colors.jsonl');
    await fix.click();
    await expect(info(page)).toContainText('long.jsonl');
    await expect(page.getByTestId('dataset-error')).toHaveCount(0);
  });

  await test.step('a length changed in Configure renders the person\'s file, not the demo', async () => {
    await page.getByRole('tab', { name: 'Configure' }).click();
    await expect(page.getByLabel('Max sequence length')).toHaveValue(String(needed));
    await page.getByLabel('Max sequence length').fill('48');
    await page.getByRole('tab', { name: 'Model & data' }).click();
    await expect(page.getByTestId('dataset-error')).toContainText('long.jsonl');
    await expect(info(page)).not.toContainText('dataset.jsonl');
    await page.getByRole('tab', { name: 'Configure' }).click();
    await page.getByLabel('Max sequence length').fill(String(needed + 16));
    await page.getByRole('tab', { name: 'Model & data' }).click();
    await expect(info(page)).toContainText('long.jsonl');
    await expect(page.getByTestId('dataset-error')).toHaveCount(0);
    await expect(page.getByTestId('length-histogram')).toHaveAttribute('aria-label', new RegExp(`maximum sequence length ${needed + 16}`));
  });

  await test.step('a run trains on it', async () => {
    await page.getByRole('tab', { name: 'Configure' }).click();
    await page.getByLabel('Max steps').fill('3');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await expect(page.getByTestId('run-done')).toBeVisible({ timeout: 120_000 });
    await page.getByRole('tab', { name: 'Runs' }).click();
    await expect(page.getByTestId('run-row').first()).toContainText('long.jsonl');
  });
});
