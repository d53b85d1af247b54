/**
 * The benchmark's results file: every figure, the adapter, and the `summary` whose keys are fixed
 * (runs are compared over time by them), plus the targets of issue 6 checked against the figures,
 * the console table and BENCHMARKS.md. Pure functions of the measured results.
 */
import type { GpuAdapterInfo, GpuFeatures } from '../engine/device';
import type { ModelConfig } from '../config/model-config';
import type { RunConfigInput } from '../config/run-config';
import type { MatmulResult } from './matmul-bench';
import type { StepResult } from './step-bench';
import type { WeightMatmulResult } from './weight-bench';

/** The step configurations the summary compares, by name. */
export const STEP_NAMES = { base: '16-bit', nf4: 'nf4', nf4dq: 'nf4+dq', ckpt: '16-bit+checkpointing' } as const;

export interface Summary {
  adapter: string;
  matmul_vs_tfjs_min_ratio: number | null;
  mfu: number;
  nf4_vs_16bit_step_time_ratio: number;
  nf4_vs_16bit_weight_bytes_ratio: number;
  nf4_dq_vs_16bit_weight_bytes_ratio: number;
  nf4_vs_16bit_peak_memory_ratio: number;
  plan_equals_ledger: boolean;
  checkpointing_activation_memory_ratio: number;
  checkpointing_step_time_ratio: number;
  train_tokens_per_s: number;
  /** 16-bit step time of the bench sizes as a Qwen3 / a Gemma 3, over the Llama's (null when not run). */
  qwen3_vs_llama_step_time_ratio: number | null;
  gemma3_vs_llama_step_time_ratio: number | null;
}

export const SUMMARY_KEYS = [
  'adapter', 'matmul_vs_tfjs_min_ratio', 'mfu', 'nf4_vs_16bit_step_time_ratio', 'nf4_vs_16bit_weight_bytes_ratio',
  'nf4_dq_vs_16bit_weight_bytes_ratio', 'nf4_vs_16bit_peak_memory_ratio', 'plan_equals_ledger',
  'checkpointing_activation_memory_ratio', 'checkpointing_step_time_ratio', 'train_tokens_per_s',
  'qwen3_vs_llama_step_time_ratio', 'gemma3_vs_llama_step_time_ratio',
] as const satisfies readonly (keyof Summary)[];

export interface Measured {
  adapter: GpuAdapterInfo;
  features: GpuFeatures;
  model: ModelConfig;
  run: RunConfigInput;
  tokens: number;
  /** The clock of the headline figures: 'device' (GPU-process CPU time / cores, on SwiftShader) or 'wall'. */
  timing: { basis: 'device' | 'wall'; cores: number };
  tfjs: { ok: true; version: string } | { ok: false; reason: string };
  matmul: MatmulResult[];
  weightMatmul: WeightMatmulResult[];
  steps: StepResult[];
}

export interface Target {
  name: string;
  want: string;
  value: number | boolean | null;
  met: boolean;
}

export interface BenchResults extends Measured {
  date: string;
  durationS: number;
  /** Facts about the machine from the runner (CPU, load average), to read noisy figures by. */
  machine: Record<string, unknown>;
  /** Our kernel's best GFLOP/s over every benchmarked shape: the denominator of MFU. */
  peakGflops: number;
  summary: Summary;
  targets: Target[];
}

