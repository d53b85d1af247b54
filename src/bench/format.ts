/** The console table and BENCHMARKS.md, from the results file (so both always show the same figures). */
import type { BenchResults } from './report';

const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));
const mib = (b: number) => (b / 2 ** 20).toFixed(2);

function table(head: string[], rows: (string | number)[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function summaryTable(r: BenchResults): string {
  return table(['target', 'wanted', 'measured', 'met'], r.targets.map((t) => [
    t.name, t.want, typeof t.value === 'number' ? f(t.value) : String(t.value), t.met ? 'yes' : 'NO',
  ]));
}

export function markdown(r: BenchResults, command: string): string {
  const m = r.model;
  const out: string[] = [];
  out.push('# Benchmarks', '');
  out.push(`Latest figures of \`${command}\` (written by it from \`bench/results.json\`; do not edit by hand).`, '');
  out.push(`- Adapter: **${r.summary.adapter}** (shader-f16: ${r.features.f16}, subgroups: ${r.features.subgroups}, timestamp-query: ${r.features.timestamps})`);
  out.push(`- Date: ${r.date}; the whole bench took ${r.durationS.toFixed(0)} s`);
  out.push(`- Machine: ${Object.entries(r.machine).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join('; ')}`);
  out.push(`- Bench model: hidden ${m.hiddenSize}, ${m.numLayers} layers, ${m.numHeads} heads (${m.numKvHeads} KV, head dim ${m.headDim}), MLP ${m.intermediateSize}, vocabulary ${m.vocabSize}; ` +
    `sequence ${r.run.maxSeqLen}, micro-batch ${r.run.microBatch} (${r.tokens} tokens), LoRA r=${r.run.rank} on ${(r.run.targets ?? []).join(', ')}, AdamW`);
  out.push(`- tfjs: ${r.tfjs.ok ? `@tensorflow/tfjs-backend-webgpu ${r.tfjs.version}` : `unavailable (${r.tfjs.reason})`}`, '');
  out.push('Every comparison is a ratio of two figures measured side by side in this run on this adapter, each the fastest of ' +
    'several interleaved measurements. ' + (r.timing.basis === 'device'
    ? `Timing basis: **device time** = CPU time of the browser's GPU process / ${r.timing.cores} cores. On SwiftShader (a CPU ` +
      'Vulkan) those threads are the device; unlike wall time, their CPU time does not grow when other processes load the machine. ' +
      'Wall-clock figures are in bench/results.json (`wall`) and the tables below.'
    : 'Timing basis: wall clock.'), '');

  out.push('## Summary against the targets of issue 6', '', summaryTable(r), '');
  out.push('```json', JSON.stringify(r.summary, null, 2), '```', '');

  out.push('## Matmul throughput (GFLOP/s)', '');
  out.push(`Our kernel's best here, the MFU denominator: **${f(r.peakGflops)} GFLOP/s**. fwd: X W^T; bwd-input: dY W; bwd-weight: dY^T X.`, '');
  out.push(table(['shape', 'product', 'M x N x K', 'ours', 'naive', 'tfjs', 'ours / naive', 'ours / tfjs', 'wall: ours, naive, tfjs'], r.matmul.map((x) => [
    x.name, x.product, `${x.M} x ${x.N} x ${x.K}`, f(x.ours), f(x.naive), f(x.tfjs), f(x.oursVsNaive, 2), f(x.oursVsTfjs, 2),
    `${f(x.wall.ours)}, ${f(x.wall.naive)}, ${f(x.wall.tfjs)}`,
  ])), '');

  const w = r.weightMatmul[0];
  if (w) {
    out.push(`## Base-weight matmul by storage format (GFLOP/s, W ${w.out} x ${w.in}, ${w.tokens} tokens)`, '');
    const f32 = r.weightMatmul.find((x) => x.format === 'f32');
    out.push(table(['format', 'forward', 'bwd-input', 'fwd vs f32', 'wall: fwd, bwd-input'], r.weightMatmul.map((x) => [
      x.format, f(x.fwd), f(x.bwdInput), f32 ? f(x.fwd / f32.fwd, 2) : '-', `${f(x.wall.fwd)}, ${f(x.wall.bwdInput)}`,
    ])), '');
  }

  out.push('## Training step', '');
  out.push(table(['config', 'step ms (best)', 'step ms (all)', 'wall ms', 'tokens/s', 'model GFLOP', 'MFU', 'peak MiB', 'activations MiB', 'linear weights MiB', 'plan == ledger', 'losses'], r.steps.map((s) => [
    s.name, f(s.bestStepMs, 0), s.stepMs.map((t) => t.toFixed(0)).join(' '), s.wallStepMs.map((t) => t.toFixed(0)).join(' '), f(s.tokensPerS, 1), f(s.flops.total / 1e9, 2), f(s.flops.total / (s.bestStepMs / 1000) / 1e9 / r.peakGflops),
    mib(s.memory.peakTotal), mib(s.memory.byCategory.activations), mib(s.memory.linearWeightBytes), s.memory.planEqualsLedger ? 'yes' : 'NO',
    s.losses.map((l) => l.toFixed(3)).join(' '),
  ])), '');
  const prof = r.steps.find((s) => s.profile)?.profile;
  if (prof) {
    out.push(`### Where the step's time goes (timestamp-query, one pass per kernel, ${f(prof.sumMs, 0)} ms in all)`, '');
    out.push(table(['kernel family', 'ms', 'share', 'dispatches'], prof.byKernel.map((k) => [k.kernel, f(k.ms, 1), `${(100 * k.share).toFixed(1)}%`, k.count])), '');
    out.push('Slowest ops: ' + prof.slowest.map((o) => `${o.label} ${f(o.ms, 1)} ms`).join('; '), '');
  }
  if (r.steps.some((s) => s.hostMemory)) {
    out.push('## Host memory after each configuration (MiB)', '');
    out.push('Each configuration is a run: built, stepped, then its buffers given back. Read after each one in turn: flat figures mean nothing was kept.', '');
    out.push(table(['after', 'GPU process (resident)', 'page JS heap'], r.steps.map((s) => [
      s.name, s.hostMemory?.gpuProcessBytes != null ? mib(s.hostMemory.gpuProcessBytes) : '-', s.hostMemory?.pageHeapBytes != null ? mib(s.hostMemory.pageHeapBytes) : '-',
    ])), '');
  }
  out.push('## Memory by category (bytes, ledger = plan)', '');
  const cats = Object.keys(r.steps[0]?.memory.byCategory ?? {});
  out.push(table(['config', ...cats, 'total'], r.steps.map((s) => [s.name, ...cats.map((c) => s.memory.byCategory[c as keyof typeof s.memory.byCategory]), s.memory.total])), '');
  out.push('## Definitions', '');
  out.push('- MFU: model FLOPs of one step (base linears forward and input gradient, LoRA forward and backward, causal attention; ' +
    'no recomputation, no elementwise work) over its wall time, divided by our matmul\'s best GFLOP/s in the same run.');
  out.push('- Weight bytes: the base linears and LM head in their storage format (NF4: codes + absmax; with double quantization: codes + 8-bit absmax + its constants); embeddings and norms stay f32 and are in the peak memory only.');
  out.push('- Peak memory: the pool ledger\'s peak over the build and the steps (weights, LoRA, gradients, optimizer state, activations, workspace).');
  out.push('- Checkpointing: each layer keeps only its input; its forward is recomputed in the backward.', '');
  return out.join('\n');
}
