/**
 * Early stopping and the best checkpoint. Each validation loss is compared with the best so far;
 * one lower by more than `earlyStoppingMinDelta` is the new best, and the LoRA parameters are
 * copied into `g.lora.best` on the GPU (queued behind the evaluation, so the copy holds the state
 * that was evaluated; nothing is read back). `earlyStoppingPatience` evaluations in a row without
 * an improvement end the run. The first evaluation after step 1 is the first best (the base
 * model's loss at step 0 is a reference point, not a candidate: its adapter is the untrained one).
 */
import { copyFlat } from '../model/graph/lora-state';
import type { TrainGraph } from '../model/graph/train-graph';

export interface BestEvaluation {
  /** The optimizer step (1-based) whose parameters were evaluated and kept. */
  step: number;
  loss: number;
}

/** Where early stopping stands between two steps: what a checkpoint keeps (with g.lora.best's parameters) and a resumed run continues from. */
export interface EarlyStoppingState {
  best: BestEvaluation | null;
  /** Evaluations since the best one. */
  sinceBest: number;
}

export class EarlyStopping {
  best: BestEvaluation | null = null;
  /** Evaluations since the best one. */
  sinceBest = 0;

  /** `resumed`: the state a checkpoint kept (its best parameters already written into g.lora.best). */
  constructor(private readonly g: TrainGraph, resumed?: EarlyStoppingState) {
    if (g.run.earlyStoppingPatience > 0 && !g.lora.best) throw new Error('early stopping needs the graph built with earlyStoppingPatience > 0 (its best-parameters buffer)');
    if (resumed) {
      this.best = resumed.best;
      this.sinceBest = resumed.sinceBest;
    }
  }

  state(): EarlyStoppingState {
    return { best: this.best, sinceBest: this.sinceBest };
  }

  get patience(): number {
    return this.g.run.earlyStoppingPatience;
  }

  /** An evaluation of the parameters after `step` steps: true when the run should stop now. */
  observe(step: number, loss: number): { improved: boolean; stop: boolean } {
    const improved = Number.isFinite(loss) && (this.best === null || loss < this.best.loss - this.g.run.earlyStoppingMinDelta);
    if (improved) {
      this.best = { step, loss };
      this.sinceBest = 0;
      this.keep();
    } else {
      this.sinceBest++;
    }
    return { improved, stop: !improved && this.sinceBest >= this.patience };
  }

  private keep(): void {
    const { device } = this.g.engine.gpu;
    const enc = device.createCommandEncoder({ label: 'keep best lora' });
    copyFlat(enc, this.g.lora.params, this.g.lora.best!);
    device.queue.submit([enc.finish()]);
  }
}
