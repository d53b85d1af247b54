/**
 * The Configure form in plain words: an invalid per-layer pattern is reported on its row and
 * disables Train, a pattern that matches no module is a visible warning; messages use the
 * fields' labels (no identifiers, no type names); the constant schedule is not blocked by the
 * default warmup, a warmup longer than the run is explained, not refused; the estimate shows
 * nothing while a field is invalid; choosing steps gives the default step count.
 */
import { expect, test, type Page } from '@playwright/test';
import { openStudio } from './helpers';

test.describe.configure({ timeout: 120_000 });

const IDENTIFIERS = /learningRate|warmupSteps|maxSteps|checkpointEvery|vocabChunk|rankPattern|expected int|received number|Invalid input|Too (small|big)/;
const train = (page: Page) => page.getByRole('button', { name: 'Train', exact: true });
const pageText = (page: Page) => page.locator('main').innerText();

test('per-layer patterns, wording, schedule and warmup, estimate', async ({ page }) => {
  await openStudio(page);
  await page.getByRole('tab', { name: 'Configure' }).click();
  await expect(train(page)).toBeEnabled();
  await expect(page.getByTestId('trainable-params')).not.toBeEmpty();
  // Checkpoints are counted in steps by default, and the number is in the form.
  await expect(page.getByLabel('Checkpoint every (steps)')).toHaveValue('10');
  // The demo's 320-token vocabulary fits one LM-head chunk: no knob for it.
  await expect(page.getByLabel('LM-head vocabulary chunk')).toHaveCount(0);

  await test.step('an invalid pattern is reported on its row and disables Train', async () => {
    await page.getByText('Per-layer rank (advanced)').click();
    await page.getByLabel('Module pattern').fill('(');
    await page.getByRole('button', { name: 'Add override' }).click();
    const row = page.getByTestId('pattern-row');
    await expect(row.getByRole('alert')).toContainText('"(" is not a valid pattern');
    await expect(train(page)).toBeDisabled();
    await expect(page.getByTestId('train-why')).toContainText('Per-layer rank');
    // Nothing stale: no estimate while a field is invalid.
    await expect(page.getByTestId('trainable-params')).toHaveCount(0);
    expect(await pageText(page)).not.toMatch(IDENTIFIERS);
    await row.getByRole('button', { name: 'Remove override (' }).click();
    await expect(train(page)).toBeEnabled();
  });

  await test.step('a pattern that matches no module is a warning; one that matches says how many', async () => {
    await page.getByLabel('Module pattern').fill('embed_tokens'); // the embedding never gets a LoRA
    await page.getByRole('button', { name: 'Add override' }).click();
    await expect(page.getByTestId('pattern-warning')).toContainText('matches none of the');
    await expect(train(page)).toBeEnabled();
    await page.getByLabel('Module pattern').fill('layers\\.0\\..*');
    await page.getByRole('button', { name: 'Add override' }).click();
    await expect(page.getByTestId('pattern-row').nth(1)).toContainText('7 modules'); // q, k, v, o, gate, up, down of layer 0
    await page.getByRole('button', { name: 'Remove override embed_tokens' }).click();
    await page.getByRole('button', { name: 'Remove override layers\\.0\\..*' }).click();
  });

  await test.step('messages name fields by their labels, in plain words', async () => {
    await page.getByLabel('Rank (r)', { exact: true }).fill('1.5');
    await expect(page.getByText('enter a whole number')).toBeVisible();
    await page.getByLabel('Rank (r)', { exact: true }).fill('8');
    await page.getByLabel('Learning rate', { exact: true }).fill('2e-');
    await expect(page.getByText('enter a number')).toBeVisible();
    await expect(page.getByTestId('train-why')).toContainText('Fix the field marked in Configure: Learning rate.');
    await expect(page.getByTestId('estimate')).toContainText('The estimate appears once every field is valid');
    expect(await pageText(page)).not.toMatch(IDENTIFIERS);
    await page.getByLabel('Learning rate', { exact: true }).fill('0.001');
    await page.getByLabel('LoRA dropout', { exact: true }).fill('2');
    await expect(page.getByText('must be at most 0.9')).toBeVisible();
    await page.getByLabel('LoRA dropout', { exact: true }).fill('0');
    await expect(train(page)).toBeEnabled();
  });

  await test.step('the constant schedule is not blocked by the default warmup; a long warmup is explained', async () => {
    await page.getByLabel('LR schedule').selectOption('constant');
    await expect(page.getByLabel('Warmup steps')).toHaveCount(0);
    await expect(train(page)).toBeEnabled();
    await page.getByLabel('LR schedule').selectOption('warmup-cosine');
    await page.getByLabel('Warmup steps').fill('5');
    await page.getByLabel('Max steps').fill('3');
    await expect(train(page)).toBeEnabled();
    await expect(page.getByLabel('Advice')).toContainText('Warmup (5 steps) is longer than the run (3 steps)');
    expect(await pageText(page)).not.toMatch(IDENTIFIERS);
  });

  await test.step('epochs -> steps gives the default step count', async () => {
    await page.getByRole('radio', { name: 'epochs' }).check();
    await page.getByRole('radio', { name: 'steps' }).check();
    await expect(page.getByLabel('Max steps')).toHaveValue('100');
  });
});
