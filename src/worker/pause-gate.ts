/** Holds a loop between steps while paused; `wait` resolves with the milliseconds it held. */
export class PauseGate {
  private paused: { since: number; release: () => void; done: Promise<void> } | null = null;

  /** Returns false when already paused. */
  pause(): boolean {
    if (this.paused) return false;
    let release!: () => void;
    const done = new Promise<void>((r) => { release = r; });
    this.paused = { since: performance.now(), release, done };
    return true;
  }

  /** Returns false when not paused. */
  resume(): boolean {
    if (!this.paused) return false;
    this.paused.release();
    this.paused = null;
    return true;
  }

  get isPaused(): boolean {
    return this.paused !== null;
  }

  async wait(): Promise<number> {
    const p = this.paused;
    if (!p) return 0;
    await p.done;
    return performance.now() - p.since;
  }
}
