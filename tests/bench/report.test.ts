import { describe, expect, it } from 'vitest';
import { benchSetup } from '../../src/bench/bench-model';
import { stepModelFlops } from '../../src/bench/flops';
import { markdown, summaryTable } from '../../src/bench/format';
import { benchMatmulShapes, type MatmulResult } from '../../src/bench/matmul-bench';
import { buildResults, checkTargets, STEP_NAMES, SUMMARY_KEYS, summarize, type Measured } from '../../src/bench/report';
import { linearWeightBytes, type StepResult } from '../../src/bench/step-bench';
import { tinyModelConfig } from '../../src/model/synthetic';
import { parseRunConfig } from '../../src/config/run-config';

describe('model FLOPs of a step', () => {
  it('counts base linears (no layer-0 q/k/v input gradient), LoRA and causal attention', () => {
    const model = tinyModelConfig(); // C 32, F 48, 2 layers, 4 heads (2 KV) of 8, vocabulary 67
    const run = parseRunConfig({ microBatch: 2, maxSeqLen: 4, targets: ['query'], rank: 2 });
    // per layer: q 32x32, k, v 32x16, o 32x32, gate, up 32x48, down 48x32 = 7680 weights; N = 8 tokens
    const base = 2 * 8 * (2 * 7680 - (1024 + 512 + 512)) + 2 * 8 * 2 * 7680 + 2 * 2 * 8 * 32 * 67;
    // LoRA q (r 2, 32 -> 32) in 2 layers: forward 2Nr(in+out), backward 2Nr(2 out + in), dx 2Nr in only in layer 1
    const lora = 2 * (2 * 8 * 2 * 64 + 2 * 8 * 2 * 96) + 2 * 8 * 2 * 32;
    // causal: 10 visible pairs per sequence and head; QK^T and PV; backward twice the forward
    const attention = 3 * 2 * 2 * 10 * 8 * 4 * 2;
    expect(stepModelFlops(model, run)).toEqual({ base, lora, attention, total: base + lora + attention });
    expect(stepModelFlops(model, parseRunConfig({ microBatch: 2, maxSeqLen: 4, targets: ['query'], rank: 2, gradAccumulation: 3 })).total)
      .toBe(3 * (base + lora + attention));
  });
});

describe('bench shapes and weight bytes', () => {
  const { model, tokens } = benchSetup(false);

  it('benchmarks the three products of every distinct linear, the head, and a 512^3 square', () => {
    const shapes = benchMatmulShapes(model, tokens);
    expect(shapes).toHaveLength(5 * 3 + 1);
    expect([...new Set(shapes.map((s) => s.name))]).toEqual(['q_proj/o_proj', 'k_proj/v_proj', 'gate_proj/up_proj', 'down_proj', 'lm_head', 'square']);
    const gate = shapes.filter((s) => s.name === 'gate_proj/up_proj');
    expect(gate).toEqual([
      { name: 'gate_proj/up_proj', product: 'fwd', M: 512, N: 768, K: 256, transA: false, transB: true },
      { name: 'gate_proj/up_proj', product: 'bwd-input', M: 512, N: 256, K: 768, transA: false, transB: false },
      { name: 'gate_proj/up_proj', product: 'bwd-weight', M: 768, N: 256, K: 512, transA: true, transB: false },
    ]);
  });

  it('NF4 keeps at most 0.29x the bytes of 16-bit linears, 0.27x with double quantization', () => {
    const bytes = (over: object) => linearWeightBytes(model, parseRunConfig({ ...over }));
    const b16 = bytes({ basePrecision: 'f16' });
    expect(bytes({ basePrecision: 'bf16' })).toBe(b16);
    expect(b16).toBe(2 * (4 * 786432 + 2048 * 256));
    expect(bytes({ basePrecision: 'nf4' }) / b16).toBeCloseTo(0.28125, 4);
    expect(bytes({ basePrecision: 'nf4', doubleQuant: true }) / b16).toBeLessThan(0.27);
  });
});

function step(name: string, bestStepMs: number, peakTotal: number, activations: number, linear: number, planEqualsLedger = true): StepResult {
  const byCategory = { weights: linear, lora: 10, grads: 10, optimizer: 20, activations, workspace: 5 };
  return {
    name, run: {}, warmupMs: 2 * bestStepMs, stepMs: [bestStepMs, bestStepMs + 1], wallStepMs: [2 * bestStepMs, 2 * bestStepMs],
    meanStepMs: bestStepMs + 0.5, bestStepMs,
    tokensPerS: 512 / (bestStepMs / 1000), losses: [3, 2.9, 2.8], flops: { base: 8e9, lora: 1e8, attention: 1e8, total: 8.2e9 },
    memory: {
      byCategory, total: peakTotal, peakTotal, realBytes: peakTotal, planByCategory: byCategory, planTotal: peakTotal,
      planEqualsLedger, linearWeightBytes: linear,
    },
    profile: null,
  };
}

