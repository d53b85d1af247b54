/**
 * Comparing runs at 800 px: two short runs on the demo, both selected; the training-loss overlay
 * is smoothed (a slider, the raw curves faint behind), each chart's legend lies outside its plot
 * area, the batch reads in words, nothing overflows the page sideways, and the three exports
 * (settings and metrics as CSV and JSON, curves as CSV) download and parse to the two runs.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Locator, type Page } from '@playwright/test';
import type { RunRecord } from '../src/worker/api';
import { openStudio, trainOnce, withRunSettings } from './helpers';

test.describe.configure({ timeout: 300_000 });

const runs = (page: Page) => page.evaluate(() => (globalThis as unknown as { __studio: { listRuns(): Promise<RunRecord[]> } }).__studio.listRuns());

/** RFC 4180 CSV into rows of fields (quoted fields with commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') quoted = false; else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; } else if (ch === '\n') { row.push(field.replace(/\r$/, '')); rows.push(row); row = []; field = ''; } else field += ch;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/** The rows of a CSV as objects keyed by its header. */
function csvObjects(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  for (const r of rows) expect(r).toHaveLength(header.length);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

async function download(page: Page, button: Locator): Promise<{ name: string; text: string }> {
  const [d] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return { name: d.suggestedFilename(), text: readFileSync((await d.path())!, 'utf8') };
}

const overlaps = (a: { x: number; y: number; width: number; height: number }, b: { x: number; y: number; width: number; height: number }) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

test('compare two runs at 800 px: smoothed overlays, legends outside the plots, no overflow, exports that parse', async ({ page }) => {
  await page.setViewportSize({ width: 800, height: 900 });
  await withRunSettings(page, { maxSteps: 6, evalEvery: 2, warmupSteps: 1 });
  await openStudio(page);
  await trainOnce(page);
  await trainOnce(page);

  await page.getByRole('tab', { name: 'Runs' }).click();
  const stored = await runs(page);
  expect(stored).toHaveLength(2);
  for (const r of stored) await page.getByRole('checkbox', { name: `Compare ${r.name}` }).check();
  await expect(page.getByText('Comparing 2 runs.')).toBeVisible();

  await test.step('the training loss is smoothed, the raw curves faint behind', async () => {
    const slider = page.getByLabel('Smoothing', { exact: true });
    await expect(slider).toBeVisible();
    const lossChart = page.getByTestId('overlay-loss');
    await expect(lossChart.locator('.recharts-line')).toHaveCount(4); // raw + smoothed per run
    await expect(lossChart.locator('.recharts-line path[stroke-opacity="0.25"]')).toHaveCount(2);
    await slider.fill('0');
    await expect(page.getByTestId('runs-smoothing')).toHaveText('0.00');
    await expect(lossChart.locator('.recharts-line')).toHaveCount(2); // raw only, in full colour
    await slider.fill('0.8');
    await expect(lossChart.locator('.recharts-line')).toHaveCount(4);
  });

  await test.step('each legend lies outside its plot area and names both runs', async () => {
    for (const id of ['overlay-loss', 'overlay-val']) {
      const chart = page.getByTestId(id);
      await expect(chart.locator('.recharts-legend-wrapper')).toHaveCount(0);
      const legend = page.getByTestId(`${id}-legend`);
      for (const r of stored) await expect(legend).toContainText(r.name);
      const plot = (await chart.locator('.recharts-cartesian-grid').boundingBox())!;
      const box = (await legend.boundingBox())!;
      expect(overlaps(plot, box), `${id}: legend over the plot`).toBe(false);
      for (const line of await chart.locator('.recharts-line').all()) expect(overlaps((await line.boundingBox())!, box)).toBe(false);
    }
  });

  await test.step('settings in words; no horizontal page overflow at 800 px', async () => {
    const table = page.getByTestId('compare-table');
    await expect(table).toContainText('micro-batch 8 × accumulation 1 × 32 tokens = 256 tokens/step');
    await expect(table).toContainText('AdamW, learning rate 0.01');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // The table stays inside its own box (it scrolls there if it must).
    const scroll = (await page.getByTestId('compare-scroll').boundingBox())!;
    expect(scroll.x + scroll.width).toBeLessThanOrEqual(800);
  });

  await test.step('exports download and parse', async () => {
    const settings = await download(page, page.getByRole('button', { name: 'Settings and metrics (CSV)' }));
    expect(settings.name).toBe('runs-comparison.csv');
    const rows = csvObjects(settings.text);
    expect(rows.map((r) => r.run_id).sort()).toEqual(stored.map((r) => r.id).sort());
    for (const row of rows) {
      const r = stored.find((x) => x.id === row.run_id)!;
      expect(row.name).toBe(r.name);
      expect(Number(row.learningRate)).toBe(r.config.learningRate);
      expect(row.targets).toBe(r.config.targets.join('+'));
      expect(Number(row.steps)).toBe(6);
      expect(Number(row.best_val_loss)).toBeCloseTo(r.final!.bestVal!.loss, 6);
      expect(Number(row.base_val_loss)).toBeCloseTo(r.baseValLoss!, 6);
    }

    const json = await download(page, page.getByRole('button', { name: 'Settings and metrics (JSON)' }));
    expect(json.name).toBe('runs-comparison.json');
    const parsed = JSON.parse(json.text) as { runs: RunRecord[] };
    expect(parsed.runs.map((r) => r.id).sort()).toEqual(stored.map((r) => r.id).sort());
    expect(parsed.runs[0].config.maxSteps).toBe(6);

    const curves = await download(page, page.getByRole('button', { name: 'Curves (CSV)' }));
    expect(curves.name).toBe('runs-curves.csv');
    const points = csvObjects(curves.text);
    for (const r of stored) {
      const mine = points.filter((p) => p.run_id === r.id);
      expect(mine.map((p) => Number(p.step))).toEqual([0, 1, 2, 3, 4, 5, 6]); // the base at step 0, then every logged step
      expect(mine.filter((p) => p.val_loss !== '').map((p) => Number(p.step))).toEqual([0, 2, 4, 6]);
      expect(mine.slice(1).every((p) => Number.isFinite(Number(p.train_loss)) && p.train_loss !== '')).toBe(true);
    }
  });
});
