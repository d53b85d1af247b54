/** One metric of several runs on one step axis, each run in its colour. */
import { useMemo } from 'react';
import type { RunRecord, StepPoint } from '../../../worker/api';
import { downsample } from '../../charts/downsample';
import { LineCard, type Series } from '../../charts/LineCard';
import { tick } from '../../components/format';

export function OverlayChart({ title, testId, runs, colors, points, y, dots, start }: {
  title: string; testId: string; runs: RunRecord[]; colors: Record<string, string>; points: Record<string, StepPoint[]>; y: (p: StepPoint) => number | undefined; dots?: boolean;
  /** A run's value at step 0 (the base model's validation loss), drawn first. */
  start?: (r: RunRecord) => number | undefined;
}) {
  const series = useMemo<Series[]>(() => runs.map((r) => ({
    name: r.name,
    color: colors[r.id],
    dots,
    data: [
      ...(start?.(r) !== undefined ? [{ x: 0, y: start(r)! }] : []),
      ...downsample(points[r.id] ?? [], (p) => p.step, y, 400).map((p) => ({ x: p.step, y: y(p) as number })),
    ],
  })), [runs, colors, points, y, dots, start]);
  return <LineCard title={title} testId={testId} series={series} yFormat={tick} />;
}
