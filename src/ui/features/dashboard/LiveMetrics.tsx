/**
 * The run's figures above the curves. Tokens per second are the tokens processed (every input
 * token of the steps) and, apart, those that count in the loss; both smoothed over the last steps
 * (a moving average), so the figure does not swing from one step to the next.
 */
import type { StepPoint } from '../../../worker/api';
import { meanOfLast, smoothedLast } from '../../charts/smoothing';
import { loss as fmtLoss, lr as fmtLr, rate } from '../../components/format';

/** Steps the smoothed figures look back over (an EMA of weight 0.9 forgets older ones anyway). */
const WINDOW = 60;

function lastEval(points: readonly StepPoint[]): number | undefined {
  for (let i = points.length - 1; i >= 0; i--) if (points[i].evalLoss !== undefined) return points[i].evalLoss;
  return undefined;
}

export function LiveMetrics({ points, baseValLoss }: { points: readonly StepPoint[]; baseValLoss: number | null }) {
  const last = points[points.length - 1];
  const recent = points.slice(-WINDOW);
  const tps = smoothedLast(recent.map((p) => p.tokensPerSecond));
  const lossTps = smoothedLast(recent.map((p) => p.lossTokensPerSecond));
  return (
    <dl className="kv inline-kv" data-testid="live-metrics">
      <dt>loss (mean of last 10)</dt><dd>{fmtLoss(meanOfLast(points.map((p) => p.loss)))}</dd>
      <dt>val loss</dt><dd>{fmtLoss(lastEval(points) ?? baseValLoss ?? undefined)}</dd>
      <dt>lr</dt><dd>{last ? fmtLr(last.lr) : '–'}</dd>
      <dt>grad norm</dt><dd>{last ? last.gradNorm.toFixed(3) : '–'}</dd>
      <dt>tokens/s</dt><dd data-testid="tokens-per-second" title="tokens processed per second (every input token), smoothed">{rate(tps)}</dd>
      <dt>loss tokens/s</dt><dd data-testid="loss-tokens-per-second" title="tokens per second that count in the loss, smoothed">{rate(lossTps)}</dd>
    </dl>
  );
}
