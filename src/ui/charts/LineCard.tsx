/**
 * One chart card: several series on a shared numeric step axis, each already downsampled by the
 * caller. Animation is off (live data), and the drawn point count is exposed for tests.
 */
import type { ReactNode } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

export interface Series {
  name: string;
  data: { x: number; y: number }[];
  color: string;
  dashed?: boolean;
  dots?: boolean;
  width?: number;
  /** Stroke opacity (a faint raw curve behind its smoothed one). */
  opacity?: number;
}

export function LineCard({ title, series, testId, yFormat, logY, refY, refLabel, extra, xLabel = 'step', legend }: {
  title: string; series: Series[]; testId: string; yFormat?: (v: number) => string; logY?: boolean; refY?: number; refLabel?: string; extra?: ReactNode; xLabel?: string;
  /** A legend of the caller's own, drawn under the plot (outside it) in place of the chart's. */
  legend?: ReactNode;
}) {
  const points = series.reduce((n, s) => n + s.data.length, 0);
  const drawn = series.filter((s) => s.data.length > 0);
  const lastX = series.reduce((m, s) => Math.max(m, s.data[s.data.length - 1]?.x ?? -Infinity), -Infinity);
  return (
    <figure className="chart-card" data-testid={testId} data-points={points} data-last-x={Number.isFinite(lastX) ? lastX : undefined} aria-label={`${title} chart, ${points} points`}>
      <figcaption><span>{title}</span>{extra}</figcaption>
      {points === 0 ? <div className="chart-empty muted">waiting for the first step…</div> : (
        <ResponsiveContainer width="100%" height={190}>
          <LineChart margin={{ top: 6, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="#e6e9ee" vertical={false} />
            <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} tick={{ fontSize: 11 }} height={22} />
            <YAxis type="number" scale={logY ? 'log' : 'auto'} domain={logY ? ['auto', 'auto'] : ['auto', 'auto']} tick={{ fontSize: 11 }} width={56} tickFormatter={yFormat} allowDataOverflow={false} />
            <Tooltip formatter={(v) => (typeof v === 'number' && yFormat ? yFormat(v) : String(v))} labelFormatter={(l) => `${xLabel} ${l}`} isAnimationActive={false} />
            {drawn.length > 1 && legend === undefined && <Legend verticalAlign="top" height={20} wrapperStyle={{ fontSize: 11 }} />}
            {refY !== undefined && <ReferenceLine y={refY} stroke="#c4524e" strokeDasharray="4 3" label={{ value: refLabel, fontSize: 10, position: 'insideTopRight' }} />}
            {drawn.map((s, i) => (
              <Line key={`${i}:${s.name}`} name={s.name} data={s.data} dataKey="y" stroke={s.color} strokeWidth={s.width ?? 1.5} strokeOpacity={s.opacity} strokeDasharray={s.dashed ? '4 3' : undefined}
                dot={s.dots ? { r: 2.5 } : false} isAnimationActive={false} type="linear" connectNulls />
            ))}
          </LineChart>
        </ResponsiveContainer>
      )}
      {points > 0 && legend}
    </figure>
  );
}
