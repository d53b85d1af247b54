/** Token lengths of the examples as a histogram, with the maximum sequence length marked. */
import { useMemo } from 'react';

export function histogram(lengths: readonly number[], bins: number, limit: number): { lo: number; hi: number; count: number }[] {
  if (!lengths.length) return [];
  let max = limit + 1;
  for (const l of lengths) if (l > max) max = l;
  const width = Math.max(1, Math.ceil(max / bins));
  const out = Array.from({ length: Math.ceil((max + 1) / width) }, (_, i) => ({ lo: i * width, hi: (i + 1) * width - 1, count: 0 }));
  for (const l of lengths) out[Math.floor(l / width)].count++;
  return out;
}

export function LengthHistogram({ lengths, maxSeqLen }: { lengths: readonly number[]; maxSeqLen: number }) {
  const bins = useMemo(() => histogram(lengths, 40, maxSeqLen), [lengths, maxSeqLen]);
  const W = 520;
  const H = 120;
  const pad = { l: 32, r: 8, t: 8, b: 22 };
  if (!bins.length) return null;
  const top = Math.max(...bins.map((b) => b.count));
  const xMax = bins[bins.length - 1].hi + 1;
  const x = (v: number) => pad.l + ((W - pad.l - pad.r) * v) / xMax;
  const y = (c: number) => H - pad.b - ((H - pad.t - pad.b) * c) / top;
  const cut = lengths.filter((l) => l > maxSeqLen + 1).length;
  return (
    <figure className="histogram">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Token lengths of ${lengths.length} examples; ${cut} longer than the maximum sequence length ${maxSeqLen}`} data-testid="length-histogram">
        {bins.map((b) => (
          <rect key={b.lo} x={x(b.lo) + 0.5} y={y(b.count)} width={Math.max(1, x(b.hi + 1) - x(b.lo) - 1)} height={H - pad.b - y(b.count)} className={b.lo > maxSeqLen ? 'bar cut' : 'bar'}>
            <title>{`${b.lo}–${b.hi} tokens: ${b.count}`}</title>
          </rect>
        ))}
        <line x1={pad.l} x2={W - pad.r} y1={H - pad.b} y2={H - pad.b} className="axis" />
        <text x={pad.l} y={H - 6} className="tick">0</text>
        <text x={W - pad.r} y={H - 6} className="tick" textAnchor="end">{xMax} tokens</text>
        <text x={pad.l - 4} y={pad.t + 8} className="tick" textAnchor="end">{top}</text>
        <line x1={x(maxSeqLen)} x2={x(maxSeqLen)} y1={pad.t} y2={H - pad.b} className="limit" />
        <text x={x(maxSeqLen) + (x(maxSeqLen) > W - 80 ? -4 : 4)} y={pad.t + 10} className="tick limit-label" textAnchor={x(maxSeqLen) > W - 80 ? 'end' : 'start'}>max {maxSeqLen}</text>
      </svg>
      <figcaption className="muted small">{cut ? `${cut} examples longer than ${maxSeqLen} tokens are cut.` : `Every example fits in ${maxSeqLen} tokens.`}</figcaption>
    </figure>
  );
}
