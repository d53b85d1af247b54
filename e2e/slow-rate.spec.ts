/**
 * A slow run (0.05 tokens per second: a large model on a small GPU) shows its rate as it is on the
 * dashboard, never rounded to 0.
 */
import { expect, test } from '@playwright/test';

test('a run at 0.05 tokens/s shows 0.05, not 0', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('adapter-info')).toBeVisible();
  await page.evaluate(() => {
    type Store = { setState(s: object): void; getState(): { setTab(t: string): void } };
    const { liveRun, session } = (globalThis as unknown as { __stores: { liveRun: Store; session: Store } }).__stores;
    const point = (step: number) => ({
      step, epoch: step / 100, loss: 3 - step * 0.01, lr: 2e-4, gradNorm: 0.5, clipCoef: 1, tokensPerSecond: 0.05, lossTokensPerSecond: 0.02,
      elapsedMs: step * 1_280_000, memory: { weights: 5e8, lora: 2e6, grads: 2e6, optimizer: 4e6, activations: 3e8, workspace: 1e7 }, memoryTotal: 8.18e8, memoryPeak: 8.2e8,
    });
    session.getState().setTab('train');
    liveRun.setState({ status: 'training', run: { id: 'slow', name: 'slow', config: { gradClip: 1 }, totalSteps: 10 }, totalSteps: 10, points: [1, 2, 3].map(point) });
  });
  await expect(page.getByTestId('tokens-per-second')).toHaveText('0.05');
  await expect(page.getByTestId('loss-tokens-per-second')).toHaveText('0.02');
});
