/**
 * The whole flow on the bundled demo, as a person does it with the keyboard alone: configure
 * (rank 4, alpha 8, query + value + mlp), train 20 steps, watch the loss and memory charts draw,
 * find the run in Runs, reload and find the run and the adapter still there, download the adapter
 * and check that it is a PEFT adapter of the configured shapes, and generate with and without it.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import { bytesSource, openSafetensors } from '../src/io/safetensors';
import { modulePath, moduleShape, type ModuleName } from '../src/config/lora-targets';
import { demoConfig, drawnPoints, keyboardTab, openStudio, tabTo, typeInto, unlabelledControls } from './helpers';

const TRAINED: ModuleName[] = ['q_proj', 'v_proj', 'gate_proj', 'up_proj', 'down_proj'];

test.describe.configure({ timeout: 300_000 });

test('configure, train, compare, reload, download, generate: keyboard only', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 1000 });
  await openStudio(page);

  await test.step('configure with the keyboard', async () => {
    expect(await unlabelledControls(page)).toEqual([]);
    await tabTo(page, page.getByRole('tab', { name: 'Model & data' }));
    await page.keyboard.press('ArrowRight');
    await expect(page.getByRole('tab', { name: 'Configure' })).toHaveAttribute('aria-selected', 'true');
    await tabTo(page, page.getByLabel('Rank (r)'));
    await typeInto(page, '4');
    await tabTo(page, page.getByRole('button', { name: /alpha = 2 x rank \(8\)/ }));
    await page.keyboard.press('Enter');
    await expect(page.getByLabel('Alpha')).toHaveValue('8');
    await tabTo(page, page.getByRole('button', { name: 'query + value' }));
    await page.keyboard.press('Enter');
    await tabTo(page, page.getByRole('checkbox', { name: /^MLP/ }));
    await page.keyboard.press('Space');
    await expect(page.getByRole('checkbox', { name: /^MLP/ })).toBeChecked();
    await expect(page.getByRole('checkbox', { name: /^Query/ })).toBeChecked();
    await expect(page.getByRole('checkbox', { name: /^Value/ })).toBeChecked();
    await tabTo(page, page.getByRole('radio', { name: 'steps' }));
    await page.keyboard.press('Space');
    await tabTo(page, page.getByLabel('Max steps'));
    await typeInto(page, '20');
    await tabTo(page, page.getByLabel('Eval every (steps)'));
    await typeInto(page, '10');
    // The estimate follows: 20 steps, and the trainable count of r = 4 on five modules per layer.
    const c = demoConfig();
    const expected = c.numLayers * TRAINED.reduce((n, m) => { const s = moduleShape(m, c); return n + 4 * (s.in + s.out); }, 0);
    await expect(page.getByTestId('steps')).toContainText('20');
    await expect(page.getByTestId('trainable-params')).toContainText(expected.toLocaleString('en-US'));
    await page.getByRole('group', { name: 'Target presets' }).waitFor();
    await page.getByText('Per-layer rank (advanced)').click(); // open, so its controls are checked too
    expect(await unlabelledControls(page)).toEqual([]);
    await page.getByText('Per-layer rank (advanced)').click();
    await tabTo(page, page.getByRole('button', { name: 'Train', exact: true }));
    await page.keyboard.press('Enter');
  });

  await test.step('the dashboard draws the loss and memory as they come', async () => {
    await expect(page.getByRole('tab', { name: 'Train' })).toHaveAttribute('aria-selected', 'true');
    const loss = page.getByTestId('loss-chart');
    const memory = page.getByTestId('memory-chart');
    await expect.poll(() => drawnPoints(loss), { timeout: 120_000 }).toBeGreaterThanOrEqual(10);
    expect(await drawnPoints(memory)).toBeGreaterThanOrEqual(2);
    // A dozen steps and the first validation point.
    await expect.poll(() => drawnPoints(loss), { timeout: 120_000 }).toBeGreaterThanOrEqual(27);
    // Real SVG curves, not only counters: the loss line has as many vertices as raw points.
    const paths = await loss.locator('path.recharts-line-curve').evaluateAll((els) => els.map((e) => e.getAttribute('d') ?? ''));
    expect(Math.max(...paths.map((d) => d.split(/[LM]/).length - 1))).toBeGreaterThanOrEqual(5);
    await expect(memory.locator('path.recharts-area-area').first()).toBeVisible();
    expect(await unlabelledControls(page)).toEqual([]);
    await expect(page.getByTestId('run-done')).toBeVisible({ timeout: 180_000 });
    await expect(page.getByTestId('live-metrics')).toContainText('val loss');
  });

  await test.step('the run is in Runs, and survives a reload with its adapter', async () => {
    await keyboardTab(page, 'Runs');
    const row = page.getByTestId('run-row').first();
    await expect(row).toContainText('r4 α8 query+value+mlp');
    await expect(row).toContainText('completed');
    await expect(row).toContainText('20 / 20');
    await page.reload();
    await expect(page.getByTestId('model-info')).toBeVisible({ timeout: 60_000 });
    await keyboardTab(page, 'Runs');
    await expect(page.getByTestId('run-row').first()).toContainText('completed');
    await tabTo(page, page.getByRole('checkbox', { name: /^Compare Run \d+ · r4/ }).first());
    await page.keyboard.press('Space');
    await expect(page.getByTestId('compare-table')).toContainText('query, value, mlp');
    await expect.poll(() => drawnPoints(page.getByTestId('overlay-loss'))).toBeGreaterThanOrEqual(20);
    await keyboardTab(page, 'Adapters');
    await expect(page.getByTestId('adapter-row')).toHaveCount(1);
    await expect(page.getByTestId('adapter-row')).toContainText('r 4 · α 8');
    await page.getByRole('checkbox', { name: /^Merge Run \d+ · r4/ }).check(); // shows the merge weight box
    expect(await unlabelledControls(page)).toEqual([]);
    await page.getByRole('checkbox', { name: /^Merge Run \d+ · r4/ }).uncheck();
  });

  await test.step('the downloaded adapter is PEFT: keys and shapes as configured', async () => {
    const download = page.waitForEvent('download');
    await tabTo(page, page.getByRole('button', { name: /^Download zip: .* as a PEFT adapter$/ }));
    await page.keyboard.press('Enter');
    const file = await (await download).path();
    const entries = unzipSync(new Uint8Array(readFileSync(file)));
    expect(Object.keys(entries).sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
    const cfg = JSON.parse(new TextDecoder().decode(entries['adapter_config.json']));
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, base_model_name_or_path: 'studio-demo' });
    expect([...cfg.target_modules].sort()).toEqual([...TRAINED].sort());
    const st = await openSafetensors(bytesSource(entries['adapter_model.safetensors']));
    const c = demoConfig();
    const want: string[] = [];
    for (let l = 0; l < c.numLayers; l++) {
      for (const m of TRAINED) {
        const path = `base_model.model.${modulePath(m, l)}`;
        const s = moduleShape(m, c);
        expect(st.info(`${path}.lora_A.weight`)).toMatchObject({ dtype: 'F32', shape: [4, s.in] });
        expect(st.info(`${path}.lora_B.weight`)).toMatchObject({ dtype: 'F32', shape: [s.out, 4] });
        want.push(`${path}.lora_A.weight`, `${path}.lora_B.weight`);
      }
    }
    expect(st.names().sort()).toEqual(want.sort());
    // Trained: some lora_B (zeros at init) moved.
    const B = await st.readF32(want[1]);
    expect(B.some((x) => x !== 0)).toBe(true);
  });

  await test.step('generate with and without the adapter, side by side', async () => {
    await keyboardTab(page, 'Playground');
    await expect(page.getByLabel('Adapter', { exact: true })).not.toHaveValue('');
    await tabTo(page, page.getByLabel('Max new tokens', { exact: true }));
    await typeInto(page, '12');
    await tabTo(page, page.getByRole('checkbox', { name: /Stop at end of sequence/ }));
    await page.keyboard.press('Space');
    await expect(page.getByRole('checkbox', { name: /Stop at end of sequence/ })).not.toBeChecked();
    await tabTo(page, page.getByLabel('Prompt', { exact: true }));
    await typeInto(page, 'What is the capital of France?');
    await page.keyboard.press('ControlOrMeta+Enter');
    expect(await unlabelledControls(page)).toEqual([]);
    for (const id of ['output-base', 'output-adapter']) {
      await expect(page.getByTestId(id)).toContainText('12 tokens', { timeout: 60_000 });
      await expect(page.getByTestId(`${id}-text`)).not.toBeEmpty();
    }
  });
});

test('a malformed dataset shows its own message and the studio stays usable', async ({ page }) => {
  await openStudio(page);
  await page.getByLabel('Dataset file', { exact: true }).setInputFiles({
    name: 'broken.jsonl', mimeType: 'application/jsonl',
    buffer: Buffer.from('{"instruction": "Say hi.", "input": "", "output": "Hi."}\n{"instruction": "Say bye.", "output": \n'),
  });
  const err = page.getByTestId('dataset-error');
  await expect(err).toContainText('broken.jsonl, line 2');
  await expect(err).toContainText('DatasetError');
  // The demo dataset is still loaded and a run can still be configured and started.
  await expect(page.getByTestId('dataset-info')).toContainText('dataset.jsonl');
  await page.getByRole('tab', { name: 'Configure' }).click();
  await expect(page.getByRole('button', { name: 'Train', exact: true })).toBeEnabled();
  await expect(page.getByTestId('trainable-params')).not.toBeEmpty();
});

test('a GPU lost during training stops the run with a message and keeps its curves', async ({ page }) => {
  await openStudio(page);
  await page.getByRole('tab', { name: 'Configure' }).click();
  await page.getByRole('radio', { name: 'steps' }).check();
  await page.getByLabel('Max steps').fill('200');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect.poll(() => drawnPoints(page.getByTestId('loss-chart')), { timeout: 120_000 }).toBeGreaterThanOrEqual(4);
  await page.evaluate(() => (globalThis as unknown as { __studio: { loseDevice(): Promise<void> } }).__studio.loseDevice());
  await expect(page.getByTestId('run-error')).toContainText('The GPU was lost after step', { timeout: 60_000 });
  await expect(page.getByTestId('run-status')).toHaveText('failed');
  await page.getByRole('tab', { name: 'Runs' }).click();
  await expect(page.getByTestId('run-row').first()).toContainText('failed');
  await page.getByRole('checkbox', { name: /^Compare/ }).first().check();
  await expect.poll(() => drawnPoints(page.getByTestId('overlay-loss'))).toBeGreaterThanOrEqual(2);
});
