/**
 * A run on the demo survives a reload: train 14 steps uninterrupted; train the same config
 * again with a checkpoint every 4 steps, reload the page mid-run, resume from the banner with the
 * keyboard, and finish. The resumed run's curve equals, bit for bit, the uninterrupted run's
 * (same seed, same device), without duplicated steps, and its adapter is in the library.
 */
import { expect, test, type Page } from '@playwright/test';
import type { AdapterMeta, RunRecord, StepPoint } from '../src/worker/api';
import { openStudio, tabTo, unlabelledControls } from './helpers';

test.describe.configure({ timeout: 420_000 });

const STEPS = 14;

type Studio = { listRuns(): Promise<RunRecord[]>; runPoints(id: string): Promise<StepPoint[]>; listAdapters(): Promise<AdapterMeta[]> };
const api = <T>(page: Page, fn: string, arg?: string) =>
  page.evaluate(([f, a]) => (globalThis as unknown as { __studio: Record<string, (x?: string) => Promise<unknown>> }).__studio[f!](a ?? undefined), [fn, arg] as const) as Promise<T>;
const runs = (page: Page) => api<Awaited<ReturnType<Studio['listRuns']>>>(page, 'listRuns');
const curve = async (page: Page, id: string) => (await api<StepPoint[]>(page, 'runPoints', id)).map((p) => [p.step, p.loss, p.gradNorm, p.lr]);

async function configure(page: Page): Promise<void> {
  await page.getByRole('tab', { name: 'Configure' }).click();
  const set = async (label: string, value: string) => {
    await page.getByLabel(label, { exact: true }).fill(value);
    await expect(page.getByLabel(label, { exact: true })).toHaveValue(value);
  };
  await set('Rank (r)', '4');
  await set('Alpha', '8');
  await page.getByRole('radio', { name: 'steps' }).check();
  await set('Max steps', String(STEPS));
  await set('Micro-batch', '4');
  await set('Max sequence length', '64');
  await set('Eval every (steps)', '0');
  await page.getByLabel('LR schedule').selectOption('warmup-cosine');
  await set('Warmup steps', '2');
  await set('Checkpoint every (steps)', '4');
  await expect(page.getByTestId('steps')).toContainText(String(STEPS));
}

async function train(page: Page): Promise<void> {
  await page.getByRole('tab', { name: 'Configure' }).click();
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByRole('tab', { name: 'Train' })).toHaveAttribute('aria-selected', 'true');
}

test('reload mid-run, resume from the checkpoint, finish with the same curve', async ({ page }) => {
  await openStudio(page);
  await configure(page);

  // The uninterrupted run.
  await train(page);
  await expect(page.getByTestId('run-done')).toBeVisible({ timeout: 180_000 });
  const [whole] = await runs(page);
  expect(whole.status).toBe('completed');
  const want = await curve(page, whole.id);
  expect(want.map((p) => p[0])).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));

  // The same run, reloaded after step 6 (the checkpoint after step 4 is stored before step 5 runs).
  await train(page);
  await expect.poll(async () => (await runs(page)).find((r) => r.id !== whole.id)?.pointCount ?? 0, { timeout: 180_000, intervals: [250] }).toBeGreaterThanOrEqual(6);
  const interrupted = (await runs(page)).find((r) => r.id !== whole.id)!;
  await page.reload();
  await openStudio(page);

  const banner = page.getByTestId('resume-banner');
  await expect(banner).toBeVisible({ timeout: 30_000 });
  const resume = banner.getByRole('button', { name: new RegExp(`^Resume ${interrupted.name.replace(/[+]/g, '\\+')} from step (4|8|12)$`) });
  await expect(resume).toBeEnabled();
  // The demo loaded itself and fits the checkpoint: nothing else to load (a Hub model or an uploaded dataset would be named here).
  await expect(banner).toContainText('Resuming continues the same curve.');
  expect(await unlabelledControls(page)).toEqual([]);
  const from = Number(/from step (\d+)/.exec((await resume.textContent()) ?? '')![1]);
  await tabTo(page, resume);
  await page.keyboard.press('Enter');

  await expect(page.getByRole('tab', { name: 'Train' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('checkpoint-status')).toContainText(/Checkpoint saved after step \d+/);
  await expect(page.getByTestId('run-done')).toBeVisible({ timeout: 180_000 });
  await expect(banner).toHaveCount(0);
  const [after] = (await runs(page)).filter((r) => r.id === interrupted.id);
  expect(after.status).toBe('completed');
  const got = await curve(page, interrupted.id);
  expect(got.map((p) => p[0])).toEqual(want.map((p) => p[0])); // no step twice, none missing
  expect(got).toEqual(want); // bitwise: loss, grad norm and lr of every step
  expect(from).toBeGreaterThanOrEqual(4);

  const adapters = await api<AdapterMeta[]>(page, 'listAdapters');
  expect(adapters.some((a) => a.runId === interrupted.id)).toBe(true);
  // The dashboard drew the whole curve: the points before the checkpoint and those after.
  await expect.poll(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-points'))).toBeGreaterThanOrEqual(STEPS);
});
