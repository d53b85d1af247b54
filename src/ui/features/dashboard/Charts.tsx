/** The dashboard's curves from the points so far: downsampled for drawing, redrawn at a bounded rate. */
import { memo, useId, useMemo } from 'react';
import type { StepPoint } from '../../../worker/api';
import { downsampleColumns } from '../../charts/downsample';
import { LineCard, type Series } from '../../charts/LineCard';
import { ema } from '../../charts/smoothing';
import { tick } from '../../components/format';
import { MemoryChart } from './MemoryChart';
import { useDashboardView } from './store';

/** Points drawn per series, whatever the run's length. */
export const MAX_DRAWN = 300;

/** The logged metrics as columns (one pass over the points; NaN where a step has no value). */
function columns(points: readonly StepPoint[]) {
  const n = points.length;
  const col = () => new Float64Array(n);
  const c = { step: col(), loss: col(), lr: col(), gradNorm: col(), tps: col(), lossTps: col(), evalLoss: col() };
  points.forEach((p, i) => {
    c.step[i] = p.step; c.loss[i] = p.loss; c.lr[i] = p.lr; c.gradNorm[i] = p.gradNorm; c.tps[i] = p.tokensPerSecond; c.lossTps[i] = p.lossTokensPerSecond ?? NaN;
    c.evalLoss[i] = p.evalLoss ?? NaN;
  });
  return c;
}

/** Throughput is drawn smoothed: one step's figure swings with its batch. */
const THROUGHPUT_SMOOTHING = 0.8;

export const Charts = memo(function Charts({ points, gradClip, baseValLoss }: { points: readonly StepPoint[]; gradClip?: number; baseValLoss?: number | null }) {
  const view = useDashboardView();
  const smoothId = useId();
  const c = useMemo(() => columns(points), [points]);
  const draw = (ys: Float64Array) => downsampleColumns(c.step, ys, MAX_DRAWN);
  const lossSeries = useMemo<Series[]>(() => [
    { name: 'train loss', data: draw(c.loss), color: '#9fb7d6', width: 1 },
    { name: `smoothed (${view.smoothing})`, data: draw(ema(c.loss, view.smoothing)), color: '#2f6fb0', width: 2 },
    // The validation curve starts from the base model, measured before step 1.
    { name: 'validation loss', data: [...(baseValLoss !== null && baseValLoss !== undefined ? [{ x: 0, y: baseValLoss }] : []), ...draw(c.evalLoss)], color: '#d0672a', dots: true },
  ], [c, view.smoothing, baseValLoss]); // eslint-disable-line react-hooks/exhaustive-deps
  const lrSeries = useMemo<Series[]>(() => [{ name: 'learning rate', data: draw(c.lr), color: '#3a9a5b' }], [c]); // eslint-disable-line react-hooks/exhaustive-deps
  const gradSeries = useMemo<Series[]>(() => [{ name: 'gradient norm', data: draw(c.gradNorm), color: '#a23d8f' }], [c]); // eslint-disable-line react-hooks/exhaustive-deps
  const tpsSeries = useMemo<Series[]>(() => [
    { name: 'tokens processed / s', data: draw(ema(c.tps, THROUGHPUT_SMOOTHING)), color: '#1b9aaa' },
    { name: 'loss tokens / s', data: draw(ema(c.lossTps, THROUGHPUT_SMOOTHING)), color: '#7a5cb8', dashed: true },
  ], [c]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <div className="charts">
      <LineCard title="Loss" testId="loss-chart" series={lossSeries} yFormat={tick} logY={view.logLoss}
        extra={
          <span className="chart-controls">
            <label htmlFor={smoothId}>Smoothing</label>
            <input id={smoothId} type="range" min={0} max={0.99} step={0.01} value={view.smoothing} onChange={(e) => view.set({ smoothing: Number(e.target.value) })} />
            <label className="check-label"><input type="checkbox" checked={view.logLoss} onChange={(e) => view.set({ logLoss: e.target.checked })} /> log</label>
          </span>
        } />
      <MemoryChart points={points} />
      <LineCard title="Learning rate" testId="lr-chart" series={lrSeries} yFormat={tick} />
      <LineCard title="Gradient norm" testId="grad-chart" series={gradSeries} yFormat={tick} refY={gradClip && gradClip > 0 ? gradClip : undefined} refLabel="clip" />
      <LineCard title="Throughput (tokens / s, smoothed)" testId="tps-chart" series={tpsSeries} yFormat={tick} />
    </div>
  );
});
