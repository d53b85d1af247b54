/**
 * A run's record in the runs store while it trains: created at the start, its points saved in
 * batches every few seconds (so a crash or a lost GPU keeps the curves up to there) with what the
 * run came to so far (`final`: mean of the last 10 training losses, best validation loss), and its
 * outcome written at the end. A run resumed from a checkpoint reopens its record: the points
 * after the checkpoint are dropped, so the curve goes on from there without duplicates.
 */
import type { Engine } from '../engine/context';
import type { NewRun, RunFinal, RunRecord, RunStatus, RunStore, StepPoint } from '../io/stores/runs';
import { errorToPlain } from './errors';

const SAVE_EVERY_MS = 2000;
/** Training losses averaged for the run's figure (one batch's loss is noise). */
export const MEAN_OF_LAST = 10;

/** The running figures of a run's curve: the last losses, the last and the best validation loss. */
export class CurveSummary {
  private recent: number[] = [];
  lastVal: number | undefined;
  bestVal: { loss: number; step: number } | undefined;

  add(p: StepPoint): void {
    if (Number.isFinite(p.loss)) {
      this.recent.push(p.loss);
      if (this.recent.length > MEAN_OF_LAST) this.recent.shift();
    }
    if (p.evalLoss !== undefined && Number.isFinite(p.evalLoss)) {
      this.lastVal = p.evalLoss;
      if (!this.bestVal || p.evalLoss < this.bestVal.loss) this.bestVal = { loss: p.evalLoss, step: p.step };
    }
  }

  get trainLossMean(): number | undefined {
    return this.recent.length ? this.recent.reduce((a, b) => a + b, 0) / this.recent.length : undefined;
  }
}

export class RunRecorder {
  private pending: StepPoint[] = [];
  private readonly summary = new CurveSummary();
  private lastSave = Date.now();
  last: StepPoint | null = null;
  /** Points of the run so far (saved or pending). */
  pointCount: number;

  private constructor(private readonly runs: RunStore, public record: RunRecord) {
    this.pointCount = record.pointCount;
  }

  /** A new run; `nameFor` makes its name from its number in this browser (when no name was given). */
  static async start(runs: RunStore, run: NewRun, nameFor?: (seq: number) => string): Promise<RunRecorder> {
    return new RunRecorder(runs, await runs.create(run, nameFor));
  }

  /** Continue a stored run from a checkpoint: keep its first `keepPoints` points, status back to running. */
  static async reopen(runs: RunStore, id: string, keepPoints: number): Promise<{ rec: RunRecorder; kept: StepPoint[] }> {
    await runs.truncatePoints(id, keepPoints);
    const record = await runs.update(id, { status: 'running', error: undefined, final: undefined, adapterId: undefined, fullModelId: undefined, adapterStep: undefined, stoppedEarly: undefined });
    const rec = new RunRecorder(runs, record);
    const kept = await runs.points(id);
    for (const p of kept) rec.summary.add(p);
    rec.last = kept.at(-1) ?? null;
    rec.pointCount = kept.length;
    return { rec, kept };
  }

  add(point: StepPoint): void {
    this.pending.push(point);
    this.last = point;
    this.pointCount++;
    this.summary.add(point);
  }

  /** The base model's validation loss (before step 1), kept with the run. */
  async setBaseValLoss(loss: number): Promise<void> {
    this.record = await this.runs.update(this.record.id, { baseValLoss: loss });
  }

  /** Save the points so far when the last save is a few seconds old (between steps). */
  async maybeSave(): Promise<void> {
    if (Date.now() - this.lastSave > SAVE_EVERY_MS) await this.save();
  }

  async save(): Promise<void> {
    const batch = this.pending.splice(0);
    this.lastSave = Date.now();
    // What the run came to so far goes with its points: a run that dies later still shows it in Runs.
    if (batch.length) await this.runs.appendPoints(this.record.id, batch, { final: this.final(null) });
  }

  private final(engine: Engine | null): RunFinal {
    const last = this.last;
    const { trainLossMean, lastVal, bestVal } = this.summary;
    return {
      trainLoss: last?.loss ?? NaN, ...(trainLossMean !== undefined ? { trainLossMean } : {}),
      ...(lastVal !== undefined ? { valLoss: lastVal } : {}), ...(bestVal ? { bestVal } : {}),
      peakMemory: engine?.pool.ledgerSnapshot().peakTotal ?? last?.memoryPeak ?? 0, wallMs: last?.elapsedMs ?? 0, steps: last?.step ?? 0,
    };
  }

  /**
   * `kept`: the adapter (or, for full finetuning, the model) saved in the library; `about`: what
   * else the record says of its end (early stopping: where it stopped, which step the weights hold).
   */
  async finish(
    status: Extract<RunStatus, 'completed' | 'stopped'>, kept: Pick<RunRecord, 'adapterId' | 'fullModelId'>, engine: Engine, about: Pick<RunRecord, 'adapterStep' | 'stoppedEarly'> = {},
  ): Promise<RunRecord> {
    await this.save();
    this.record = await this.runs.update(this.record.id, { status, ...kept, final: this.final(engine), ...about });
    return this.record;
  }

  /**
   * Keep what was saved and say why the run ended (`interrupted`: it can be resumed from its
   * checkpoint); never throws (the original error matters more).
   */
  async fail(err: unknown, engine: Engine | null, status: Extract<RunStatus, 'failed' | 'interrupted'> = 'failed'): Promise<void> {
    await this.save().catch(() => undefined);
    const e = errorToPlain(err);
    this.record = await this.runs.update(this.record.id, {
      status, error: { name: e.name, message: e.message }, ...(this.last ? { final: this.final(engine) } : {}),
    }).catch(() => this.record);
  }
}