function measured(over: Partial<Measured> = {}): Measured {
  const mm = (ours: number, tfjs: number | null): MatmulResult => ({
    name: 'q', product: 'fwd', M: 512, N: 256, K: 256, transA: false, transB: true, gflop: 0.067, basis: 'device',
    ours, naive: 0.1, tfjs, oursVsNaive: ours / 0.1, oursVsTfjs: tfjs === null ? null : ours / tfjs,
    wall: { ours: ours / 2, naive: 0.05, tfjs: tfjs === null ? null : tfjs / 2 },
  });
  return {
    adapter: { vendor: 'google', architecture: 'swiftshader', device: '', description: '' },
    features: { f16: false, subgroups: true, timestamps: true },
    model: benchSetup(false).model, run: benchSetup(false).run, tokens: 512, timing: { basis: 'device', cores: 2 },
    tfjs: { ok: true, version: '4.22.0' },
    matmul: [mm(2, 0.25), mm(1.5, 0.2)],
    weightMatmul: [],
    steps: [
      step(STEP_NAMES.base, 10_000, 1000, 400, 100),
      step(STEP_NAMES.nf4, 11_000, 900, 400, 28),
      step(STEP_NAMES.nf4dq, 11_200, 890, 400, 26),
      step(STEP_NAMES.ckpt, 12_000, 700, 100, 100),
    ],
    ...over,
  };
}

describe('summary and targets', () => {
  it('has exactly the keys of issue 6, each a ratio of figures from the same run', () => {
    const { summary, peakGflops } = summarize(measured());
    expect(Object.keys(summary)).toEqual([...SUMMARY_KEYS]);
    expect(peakGflops).toBe(2);
    expect(summary).toEqual({
      adapter: 'google / swiftshader',
      matmul_vs_tfjs_min_ratio: 7.5,
      mfu: 8.2e9 / 10 / 1e9 / 2,
      nf4_vs_16bit_step_time_ratio: 1.1,
      nf4_vs_16bit_weight_bytes_ratio: 0.28,
      nf4_dq_vs_16bit_weight_bytes_ratio: 0.26,
      nf4_vs_16bit_peak_memory_ratio: 0.9,
      plan_equals_ledger: true,
      checkpointing_activation_memory_ratio: 0.25,
      checkpointing_step_time_ratio: 1.2,
      train_tokens_per_s: 51.2,
      qwen3_vs_llama_step_time_ratio: null,
      gemma3_vs_llama_step_time_ratio: null,
    });
    expect(checkTargets(summary).filter((t) => !t.met)).toEqual([]);
    expect(checkTargets({ ...summary, mfu: 0.39 }).filter((t) => !t.met).map((t) => t.name)).toEqual(['MFU']);
  });

  it('fails plan == ledger when any configuration differs, and has no tfjs ratio without tfjs', () => {
    const m = measured();
    m.steps[2] = step(STEP_NAMES.nf4dq, 11_200, 890, 400, 26, false);
    m.matmul[1] = { ...m.matmul[1], tfjs: null, oursVsTfjs: null, wall: { ...m.matmul[1].wall, tfjs: null } };
    const { summary } = summarize(m);
    expect(summary.plan_equals_ledger).toBe(false);
    expect(summary.matmul_vs_tfjs_min_ratio).toBeNull();
    const failed = checkTargets(summary).filter((t) => !t.met).map((t) => t.name);
    expect(failed).toContain('plan == ledger (every config)');
    expect(failed).toContain('matmul vs tfjs (min over shapes)');
  });

  it('writes BENCHMARKS.md and the table from the results file', () => {
    const r = buildResults(measured(), { date: '2026-01-01T00:00:00.000Z', durationS: 321, machine: { cores: 2 } });
    const md = markdown(r, 'npm run bench');
    expect(md).toContain('`npm run bench`');
    expect(md).toContain('google / swiftshader');
    expect(md).toContain(JSON.stringify(r.summary, null, 2));
    expect(md).toContain('| MFU | >= 0.40 | 0.410 | yes |');
    expect(summaryTable(r)).toContain('| NF4 / 16-bit step time | <= 1.15 | 1.100 | yes |');
  });

  it('reports the host memory after each configuration (a run) when the page measured it', () => {
    const m = measured();
    expect(markdown(buildResults(m, { date: '', durationS: 1, machine: {} }), 'npm run bench')).not.toContain('## Host memory');
    m.steps = m.steps.map((s, i) => ({ ...s, hostMemory: { gpuProcessBytes: (200 + i) * 2 ** 20, pageHeapBytes: i === 3 ? null : 12.5 * 2 ** 20 } }));
    const md = markdown(buildResults(m, { date: '', durationS: 1, machine: {} }), 'npm run bench');
    expect(md).toContain('## Host memory after each configuration (MiB)');
    expect(md).toContain(`| ${STEP_NAMES.base} | 200.00 | 12.50 |`);
    expect(md).toContain(`| ${STEP_NAMES.ckpt} | 203.00 | - |`);
  });
});
