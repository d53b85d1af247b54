/** GPU memory by category over the run as a stacked area (the pool's ledger), the peak marked. */
import { CATEGORIES } from '../../../core/memory-categories';
import { useMemo } from 'react';
import { Area, AreaChart, CartesianGrid, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { StepPoint } from '../../../worker/api';
import { bytes } from '../../components/format';
import { CATEGORY_COLORS } from '../../components/colors';
import { strideWithPeak } from '../../charts/downsample';

const MAX_DRAWN = 400;

export function MemoryChart({ points }: { points: readonly StepPoint[] }) {
  const data = useMemo(() => strideWithPeak(points, (p) => p.memoryTotal, MAX_DRAWN).map((p) => ({ x: p.step, ...p.memory })), [points]);
  const peak = points.reduce((m, p) => Math.max(m, p.memoryPeak), 0);
  return (
    <figure className="chart-card" data-testid="memory-chart" data-points={data.length} aria-label={`GPU memory chart, peak ${bytes(peak)}`}>
      <figcaption><span>GPU memory by category</span><span className="muted">peak {bytes(peak)}</span></figcaption>
      {data.length === 0 ? <div className="chart-empty muted">waiting for the first step…</div> : (
        <ResponsiveContainer width="100%" height={190}>
          <AreaChart data={data} margin={{ top: 6, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="#e6e9ee" vertical={false} />
            <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} tick={{ fontSize: 11 }} height={28} />
            <YAxis tickFormatter={(v: number) => bytes(v)} tick={{ fontSize: 11 }} width={64} domain={[0, (max: number) => Math.max(max, peak) * 1.08]} />
            <Tooltip formatter={(v) => bytes(Number(v))} labelFormatter={(l) => `step ${l}`} isAnimationActive={false} />
            {CATEGORIES.map((c) => (
              <Area key={c} type="stepAfter" dataKey={c} stackId="mem" stroke={CATEGORY_COLORS[c]} fill={CATEGORY_COLORS[c]} fillOpacity={0.55} isAnimationActive={false} />
            ))}
            <ReferenceLine y={peak} stroke="#1d2330" strokeDasharray="4 3" label={{ value: `peak ${bytes(peak)}`, fontSize: 10, position: 'insideTopLeft' }} />
          </AreaChart>
        </ResponsiveContainer>
      )}
      <ul className="legend">
        {CATEGORIES.map((c) => <li key={c}><i style={{ background: CATEGORY_COLORS[c] }} />{c}</li>)}
      </ul>
    </figure>
  );
}
