/**
 * What the studio's Sweep tab asks the worker and gets back: a base run config (the Configure
 * draft) with axes over its fields, the tasks every run is scored on, and the sweep's record,
 * kept in IndexedDB so a sweep continues after a reload. Structured-cloneable; the worker side is
 * ./sweep.ts, the grid and the results table are src/train/sweep/ (shared with the CLI).
 */
import type { RunConfig } from '../config/run-config';
import type { SweepAxis } from '../train/sweep/grid';
import type { SweepOutcome } from '../train/sweep/results';
import type { EvalProgress, EvalTaskSource } from './evaluation-types';

export type { SweepAxis, SweepOutcome };

/** Runs one sweep may hold: a grid past this is a mistake more often than a plan. */
export const MAX_SWEEP_RUNS = 64;

export interface SweepRequest {
  /** The sweep's name (default "Sweep N: rank × targets"). */
  name?: string;
  /** The run config every run starts from (the Configure draft); `alpha: "2x"` ties alpha to each run's rank. */
  base: Record<string, unknown>;
  /** The fields to vary and their values, the first varying slowest. */
  axes: SweepAxis[];
  /** Each run's adapter (a full finetuning run's model) is scored on these once it is trained. */
  tasks: EvalTaskSource[];
}

/** One planned run: what it varies and what it costs. */
export interface SweepPlannedRun {
  label: string;
  varying: Record<string, unknown>;
  trainableParams: number;
  /** The memory plan's total: the GPU memory the run allocates. */
  memoryBytes: number;
  steps: number;
  /** Why it cannot run on this GPU (empty when it fits). */
  problems: string[];
}

export interface SweepPlan {
  runs: SweepPlannedRun[];
  /** Index of the run that needs the most memory. */
  largest: number;
}

export type SweepRunStatus = 'queued' | 'training' | 'evaluating' | 'done' | 'stopped' | 'failed';

export interface SweepEntry {
  /** File-safe: index and varying values. */
  name: string;
  /** The varying values in words ("rank 4, targets query+value"). */
  label: string;
  config: RunConfig;
  varying: Record<string, unknown>;
  status: SweepRunStatus;
  /** The run in Runs (once it started). */
  runId?: string;
  adapterId?: string;
  /** A full finetuning run's model (instead of an adapter). */
  fullModelId?: string;
  outcome?: SweepOutcome;
  error?: string;
}

/** `interrupted`: the page went away (or the GPU was lost) while it ran; it continues from where it was. */
export type SweepStatus = 'running' | 'stopped' | 'completed' | 'interrupted';

export interface SweepRecord {
  version: 1;
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  status: SweepStatus;
  axes: SweepAxis[];
  /** The tasks and their names (the column prefix in the table). */
  tasks: { source: EvalTaskSource; name: string }[];
  /** What the sweep trains on (continuing checks that the same is loaded). */
  model: string;
  dataset: string;
  entries: SweepEntry[];
  /** Why the sweep stopped before its end, when it did not stop on purpose. */
  error?: string;
}

/** `RunEvent`: the worker's TrainEvent (a parameter, so this file and api.ts do not import each other). */
export type SweepEvent<RunEvent> =
  /** The record changed (a run started, ended, was scored). */
  | { type: 'sweep'; sweep: SweepRecord }
  /** An event of the run training now (entry `index`). */
  | { type: 'run'; index: number; event: RunEvent }
  /** Entry `index`'s adapter is being scored on `task`. */
  | { type: 'evaluating'; index: number; task: string; progress?: EvalProgress };

export interface SweepCalls<RunEvent> {
  /** Every run of the sweep with its trainable parameters, memory and steps, and the largest; refuses an invalid value naming it. */
  planSweep(req: Pick<SweepRequest, 'base' | 'axes'>): Promise<SweepPlan>;
  /** Train every run one after another, each recorded in Runs and scored on the tasks; resolves when the sweep ends or stops. */
  startSweep(req: SweepRequest, onEvent: (e: SweepEvent<RunEvent>) => void): Promise<SweepRecord>;
  /** Continue a stopped or interrupted sweep: its unfinished run from its checkpoint, then the rest. */
  continueSweep(id: string, onEvent: (e: SweepEvent<RunEvent>) => void): Promise<SweepRecord>;
  /** Stop the sweep after its current step (the run is kept as stopped, with a checkpoint to continue from). */
  stopSweep(): Promise<void>;
  /** Every sweep, newest first. */
  listSweeps(): Promise<SweepRecord[]>;
  /** Forget a sweep (its runs and adapters stay in Runs and the library). */
  deleteSweep(id: string): Promise<void>;
}
