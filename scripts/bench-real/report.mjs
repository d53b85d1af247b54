// bench/real.md from bench/real.json (scripts/bench-real/run.mjs): the real-shape section of
// BENCHMARKS.md. Every figure comes from the JSON; a part never run says so.
const mib = (b) => (b === null || b === undefined ? '-' : (b / 2 ** 20).toFixed(1));
const gb = (b) => (b / 1e9).toFixed(2);
const s = (ms) => (ms / 1000).toFixed(1);
const table = (head, rows) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const machine = (m) => (m ? `${m.date.slice(0, 16).replace('T', ' ')} UTC, ${m.cores} cores, load average ${m.loadavgAtStart.join(' ')} -> ${m.loadavgAtEnd.join(' ')}, ${m.durationS} s` : '');

function load(r, chromium) {
  const out = ['### Loading a Qwen2.5-0.5B-shaped bf16 checkpoint to NF4 (download excluded)', ''];
  if (!r && !chromium) return [...out, 'Not measured yet (`npm run bench -- --real --only load,chromium`).', ''];
  out.push(`File: ${r ? mib(r.fileBytes) : mib(chromium.load.readBytes)} MiB of bf16 (random weights, Qwen2.5-0.5B's config). ` +
    'Node: a folder on disk, read with positional reads; JS memory = heapUsed + external (ArrayBuffers included), sampled every 10 ms, ' +
    'from its value at rest; peak RSS = VmHWM, which in Node also holds Dawn and SwiftShader, i.e. the GPU memory of a CPU adapter. ' +
    'Chromium: the file downloaded into OPFS first (not timed), then loaded in a worker as the studio loads; JS memory = ' +
    'the worker\'s used heap + ArrayBuffer backing stores (CDP Runtime.getHeapUsage every 100 ms) above their values at rest after two collections.', '');
  const rows = [];
  const cpu = (x) => (x.cpuMs === undefined ? '-' : s(x.cpuMs));
  if (r?.gpu) rows.push([`Node (${r.model})`, 'GPU quantizer (streamed in 4 MiB chunks)', s(r.gpu.loadMs), cpu(r.gpu), mib(r.gpu.readBytes), mib(r.gpu.gpuBytes), mib(r.gpu.peakJsAboveIdleBytes), mib(r.gpu.peakRssBytes)]);
  if (r?.cpu) rows.push([`Node (${r.model})`, 'CPU packer (f32 per tensor, the path before)', s(r.cpu.loadMs), cpu(r.cpu), mib(r.cpu.readBytes), mib(r.cpu.gpuBytes), mib(r.cpu.peakJsAboveIdleBytes), mib(r.cpu.peakRssBytes)]);
  if (chromium?.load) {
    const l = chromium.load;
    rows.push([`Chromium worker (${l.folder})`, 'GPU quantizer, from OPFS', s(l.loadMs), '-', mib(l.readBytes), mib(l.gpuBytes), mib(l.memory.peakTotalAboveIdleBytes), '-']);
  }
  out.push(table(['where', 'path', 'load s (wall)', 'CPU s (process)', 'read MiB', 'GPU MiB (ledger)', 'JS peak above idle MiB', 'peak RSS MiB'], rows), '');
  if (chromium?.load) {
    const m = chromium.load.memory;
    const ok = m.peakTotalAboveIdleBytes < 300e6;
    out.push(`Acceptance (issue 12): the JS heap of the loading worker stays under 300 MB above idle: **${ok ? 'yes' : 'NO'}** ` +
      `(${mib(m.peakTotalAboveIdleBytes)} MiB: heap peak ${mib(m.peakHeapBytes)} MiB from ${mib(m.idleHeapBytes)}, ArrayBuffers peak ${mib(m.peakArrayBufferBytes)} MiB from ${mib(m.idleArrayBufferBytes)}; ` +
      `${m.samples} samples). The page's own heap: ${mib(m.page.idleHeapBytes)} MiB before, ${mib(m.page.afterHeapBytes)} MiB after. ` +
      `The download into OPFS took ${s(chromium.load.downloadMs)} s (local server).`, '');
  }
  if (r) out.push(`Node: ${machine(r.machine)}.`);
  if (chromium) out.push(`Chromium: ${machine(chromium.machine)}.`);
  out.push('');
  return out;
}

function train(r) {
  const out = ['### Training step, SmolLM2-135M-shaped, 4 x 256 tokens (Node, Dawn + SwiftShader)', ''];
  if (!r) return [...out, 'Not measured yet (`npm run bench -- --real --only train`).', ''];
  out.push(`bf16 base weights (the checkpoint's), LoRA r = 8 on every target with the head, AdamW; a warm-up step, then ${r.steps[0].stepMs.length} timed. ` +
    'Device time = this process\'s CPU time / cores (SwiftShader runs in the process; unlike wall time it does not grow with other load); ' +
    `MFU = model FLOPs (src/bench/flops.ts) / device step time / our matmul's best device rate on the model's shapes in the same process (${r.matmul.bestGflops.toFixed(3)} GFLOP/s). ` +
    'Wall times are shown as measured but give no MFU: they grow with whatever else the machine runs (see the load averages below).', '');
  out.push(table(['config', 'step ms (device)', 'step ms (wall)', 'tokens/s (device)', 'tokens/s (wall)', 'model GFLOP', 'MFU (device)', 'plan == ledger', 'GPU MiB', 'losses'],
    r.steps.map((x) => [x.name, x.stepMs.map((v) => v.toFixed(0)).join(' '), x.wallStepMs.map((v) => v.toFixed(0)).join(' '), x.tokensPerS.toFixed(1), x.tokensPerSWall.toFixed(1),
      x.gflop.toFixed(0), x.mfu.toFixed(3), x.planEqualsLedger ? 'yes' : 'NO', mib(x.gpuBytes), x.losses.map((l) => l.toFixed(3)).join(' ')])), '');
  out.push(`Peak RSS of the process: ${mib(r.peakRssBytes)} MiB. ${machine(r.machine)}.`, '');
  return out;
}

