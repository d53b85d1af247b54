/**
 * One metric of a sweep against one of its varying fields: a line per combination of the other
 * fields when the field is numeric (validation loss against rank, a line per target set), bars
 * by category otherwise (score by target set).
 */
import { useId, useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { SweepRecord } from '../../../worker/sweep-types';
import { RUN_PALETTE } from '../../components/colors';
import { tick } from '../../components/format';
import { labelOf } from '../../stores/field-labels';
import { bestKey } from '../../../train/sweep/results';
import { chartSeries, type Column, type Row } from './table';

export function ResultsChart({ record, columns, rows }: { record: SweepRecord; columns: Column[]; rows: Row[] }) {
  const metrics = columns.filter((c) => c.kind !== 'field');
  const fields = record.axes.map(([f]) => f);
  // Until the person picks one: the validation loss, or the training loss when no run has validation.
  const [metric, setMetric] = useState<string | null>(null);
  const [field, setField] = useState(fields[0] ?? '');
  const m = metrics.find((c) => c.key === (metric ?? bestKey(rows.map((r) => r.cells)))) ?? metrics[0];
  const f = fields.includes(field) ? field : fields[0];
  const { series, numeric, categories } = useMemo(() => chartSeries(record, rows, f, m.key), [record, rows, f, m.key]);
  const metricId = useId();
  const fieldId = useId();
  const points = series.reduce((n, s) => n + s.points.length, 0);
  const title = `${m.label} against ${labelOf(f)}`;
  // Bars: one datum per category with a value per series.
  const bars = useMemo(() => categories.map((c) => Object.fromEntries([['x', c], ...series.map((s) => [s.name, s.points.find((p) => p.x === c)?.y ?? null])])), [categories, series]);
  return (
    <figure className="chart-card sweep-chart" data-testid="sweep-chart" data-points={points} aria-label={`${title} chart, ${points} points`}>
      <figcaption>
        <span className="chart-controls">
          <label htmlFor={metricId}>Metric</label>
          <select id={metricId} value={m.key} onChange={(e) => setMetric(e.target.value)}>
            {metrics.map((c) => <option key={c.key} value={c.key}>{c.label}</option>)}
          </select>
          <label htmlFor={fieldId}>against</label>
          <select id={fieldId} value={f} onChange={(e) => setField(e.target.value)}>
            {fields.map((x) => <option key={x} value={x}>{labelOf(x)}</option>)}
          </select>
        </span>
      </figcaption>
      {points === 0 ? <div className="chart-empty muted">No finished run has this metric yet.</div> : (
        <ResponsiveContainer width="100%" height={240}>
          {numeric ? (
            <LineChart margin={{ top: 6, right: 12, bottom: 4, left: 0 }}>
              <CartesianGrid stroke="#e6e9ee" vertical={false} />
              <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} tick={{ fontSize: 11 }} tickFormatter={tick} height={24} allowDuplicatedCategory={false}
                label={{ value: labelOf(f), position: 'insideBottomRight', offset: -2, fontSize: 11 }} />
              <YAxis type="number" domain={['auto', 'auto']} tick={{ fontSize: 11 }} width={64} tickFormatter={tick} />
              <Tooltip formatter={(v) => (typeof v === 'number' ? tick(v) : String(v))} labelFormatter={(l) => `${labelOf(f)} ${l}`} isAnimationActive={false} />
              <Legend verticalAlign="bottom" wrapperStyle={{ fontSize: 11 }} />
              {series.map((s, i) => (
                <Line key={s.name} name={s.name} data={s.points} dataKey="y" stroke={RUN_PALETTE[i % RUN_PALETTE.length]} dot={{ r: 3 }} isAnimationActive={false} type="linear" />
              ))}
            </LineChart>
          ) : (
            <BarChart data={bars} margin={{ top: 6, right: 12, bottom: 4, left: 0 }}>
              <CartesianGrid stroke="#e6e9ee" vertical={false} />
              <XAxis dataKey="x" type="category" tick={{ fontSize: 11 }} height={24} />
              <YAxis type="number" domain={['auto', 'auto']} tick={{ fontSize: 11 }} width={64} tickFormatter={tick} />
              <Tooltip formatter={(v) => (typeof v === 'number' ? tick(v) : String(v))} isAnimationActive={false} />
              <Legend verticalAlign="bottom" wrapperStyle={{ fontSize: 11 }} />
              {series.map((s, i) => <Bar key={s.name} dataKey={s.name} fill={RUN_PALETTE[i % RUN_PALETTE.length]} isAnimationActive={false} />)}
            </BarChart>
          )}
        </ResponsiveContainer>
      )}
    </figure>
  );
}
