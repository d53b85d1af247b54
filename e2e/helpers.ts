/** Shared steps of the studio's e2e flows. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Locator, type Page } from '@playwright/test';
import { parseModelConfig, type ModelConfig } from '../src/config/model-config';

/** The bundled demo on disk (E2E_DEMO_DIR points elsewhere when the server serves another demo through VITE_DEMO_BASE). */
export const DEMO_DIR = process.env.E2E_DEMO_DIR ?? 'public/demo';

export function demoConfig(): ModelConfig {
  return parseModelConfig(JSON.parse(readFileSync(join(DEMO_DIR, 'config.json'), 'utf8')));
}

/** Open the studio and wait until the demo model and dataset are loaded (they load by themselves). */
export async function openStudio(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('model-info')).toContainText('studio-demo', { timeout: 60_000 });
  await expect(page.getByTestId('dataset-info')).toContainText('dataset.jsonl', { timeout: 60_000 });
}

const isFocused = (l: Locator) => l.evaluate((el) => el === document.activeElement).catch(() => false);

/** Press Tab (keyboard only) until `target` has the focus; fails if it is not reachable. */
export async function tabTo(page: Page, target: Locator, max = 250): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await isFocused(target)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`could not reach ${target} with the Tab key in ${max} presses`);
}

/** Replace a focused text box's value by typing. */
export async function typeInto(page: Page, value: string): Promise<void> {
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type(value);
}

/** Points a chart draws (its data-points attribute). */
export async function drawnPoints(chart: Locator): Promise<number> {
  return Number((await chart.getAttribute('data-points')) ?? 0);
}

/** Every form control and button on the page without an accessible name (label, aria-label, text), as HTML snippets. */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('input, select, textarea, button, [role="tab"]')) {
      const labelled = el.getAttribute('aria-labelledby')?.split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
      const labels = 'labels' in el ? [...((el as HTMLInputElement).labels ?? [])].map((l) => l.textContent ?? '').join(' ') : '';
      const text = el.tagName === 'BUTTON' || el.getAttribute('role') === 'tab' ? el.textContent ?? '' : '';
      const name = [el.getAttribute('aria-label'), labelled, labels, text, el.getAttribute('title')].filter(Boolean).join(' ').trim();
      if (!name) out.push(el.outerHTML.slice(0, 160));
    }
    return out;
  });
}

/** Move to another tab with the keyboard: Tab to the tab list, then arrow keys. */
export async function keyboardTab(page: Page, name: string): Promise<void> {
  await tabTo(page, page.getByRole('tab', { selected: true }));
  const target = page.getByRole('tab', { name, exact: true });
  for (let i = 0; i < 8 && (await target.getAttribute('aria-selected')) !== 'true'; i++) await page.keyboard.press('ArrowRight');
  await expect(target).toHaveAttribute('aria-selected', 'true');
}
