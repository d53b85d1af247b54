/** Shown while another tab of this browser trains: this view is read-only, and that run's progress. */
import { useEffect, useMemo } from 'react';
import { LineCard } from '../../charts/LineCard';
import { downsample } from '../../charts/downsample';
import { useThrottled } from '../../charts/use-throttled';
import { loss as fmtLoss } from '../../components/format';
import { useOtherTab, watchOtherTabs } from './store';

export function OtherTabBanner() {
  const other = useOtherTab();
  useEffect(() => watchOtherTabs(), []);
  const drawn = useThrottled(other.points, 500);
  const series = useMemo(() => [{ name: 'loss', color: '#2f6fb0', data: downsample(drawn, (p) => p.step, (p) => p.loss, 200).map((p) => ({ x: p.step, y: p.loss })) }], [drawn]);
  if (!other.active) return null;
  const last = other.points[other.points.length - 1];
  return (
    <section className="banner" role="status" aria-live="polite" data-testid="other-tab-banner" aria-label="Training in another tab">
      <strong>Training in another tab — this view is read-only.</strong>{' '}
      <span>
        {other.run ? `Run "${other.run.name}"` : 'A run'}: {last ? `step ${last.step} of ${other.totalSteps}, loss ${fmtLoss(last.loss)}` : 'starting'}
        {other.paused ? ' (paused)' : ''}. Only one tab can train at a time; stop that run in its tab (or close it) to train here.
      </span>
      {other.points.length > 0 && <LineCard title="Loss (other tab)" series={series} testId="other-tab-loss" />}
    </section>
  );
}