function accept(r) {
  const out = ['### `train --gpu-limits default` on SmolLM2-135M, NF4 + checkpointing (acceptance)', ''];
  if (!r) return [...out, 'Not measured yet (`npm run bench -- --real --only accept`).', ''];
  const ok = r.exitCode === 0 && r.steps.length > 0 && r.peakRssBytes < 2e9 && r.planEqualsLedger;
  out.push(`\`${r.command}\` with run.json ${JSON.stringify(r.run)}: **${ok ? 'met' : 'NOT met'}**: ` +
    `exit code ${r.exitCode}, ${r.steps.length} steps, peak host memory (VmHWM of the CLI process, GPU memory of SwiftShader included) ${mib(r.peakRssBytes)} MiB (< 2 GB: ${r.peakRssBytes < 2e9 ? 'yes' : 'NO'}), plan == ledger: ${r.planEqualsLedger ? 'yes' : 'NO'}; ${r.wallS.toFixed(0)} s wall.`, '');
  for (const l of [r.load, r.plan, r.ledger, ...r.steps]) if (l) out.push(`    ${l.trim()}`);
  if (r.error) out.push('', '```', r.error, '```');
  out.push('', machine(r.machine) + '.', '');
  return out;
}

function plans(r) {
  const out = ['### Plans for the configurations of issue 12 (`npm run cli -- plan`)', ''];
  const rows = r?.rows;
  if (!rows) return [...out, 'Not measured yet (`npm run bench -- --real --only plan`).', ''];
  out.push(table(['configuration', 'total GB', 'weights', 'activations', 'lora+grads+optimizer', 'workspace', 'largest binding (adapter limits)', 'largest binding, --gpu-limits default', 'fits default limits', 'target met'],
    rows.map((r) => {
      const c = r.adapter.by_category;
      const d = r.default;
      const met = r.limitBytes === null ? '-' : r.adapter.total_bytes <= r.limitBytes ? `yes (<= ${gb(r.limitBytes)})` : `NO (> ${gb(r.limitBytes)})`;
      return [r.name, gb(r.adapter.total_bytes), gb(c.weights), gb(c.activations), gb(c.lora + c.grads + c.optimizer), gb(c.workspace),
        `${mib(r.adapter.largest_binding_bytes)} MiB (${r.adapter.largest_binding})`, `${mib(d.largest_binding_bytes)} MiB`, d.fits ? 'yes' : `NO: ${d.problems.join('; ')}`, met];
    })), '');
  out.push('GB = 10^9 bytes, MiB = 2^20. The run settings of each row are in bench/real.json; the rest are the run config\'s defaults. ' + machine(r.machine) + '.', '');
  return out;
}

function peer(p) {
  const out = ['### The peer: the bench model\'s LoRA step in tfjs (tfjs-core + tfjs-backend-webgpu autograd)', ''];
  if (!p) return [...out, 'Not measured yet (`npm run bench -- --real --only chromium`).', ''];
  out.push('The bench model (hidden 256, 4 layers, vocabulary 2048, 4 x 128 tokens), f32 base weights, LoRA r = 8 on every linear and the head, ' +
    'Adam(W) with global-norm clipping, the same batches (src/bench/tfjs-step.js); ours is the bench\'s step with an f32 base. Interleaved in the same page, fastest step of each; ' +
    `device time = the GPU process's CPU time / cores (tfjs's JavaScript, autograd bookkeeping included, runs in the page and shows only in wall time). tfjs ${p.tfjs}. ` +
    'The LoRA A matrices come from different random streams (same distribution), so the losses agree exactly at the first step (B = 0: the base model) and closely after.', '');
  out.push(table(['', `step ms (${p.basis})`, 'step ms (wall)', 'trainable parameters', 'first loss (the base model)', `loss of step ${p.steps.ours - 1}`], [
    ['ours', p.oursMs.toFixed(0), p.oursWallMs.toFixed(0), String(p.trainable.ours), p.firstLoss.ours.toFixed(5), p.lastLoss.ours.toFixed(4)],
    ['tfjs', p.tfjsMs.toFixed(0), p.tfjsWallMs.toFixed(0), String(p.trainable.tfjs), p.firstLoss.tfjs.toFixed(5), p.lastLoss.tfjs.toFixed(4)],
  ]), '');
  out.push(`tfjs / ours step time: **${(p.tfjsMs / p.oursMs).toFixed(2)}x** (${p.basis}), ${(p.tfjsWallMs / p.oursWallMs).toFixed(2)}x (wall).`, '');
  return out;
}

export function realMarkdown(r) {
  return [
    '## Real shapes (issue 12)', '',
    'Written by `npm run bench -- --real` (scripts/bench-real/run.mjs; `--only load,train,accept,plan,chromium` reruns parts) from bench/real.json; do not edit by hand. ' +
    'Models: random bf16 weights with the real configs (tests/fixtures/configs/), written once by scripts/bench-real/make-models.ts. ' +
    'This machine has no GPU: WebGPU runs on SwiftShader, a CPU Vulkan, on 2 cores shared with other work, so absolute times are the CPU\'s.', '',
    ...load(r.load, r.chromium), ...train(r.train), ...accept(r.accept), ...plans(r.plan), ...peer(r.chromium?.peer),
  ].join('\n');
}
