/**
 * One metric of several runs on one step axis, each run in its colour. With `smoothing`, each run
 * is drawn as TensorBoard draws it: the debiased EMA in full colour over the raw curve, faint
 * behind. The legend is a list under the plot, never over the curves.
 */
import { useMemo } from 'react';
import type { RunRecord, StepPoint } from '../../../worker/api';
import { downsampleColumns } from '../../charts/downsample';
import { LineCard, type Series } from '../../charts/LineCard';
import { ema } from '../../charts/smoothing';
import { tick } from '../../components/format';

/** Points drawn per curve, whatever the run's length. */
const MAX_DRAWN = 400;
/** How strongly the raw curve shows behind the smoothed one. */
const RAW_OPACITY = 0.25;

export function OverlayChart({ title, testId, runs, colors, points, y, dots, start, smoothing }: {
  title: string; testId: string; runs: RunRecord[]; colors: Record<string, string>; points: Record<string, StepPoint[]>; y: (p: StepPoint) => number | undefined; dots?: boolean;
  /** A run's value at step 0 (the base model's validation loss), drawn first. */
  start?: (r: RunRecord) => number | undefined;
  /** EMA weight (0 = raw only); undefined: the raw curve alone, in full colour. */
  smoothing?: number;
}) {
  const series = useMemo<Series[]>(() => runs.flatMap((r): Series[] => {
    const pts = points[r.id] ?? [];
    const s0 = start?.(r);
    const xs = Float64Array.from([...(s0 !== undefined ? [0] : []), ...pts.map((p) => p.step)]);
    const ys = Float64Array.from([...(s0 !== undefined ? [s0] : []), ...pts.map((p) => y(p) ?? NaN)]);
    const raw = downsampleColumns(xs, ys, MAX_DRAWN);
    if (smoothing === undefined || smoothing <= 0) return [{ name: r.name, color: colors[r.id], dots, data: raw }];
    return [
      { name: `${r.name} (raw)`, color: colors[r.id], data: raw, width: 1, opacity: RAW_OPACITY },
      { name: r.name, color: colors[r.id], data: downsampleColumns(xs, ema(ys, smoothing), MAX_DRAWN), width: 2, dots },
    ];
  }), [runs, colors, points, y, dots, start, smoothing]);
  const smoothed = smoothing !== undefined && smoothing > 0;
  const legend = (
    <ul className="chart-legend" data-testid={`${testId}-legend`} aria-label={`${title}: runs`}>
      {runs.map((r) => <li key={r.id}><span className="swatch" style={{ background: colors[r.id] }} />{r.name}</li>)}
      {smoothed && <li className="muted">faint: raw values; solid: smoothed ({smoothing})</li>}
    </ul>
  );
  return <LineCard title={title} testId={testId} series={series} yFormat={tick} legend={legend} />;
}