export function adapterName(a: GpuAdapterInfo): string {
  return [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || 'unknown adapter';
}

function step(m: Measured, name: string): StepResult {
  const s = m.steps.find((x) => x.name === name);
  if (!s) throw new Error(`the bench has no step configuration "${name}"`);
  return s;
}

/** A family's 16-bit step time over the Llama's on the same sizes (null when the bench did not run it). */
function familyRatio(m: Measured, family: string, base: StepResult): number | null {
  const s = m.steps.find((x) => x.name === `${STEP_NAMES.base} ${family}`);
  return s ? s.bestStepMs / base.bestStepMs : null;
}

export function summarize(m: Measured): { summary: Summary; peakGflops: number } {
  const peakGflops = Math.max(...m.matmul.map((r) => r.ours));
  const ratios = m.matmul.map((r) => r.oursVsTfjs);
  const base = step(m, STEP_NAMES.base);
  const nf4 = step(m, STEP_NAMES.nf4);
  const nf4dq = step(m, STEP_NAMES.nf4dq);
  const ckpt = step(m, STEP_NAMES.ckpt);
  const summary: Summary = {
    adapter: adapterName(m.adapter),
    matmul_vs_tfjs_min_ratio: ratios.some((r) => r === null) ? null : Math.min(...(ratios as number[])),
    mfu: base.flops.total / (base.bestStepMs / 1000) / 1e9 / peakGflops,
    nf4_vs_16bit_step_time_ratio: nf4.bestStepMs / base.bestStepMs,
    nf4_vs_16bit_weight_bytes_ratio: nf4.memory.linearWeightBytes / base.memory.linearWeightBytes,
    nf4_dq_vs_16bit_weight_bytes_ratio: nf4dq.memory.linearWeightBytes / base.memory.linearWeightBytes,
    nf4_vs_16bit_peak_memory_ratio: nf4.memory.peakTotal / base.memory.peakTotal,
    plan_equals_ledger: m.steps.every((s) => s.memory.planEqualsLedger),
    checkpointing_activation_memory_ratio: ckpt.memory.byCategory.activations / base.memory.byCategory.activations,
    checkpointing_step_time_ratio: ckpt.bestStepMs / base.bestStepMs,
    train_tokens_per_s: base.tokensPerS,
    qwen3_vs_llama_step_time_ratio: familyRatio(m, 'qwen3', base),
    gemma3_vs_llama_step_time_ratio: familyRatio(m, 'gemma3', base),
  };
  return { summary, peakGflops };
}

/** The targets of issue 6, checked against the summary. */
export function checkTargets(s: Summary): Target[] {
  const t = (name: string, want: string, value: number | boolean | null, met: boolean): Target => ({ name, want, value, met });
  const num = (v: number | null, ok: (x: number) => boolean) => v !== null && Number.isFinite(v) && ok(v);
  return [
    t('matmul vs tfjs (min over shapes)', '>= 5', s.matmul_vs_tfjs_min_ratio, num(s.matmul_vs_tfjs_min_ratio, (x) => x >= 5)),
    t('MFU', '>= 0.40', s.mfu, num(s.mfu, (x) => x >= 0.4)),
    t('NF4 / 16-bit step time', '<= 1.15', s.nf4_vs_16bit_step_time_ratio, num(s.nf4_vs_16bit_step_time_ratio, (x) => x <= 1.15)),
    t('NF4 / 16-bit weight bytes', '<= 0.29', s.nf4_vs_16bit_weight_bytes_ratio, num(s.nf4_vs_16bit_weight_bytes_ratio, (x) => x <= 0.29)),
    t('NF4+DQ / 16-bit weight bytes', '<= 0.27', s.nf4_dq_vs_16bit_weight_bytes_ratio, num(s.nf4_dq_vs_16bit_weight_bytes_ratio, (x) => x <= 0.27)),
    t('NF4 / 16-bit peak memory', 'reported', s.nf4_vs_16bit_peak_memory_ratio, num(s.nf4_vs_16bit_peak_memory_ratio, (x) => x > 0)),
    t('plan == ledger (every config)', 'true', s.plan_equals_ledger, s.plan_equals_ledger),
    t('checkpointing activation memory (with / without)', '<= 0.333', s.checkpointing_activation_memory_ratio, num(s.checkpointing_activation_memory_ratio, (x) => x <= 1 / 3)),
    t('checkpointing step time (with / without)', '<= 1.4', s.checkpointing_step_time_ratio, num(s.checkpointing_step_time_ratio, (x) => x <= 1.4)),
  ];
}

export function buildResults(m: Measured, extra: { date: string; durationS: number; machine: Record<string, unknown> }): BenchResults {
  const { summary, peakGflops } = summarize(m);
  return { ...m, ...extra, peakGflops, summary, targets: checkTargets(summary) };
}
