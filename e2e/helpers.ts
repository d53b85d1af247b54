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

/** Console errors and failed requests of a page from now on (a failed request: a network failure or an HTTP status >= 400). */
export function watchProblems(page: Page): { problems: string[] } {
  const out = { problems: [] as string[] };
  page.on('console', (m) => { if (m.type() === 'error') out.problems.push(`console error: ${m.text()} (${m.location().url})`); });
  page.on('pageerror', (e) => out.problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => out.problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => { if (r.status() >= 400) out.problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`); });
  return out;
}

/** "validation loss A → B" on the page, as numbers. */
export async function outcomeLosses(page: Page): Promise<{ base: number; best: number }> {
  const text = (await page.getByTestId('run-outcome').textContent()) ?? '';
  const m = /validation loss (\d+\.\d+) → (\d+\.\d+)/.exec(text);
  if (!m) throw new Error(`no "validation loss A → B" in: ${text}`);
  return { base: Number(m[1]), best: Number(m[2]) };
}

/** Buttons whose accessible name does not contain their visible label (WCAG 2.5.3, label in name), as "label | name". */
export function labelNotInName(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const squash = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();
    for (const el of document.querySelectorAll<HTMLElement>('button, [role="tab"]')) {
      const label = squash(el.innerText ?? '');
      const aria = el.getAttribute('aria-label');
      if (!label || !aria) continue;
      if (!squash(aria).includes(label)) out.push(`${label} | ${aria}`);
    }
    return out;
  });
}

/** Start the studio with these run settings in the saved Configure draft (the rest are the studio's defaults). */
export async function withRunSettings(page: Page, settings: Record<string, unknown>): Promise<void> {
  await page.addInitScript((draft) => {
    if (!sessionStorage.getItem('e2e-settings-applied')) {
      localStorage.setItem('finetune-studio:run-config', JSON.stringify({ state: { draft }, version: 1 }));
      sessionStorage.setItem('e2e-settings-applied', '1'); // once: a reload keeps what the page saved since
    }
  }, settings);
}

/** Press Train on the Train tab and wait for the run to end (done or stopped). */
export async function trainOnce(page: Page): Promise<void> {
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.getByRole('button', { name: /^(Train|Train again)$/ }).first().click();
  await expect(page.getByTestId('run-done')).toBeVisible({ timeout: 180_000 });
}
