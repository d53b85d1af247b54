/**
 * What the charts draw, never what is stored: Largest-Triangle-Three-Buckets keeps the shape of
 * a curve (its spikes survive) in a fixed number of points, so 10,000 steps draw as fast as 500.
 */

/** Indices of at most `threshold` points of (xs, ys) by LTTB; first and last are always kept. */
export function lttbIndices(xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): number[] {
  const n = xs.length;
  if (threshold >= n || threshold < 3) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [0];
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    // The average of the next bucket is the third corner of the triangle.
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) { avgX += xs[j]; avgY += ys[j]; }
    const len = Math.max(1, nextEnd - nextStart);
    avgX /= len;
    avgY /= len;
    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    let best = start;
    let bestArea = -1;
    for (let j = start; j < end; j++) {
      const area = Math.abs((xs[a] - avgX) * (ys[j] - ys[a]) - (xs[a] - xs[j]) * (avgY - ys[a]));
      if (area > bestArea) { bestArea = area; best = j; }
    }
    out.push(best);
    a = best;
  }
  out.push(n - 1);
  return out;
}

/** Rows of `data` chosen by LTTB on (x, y); rows whose y is not finite are dropped first. */
export function downsample<T>(data: readonly T[], x: (d: T) => number, y: (d: T) => number | undefined, threshold: number): T[] {
  const rows = data.filter((d) => Number.isFinite(y(d)));
  if (rows.length <= threshold) return rows;
  const xs = Float64Array.from(rows, x);
  const ys = Float64Array.from(rows, (d) => y(d) as number);
  return lttbIndices(xs, ys, threshold).map((i) => rows[i]);
}

/** Evenly spaced rows plus the row where `y` peaks (stacked areas: LTTB of the total). */
export function strideWithPeak<T>(data: readonly T[], y: (d: T) => number, threshold: number): T[] {
  if (data.length <= threshold) return [...data];
  let peak = 0;
  for (let i = 1; i < data.length; i++) if (y(data[i]) > y(data[peak])) peak = i;
  const idx = new Set<number>([0, data.length - 1, peak]);
  const step = (data.length - 1) / (threshold - 2);
  for (let k = 0; k < threshold - 2; k++) idx.add(Math.round(k * step));
  return [...idx].sort((a, b) => a - b).map((i) => data[i]);
}

/**
 * LTTB on columns: (x, y) pairs of at most `threshold` points, skipping non-finite y (a metric
 * logged on some steps only). No per-point objects or callbacks: the dashboard's hot path.
 */
export function downsampleColumns(xs: Float64Array, ys: Float64Array, threshold: number): { x: number; y: number }[] {
  let n = 0;
  for (let i = 0; i < ys.length; i++) if (Number.isFinite(ys[i])) n++;
  let X = xs;
  let Y = ys;
  if (n !== ys.length) {
    X = new Float64Array(n);
    Y = new Float64Array(n);
    for (let i = 0, j = 0; i < ys.length; i++) if (Number.isFinite(ys[i])) { X[j] = xs[i]; Y[j++] = ys[i]; }
  }
  return lttbIndices(X, Y, threshold).map((i) => ({ x: X[i], y: Y[i] }));
}
