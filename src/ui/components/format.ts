/** Number formats the studio uses everywhere (kept short: dense tables). */
import type { TransferFigures } from '../../core/transfer-rate';

export function bytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** A transfer's figures: "412 MiB / 988 MiB · 35.2 MiB/s · 17s left" (the parts that are known). */
export function transfer(f: TransferFigures, extra?: string): string {
  const parts = [`${bytes(f.done)}${f.total !== null ? ` / ${bytes(f.total)}` : ''}`];
  if (f.bytesPerS !== null) parts.push(`${bytes(f.bytesPerS)}/s`);
  if (f.etaS !== null && f.total !== null && f.done < f.total) parts.push(`${duration(1000 * f.etaS)} left`);
  if (extra) parts.push(extra);
  return parts.join(' · ');
}

export function count(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n.toLocaleString('en-US');
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function loss(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(4);
}

export function lr(x: number): string {
  return Number.isFinite(x) ? x.toExponential(2) : '–';
}

export function percent(x: number, digits = 2): string {
  return Number.isFinite(x) ? `${x < 0.01 && x > 0 ? x.toExponential(1) : x.toFixed(digits)}%` : '–';
}

/** An axis tick: three significant digits, exponent form for very small or large values. */
export function tick(v: number): string {
  if (!Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

export function date(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}

/** A rate such as tokens per second: whole numbers when large, two significant digits when small (0.05, not 0). */
export function rate(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  if (Math.abs(x) >= 100) return count(Math.round(x));
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return String(Number(x.toPrecision(2)));
}
