/**
 * Rate and time left of a transfer measured in bytes (a download, the upload of a model to the
 * GPU): the average since the first figure, which steadies quickly and does not jump with every
 * chunk. No rate until half a second and 1% of the bytes have passed, so the first figure is not a
 * guess from one chunk.
 */
export interface TransferFigures {
  done: number;
  /** null while the size is unknown. */
  total: number | null;
  bytesPerS: number | null;
  /** Seconds left at the average rate; null without a rate or a total. */
  etaS: number | null;
}

export class TransferRate {
  private start: { t: number; done: number } | null = null;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The figures after `done` of `total` bytes. */
  update(done: number, total: number | null): TransferFigures {
    const t = this.now();
    this.start ??= { t, done };
    const seconds = (t - this.start.t) / 1000;
    const moved = done - this.start.done;
    const enough = seconds >= 0.5 && moved > 0 && (total === null || moved >= total / 100);
    const bytesPerS = enough ? moved / seconds : null;
    const etaS = bytesPerS && total !== null ? Math.max(0, total - done) / bytesPerS : null;
    return { done, total, bytesPerS, etaS };
  }
}

