/**
 * A run's record in the runs store while it trains: created at the start, its points saved in
 * batches every few seconds (so a crash or a lost GPU keeps the curves up to there), and its
 * outcome written at the end. A run resumed from a checkpoint reopens its record: the points
 * after the checkpoint are dropped, so the curve goes on from there without duplicates.
 */
import type { Engine } from '../engine/context';
import type { NewRun, RunFinal, RunRecord, RunStatus, RunStore, StepPoint } from '../io/stores/runs';
import { errorToPlain } from './errors';

const SAVE_EVERY_MS = 2000;

export class RunRecorder {
  private pending: StepPoint[] = [];
  private lastSave = Date.now();
  last: StepPoint | null = null;
  /** Points of the run so far (saved or pending). */
  pointCount: number;

  private constructor(private readonly runs: RunStore, public record: RunRecord) {
    this.pointCount = record.pointCount;
  }

  static async start(runs: RunStore, run: NewRun): Promise<RunRecorder> {
    return new RunRecorder(runs, await runs.create(run));
  }

  /** Continue a stored run from a checkpoint: keep its first `keepPoints` points, status back to running. */
  static async reopen(runs: RunStore, id: string, keepPoints: number, last: StepPoint | null): Promise<RunRecorder> {
    await runs.truncatePoints(id, keepPoints);
    const record = await runs.update(id, { status: 'running', error: undefined, final: undefined, adapterId: undefined });
    const rec = new RunRecorder(runs, record);
    rec.last = last;
    rec.pointCount = Math.min(keepPoints, record.pointCount);
    return rec;
  }

  add(point: StepPoint): void {
    this.pending.push(point);
    this.last = point;
    this.pointCount++;
  }

  /** Save the points so far when the last save is a few seconds old (between steps). */
  async maybeSave(): Promise<void> {
    if (Date.now() - this.lastSave > SAVE_EVERY_MS) await this.save();
  }

  async save(): Promise<void> {
    const batch = this.pending.splice(0);
    this.lastSave = Date.now();
    if (batch.length) await this.runs.appendPoints(this.record.id, batch);
  }

  private final(engine: Engine | null): RunFinal {
    const last = this.last;
    return {
      trainLoss: last?.loss ?? NaN, ...(last?.evalLoss !== undefined ? { valLoss: last.evalLoss } : {}),
      peakMemory: engine?.pool.ledgerSnapshot().peakTotal ?? last?.memoryPeak ?? 0, wallMs: last?.elapsedMs ?? 0, steps: last?.step ?? 0,
    };
  }

  async finish(status: Extract<RunStatus, 'completed' | 'stopped'>, adapterId: string, engine: Engine): Promise<RunRecord> {
    await this.save();
    this.record = await this.runs.update(this.record.id, { status, adapterId, final: this.final(engine) });
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
