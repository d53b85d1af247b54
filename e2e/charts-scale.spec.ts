/**
 * The dashboard stays smooth with 10,000 logged steps: every point is kept in the store, each
 * chart draws a few hundred, and redrawing the charts for a new step costs about the same at
 * 10,000 points as at 100 (measured side by side in one page, so it holds on any machine).
 */
import { expect, test } from '@playwright/test';
import { drawnPoints } from './helpers';

test('10,000 points: all stored, a few hundred drawn, redraws as fast as with 300', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('adapter-info')).toBeVisible();
  const result = await page.evaluate(async () => {
    type Store = { setState(s: object): void; getState(): { points: object[]; setTab(t: string): void } };
    const { liveRun, session } = (globalThis as unknown as { __stores: { liveRun: Store; session: Store } }).__stores;
    const point = (step: number) => ({
      step, epoch: step / 1000, loss: 2.5 * Math.exp(-step / 3000) + 0.3 + 0.1 * Math.sin(step * 0.7), lr: 2e-4, gradNorm: 0.5 + 0.2 * Math.cos(step),
      clipCoef: 1, tokensPerSecond: 900 + (step % 17), elapsedMs: step * 120, ...(step % 500 === 0 ? { evalLoss: 2.5 * Math.exp(-step / 3000) + 0.35 } : {}),
      memory: { weights: 5e8, lora: 2e6, grads: 2e6, optimizer: 4e6, activations: 3e8, workspace: 1e7 }, memoryTotal: 8.18e8, memoryPeak: 8.2e8,
    });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const chart = () => document.querySelector('[data-testid="loss-chart"]');
    /** Time until the loss chart draws step `s` (checked every frame). */
    const drawnBy = async (s: number, t0: number) => {
      while (chart()?.getAttribute('data-last-x') !== String(s)) await new Promise((r) => requestAnimationFrame(r));
      return performance.now() - t0;
    };
    session.getState().setTab('train');
    const run = { id: 'synthetic', name: 'synthetic', config: { gradClip: 1 }, totalSteps: 20_000 };
    const medians: Record<number, number> = {};
    let stored = 0;
    for (const n of [300, 10_000]) {
      let points = Array.from({ length: n }, (_, i) => point(i + 1));
      liveRun.setState({ status: 'training', run, totalSteps: 20_000, points });
      await drawnBy(n, performance.now());
      const times: number[] = [];
      for (let s = n + 1; s <= n + 7; s++) {
        await sleep(700); // past the redraw throttle, so each step is a full redraw
        points = points.concat([point(s)]);
        const t0 = performance.now();
        liveRun.setState({ points });
        times.push(await drawnBy(s, t0));
      }
      times.sort((a, b) => a - b);
      medians[n] = times[times.length >> 1];
      stored = liveRun.getState().points.length;
    }
    return { medians, stored };
  });
  console.log(`redraw for a new step: ${result.medians[300].toFixed(0)} ms at 300 points, ${result.medians[10_000].toFixed(0)} ms at 10,000`);
  expect(result.stored).toBe(10_007);
  const loss = page.getByTestId('loss-chart');
  const drawn = await drawnPoints(loss);
  expect(drawn).toBeGreaterThan(300);
  expect(drawn).toBeLessThanOrEqual(3 * 300); // raw, smoothed, validation: at most 300 each
  expect(await drawnPoints(page.getByTestId('memory-chart'))).toBeLessThanOrEqual(400);
  // Drawing all 10,000 would cost ~30 times more; downsampled, the data size barely shows.
  expect(result.medians[10_000]).toBeLessThan(2 * result.medians[300] + 30);
});
