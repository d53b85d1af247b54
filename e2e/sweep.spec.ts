/**
 * A sweep in the studio, on the demo: the Sweep tab varies rank {4, 8} (alpha = 2 x rank) and
 * targets {query + value, all linear layers} over a few steps, says it is four runs and the
 * largest run's memory, trains them one after another (each kept in Runs), then the results
 * table sorts by a column, exports CSV rows that match the runs, and the chart draws validation
 * loss against rank, a line per target set.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import type { RunRecord } from '../src/worker/api';
import { openStudio, withRunSettings } from './helpers';

test.describe.configure({ timeout: 240_000 });

const runs = (page: Page) => page.evaluate(() => (globalThis as unknown as { __studio: { listRuns(): Promise<RunRecord[]> } }).__studio.listRuns());

/** The body rows of the results table, as the text of each cell. */
const tableRows = (page: Page) => page.getByTestId('sweep-table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.textContent ?? '')));

test('a 2 x 2 sweep on the demo: four runs, a sortable table, CSV rows, a chart', async ({ page }) => {
  await withRunSettings(page, { maxSteps: 4, evalEvery: 2, warmupSteps: 1, checkpointEverySteps: 0 });
  await openStudio(page);
  await page.getByRole('tab', { name: 'Sweep' }).click();

  await test.step('choose rank {4, 8} with alpha = 2 x rank and targets {q+v, all linear}', async () => {
    await expect(page.getByTestId('sweep-base')).toContainText('4 steps');
    await page.getByRole('checkbox', { name: 'Vary Rank (r)' }).check();
    await page.getByLabel('Rank (r): values to try').fill('4, 8');
    await expect(page.getByRole('radio', { name: 'alpha = 2 × rank' })).toBeChecked();
    await page.getByRole('checkbox', { name: 'Vary LoRA targets' }).check();
    const targets = page.getByRole('group', { name: 'LoRA targets: values to try' });
    await targets.getByRole('checkbox', { name: 'query + value' }).check();
    await targets.getByRole('checkbox', { name: 'all linear layers' }).check();
    const summary = page.getByTestId('sweep-summary');
    await expect(summary).toContainText('4 runs (2 ranks × 2 target sets)');
    await expect(summary).toContainText('The largest, rank 8, targets query+key+value+projection+mlp, needs');
    await expect(page.getByTestId('sweep-largest-memory')).toHaveText(/\d+(\.\d)? (KiB|MiB)/);
  });

  await test.step('start it and let the four runs train one after another', async () => {
    await page.getByRole('button', { name: 'Start sweep (4 runs)' }).click();
    await expect(page.getByTestId('sweep-progress')).toBeVisible();
    await expect(page.getByTestId('sweep-status')).toContainText('4 of 4 runs finished (finished)', { timeout: 200_000 });
    const stored = await runs(page);
    expect(stored).toHaveLength(4);
    expect(stored.every((r) => r.status === 'completed' && r.name.startsWith('Sweep 1: rank × targets · '))).toBe(true);
    expect(stored.map((r) => [r.config.rank, r.config.alpha]).sort()).toEqual([[4, 8], [4, 8], [8, 16], [8, 16]]);
  });

  await test.step('the table: four rows, one best; sorted by best validation loss both ways', async () => {
    const rows = await tableRows(page);
    expect(rows).toHaveLength(4);
    expect(rows.filter((r) => r[0].includes('best'))).toHaveLength(1);
    const header = page.getByRole('columnheader', { name: /Best val loss/ });
    const col = (await page.getByTestId('sweep-table').locator('thead th').allTextContents()).findIndex((t) => t.startsWith('Best val loss'));
    const values = async () => (await tableRows(page)).map((r) => Number(r[col]));
    await header.getByRole('button').click();
    await expect(header).toHaveAttribute('aria-sort', 'ascending');
    const up = await values();
    expect(up).toEqual([...up].sort((a, b) => a - b));
    expect((await tableRows(page))[0][0]).toContain('best');
    await header.getByRole('button').click();
    await expect(header).toHaveAttribute('aria-sort', 'descending');
    const down = await values();
    expect(down).toEqual([...up].reverse());
  });

  await test.step('export CSV: the four runs with the CLI\'s columns', async () => {
    const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    expect(d.suggestedFilename()).toBe('sweep-1-rank-targets-results.csv');
    const [head, ...lines] = readFileSync((await d.path())!, 'utf8').trim().split('\n');
    expect(head).toBe('run,rank,targets,trainable_params,peak_memory_bytes,wall_time_s,final_train_loss,best_val_loss,final_val_loss,best');
    const rows = lines.map((l) => Object.fromEntries(head.split(',').map((h, i) => [h, l.split(',')[i]])));
    expect(rows.map((r) => [r.rank, r.targets])).toEqual([['4', 'query+value'], ['4', 'query+key+value+projection+mlp'], ['8', 'query+value'], ['8', 'query+key+value+projection+mlp']]);
    const stored = await runs(page);
    for (const r of rows) {
      const run = stored.find((x) => x.config.rank === Number(r.rank) && x.config.targets.join('+') === r.targets)!;
      expect(Number(r.best_val_loss)).toBeCloseTo(run.final!.bestVal!.loss, 6);
      expect(Number(r.peak_memory_bytes)).toBe(run.final!.peakMemory);
      expect(Number(r.trainable_params)).toBeGreaterThan(0);
    }
    // Every rank-8 run trains twice the parameters of its rank-4 twin.
    expect(Number(rows[2].trainable_params)).toBe(2 * Number(rows[0].trainable_params));
    expect(rows.filter((r) => r.best === 'true')).toHaveLength(1);
    const best = rows.find((r) => r.best === 'true')!;
    expect(Number(best.best_val_loss)).toBe(Math.min(...rows.map((r) => Number(r.best_val_loss))));
  });

  await test.step('the chart: validation loss against rank, a line per target set; by target set as bars', async () => {
    const chart = page.getByTestId('sweep-chart');
    await expect(chart).toHaveAttribute('data-points', '4');
    await expect(chart.locator('.recharts-line')).toHaveCount(2);
    await chart.getByLabel('against').selectOption({ label: 'LoRA targets' });
    await expect(chart.locator('.recharts-bar-rectangle')).toHaveCount(4);
  });
});
