/**
 * A run's record in the runs store while it trains: created at the start, its points saved in
 * batches every few seconds (so a crash or a lost GPU keeps the curves up to there), and its
 * outcome written at the end. The pause hook is where issue 7's checkpoints will be written too.
 */
import type { Engine } from '../engine/context';
import type { NewRun, RunFinal, RunRecord, RunStatus, RunStore, StepPoint } from '../io/stores/runs';
import { errorToPlain } from './errors';

const SAVE_EVERY_MS = 2000;

export class RunRecorder {
  private pending: StepPoint[] = [];
  private lastSave = Date.now();
  last: StepPoint | null = null;

  private constructor(private readonly runs: RunStore, public record: RunRecord) {}

  static async start(runs: RunStore, run: NewRun): Promise<RunRecorder> {
    return new RunRecorder(runs, await runs.create(run));
  }

  add(point: StepPoint): void {
    this.pending.push(point);
    this.last = point;
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

  /** Keep what was saved and say why the run ended; never throws (the original error matters more). */
  async fail(err: unknown, engine: Engine | null): Promise<void> {
    await this.save().catch(() => undefined);
    const e = errorToPlain(err);
    this.record = await this.runs.update(this.record.id, {
      status: 'failed', error: { name: e.name, message: e.message }, ...(this.last ? { final: this.final(engine) } : {}),
    }).catch(() => this.record);
  }
}
