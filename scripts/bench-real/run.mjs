// `npm run bench -- --real [--only a,b,...|report]`: the bench at real shapes (issue 12), on random bf16
// weights with real configs (scripts/bench-real/make-models.ts writes them once). Parts:
//   load      Node: Qwen2.5-0.5B-shaped bf16 -> NF4, load time and host memory, GPU quantizer and CPU packer
//   train     Node: SmolLM2-135M-shaped training step at 4 x 256 tokens, with and without checkpointing
//   accept    Node: `npm run cli -- train --gpu-limits default` on SmolLM2-135M, NF4 + checkpointing
//   plan      `npm run cli -- plan` for the configs of issue 12's table and acceptance
//   chromium  the tfjs peer on the bench model's step, and the Qwen2.5-0.5B load in a worker with its JS heap
// Each part's figures go to bench/real.json (kept between runs: --only reruns some parts), and
// bench/real.md, which `npm run bench` puts into BENCHMARKS.md (this run splices it in too).
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { gpuProcessCpuMs } from '../bench-cpu.mjs';
import { CHROMIUM_WEBGPU_ARGS } from '../chromium-args.mjs';
import { prepareGpuEnvironment } from '../gpu-env.mjs';
import { realMarkdown } from './report.mjs';

const MODELS = resolve('node_modules/.cache/studio-bench-models');
const QWEN = 'qwen2.5-0.5b';
const SMOL = 'smollm2-135m';
const PARTS = ['load', 'train', 'accept', 'plan', 'chromium'];
const TSX = ['--import', 'tsx', '--import', './scripts/raw-import.mjs'];
const log = (l) => console.log(`[bench-real] ${l}`);
const round = (xs) => xs.map((x) => Math.round(x * 100) / 100);

/** Run node with args; resolves with stdout, stderr, exit code and the child's peak resident set (VmHWM). */
function node(args, env, { echo = true } = {}) {
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let hwm = null;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwm = Number(m[1]) * 1024;
      } catch { /* exited */ }
    }, 200);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      if (echo) process.stderr.write(d);
    });
    child.on('close', (code) => {
      clearInterval(poll);
      done({ out, err, code, peakRssBytes: hwm });
    });
  });
}

const lastJson = (text) => JSON.parse(text.trim().split('\n').filter((l) => l.startsWith('{')).at(-1));

async function partLoad(env) {
  const dir = join(MODELS, QWEN);
  const runs = {};
  for (const path of ['gpu', 'cpu']) {
    log(`load: ${QWEN} -> NF4 in Node (${path === 'gpu' ? 'GPU quantizer' : 'CPU packer, the path before it'})`);
    const r = await node(['--expose-gc', ...TSX, 'scripts/bench-real/load-node.ts', dir, '--format', 'nf4', ...(path === 'cpu' ? ['--cpu'] : [])], env);
    if (r.code !== 0) throw new Error(`load-node (${path}) failed:\n${r.err}`);
    runs[path] = lastJson(r.out);
  }
  return { model: QWEN, fileBytes: statSync(join(dir, 'model.safetensors')).size, ...runs };
}

async function partTrain(env) {
  log(`train: ${SMOL} at 4 x 256 tokens, with and without checkpointing (slow on SwiftShader)`);
  const r = await node(['--expose-gc', ...TSX, 'scripts/bench-real/train-node.ts', join(MODELS, SMOL), '--steps', process.env.BENCH_REAL_STEPS ?? '1'], env);
  if (r.code !== 0) throw new Error(`train-node failed:\n${r.err}`);
  return lastJson(r.out);
}

async function partAccept(env) {
  const out = join(tmpdir(), 'studio-bench-accept');
  const config = join(tmpdir(), 'studio-bench-accept.json');
  const run = { basePrecision: 'nf4', activationCheckpointing: true, microBatch: 4, maxSeqLen: 256, maxSteps: 2, rank: 8, alpha: 16, targets: ['query', 'key', 'value', 'projection', 'mlp'], schedule: 'constant', learningRate: 1e-3 };
  writeFileSync(config, JSON.stringify(run));
  const command = `npm run cli -- train --model ${SMOL} --data train.jsonl --config run.json --gpu-limits default --out out/`;
  log(`accept: ${command}`);
  const t0 = Date.now();
  const r = await node([...TSX, 'src/cli/main.ts', 'train', '--model', join(MODELS, SMOL), '--data', join(MODELS, 'train.jsonl'), '--config', config, '--gpu-limits', 'default', '--out', out], env);
  const lines = `${r.out}\n${r.err}`.split('\n');
  const find = (re) => lines.find((l) => re.test(l)) ?? null;
  return {
    command, run, exitCode: r.code, wallS: (Date.now() - t0) / 1000, peakRssBytes: r.peakRssBytes,
    steps: lines.filter((l) => /^step \d+\/\d+/.test(l.trim())).map((l) => l.trim()),
    load: find(/base model on the GPU in/), plan: find(/^memory plan:/), ledger: find(/GPU memory after the build/),
    planEqualsLedger: /equal to the plan/.test(find(/GPU memory after the build/) ?? ''),
    error: r.code === 0 ? null : lines.filter(Boolean).slice(-5).join('\n'),
  };
}

// Issue 12's table (NF4 + checkpointing, r16 on every linear, 4 x 512) and its acceptance plans.
const ALL_LINEAR = ['query', 'key', 'value', 'projection', 'mlp'];
const PLANS = [
  { name: 'Qwen2.5-0.5B, NF4 + checkpointing, r16 all linear, 4 x 512', config: 'qwen2.5-0.5b', run: { basePrecision: 'nf4', activationCheckpointing: true, rank: 16, alpha: 32, targets: ALL_LINEAR, microBatch: 4, maxSeqLen: 512 } },
  { name: 'Llama-3.2-1B, NF4 + checkpointing, r16 all linear, 4 x 512', config: 'llama-3.2-1b', run: { basePrecision: 'nf4', activationCheckpointing: true, rank: 16, alpha: 32, targets: ALL_LINEAR, microBatch: 4, maxSeqLen: 512 } },
  { name: 'Llama-3-8B, NF4 + checkpointing, r16 all linear, 4 x 512', config: 'llama-3-8b', run: { basePrecision: 'nf4', activationCheckpointing: true, rank: 16, alpha: 32, targets: ALL_LINEAR, microBatch: 4, maxSeqLen: 512 } },
  { name: 'Llama-2-7B, NF4, r8 q+v, 1 x 1304, no checkpointing (the seed\'s setting)', config: 'llama-2-7b', run: { basePrecision: 'nf4', rank: 8, alpha: 16, targets: ['query', 'value'], microBatch: 1, maxSeqLen: 1304 } },
  { name: 'Llama-2-7B, NF4, r8 q+v, 1 x 1304, checkpointing, bf16 activations (acceptance: <= 5.5 GB)', config: 'llama-2-7b', limit: 5.5e9, run: { basePrecision: 'nf4', activationCheckpointing: true, activationPrecision: 'bf16', rank: 8, alpha: 16, targets: ['query', 'value'], microBatch: 1, maxSeqLen: 1304 } },
  { name: 'Llama-2-7B, NF4, r8 q+v, 1 x 1304, bf16 activations, no checkpointing (acceptance: <= 0.7 x 14.18 GB)', config: 'llama-2-7b', limit: 0.7 * 14.18e9, run: { basePrecision: 'nf4', activationPrecision: 'bf16', rank: 8, alpha: 16, targets: ['query', 'value'], microBatch: 1, maxSeqLen: 1304 } },
  // QLoRA as the paper defines it: NF4 with double quantization (the row before it without, for comparison).
  { name: 'Llama-3-8B, NF4 without double quantization, r16 all linear, 1 x 512, checkpointing', config: 'llama-3-8b', run: { basePrecision: 'nf4', activationCheckpointing: true, rank: 16, alpha: 32, targets: ALL_LINEAR, microBatch: 1, maxSeqLen: 512 } },
  { name: 'Llama-3-8B QLoRA (NF4 + double quantization), r16 all linear, 1 x 512, checkpointing (acceptance: <= 6.5 GB)', config: 'llama-3-8b', limit: 6.5e9, run: { basePrecision: 'nf4', doubleQuant: true, activationCheckpointing: true, rank: 16, alpha: 32, targets: ALL_LINEAR, microBatch: 1, maxSeqLen: 512 } },
  // Long context: the MLP's (N, F) activations (235 MB f32) run in token-row chunks under the default limits.
  { name: 'Llama-3-8B QLoRA, r16 all linear, 1 x 4096, checkpointing, bf16 activations', config: 'llama-3-8b', run: { basePrecision: 'nf4', doubleQuant: true, activationCheckpointing: true, activationPrecision: 'bf16', rank: 16, alpha: 32, targets: ALL_LINEAR, microBatch: 1, maxSeqLen: 4096 } },
];

async function partPlan(env) {
  const rows = [];
  for (const p of PLANS) {
    const config = join(tmpdir(), `studio-bench-plan-${rows.length}.json`);
    writeFileSync(config, JSON.stringify(p.run));
    const row = { name: p.name, run: p.run, limitBytes: p.limit ?? null };
    for (const limits of ['adapter', 'default']) {
      const r = await node([...TSX, 'src/cli/main.ts', 'plan', '--model', `tests/fixtures/configs/${p.config}.json`, '--config', config, '--gpu-limits', limits], env, { echo: false });
      if (r.code !== 0) throw new Error(`plan ${p.name} (${limits}) failed:\n${r.err}`);
      row[limits] = JSON.parse(r.out);
    }
    log(`plan: ${p.name}: ${(row.adapter.total_bytes / 1e9).toFixed(2)} GB, largest binding under default limits ${(row.default.largest_binding_bytes / 2 ** 20).toFixed(0)} MiB`);
    rows.push(row);
  }
  return { rows };
}

/** CDP to a dedicated worker through the page's session (Playwright has no session for workers). */
async function workerChannel(session, part) {
  let sessionId = null;
  let id = 0;
  const pending = new Map();
  const attached = new Promise((ok) => session.on('Target.attachedToTarget', (e) => {
    if (e.targetInfo.type === 'worker' && e.targetInfo.url.includes(part)) ok(e.sessionId);
  }));
  session.on('Target.receivedMessageFromTarget', (e) => {
    if (e.sessionId !== sessionId) return;
    const m = JSON.parse(e.message);
    if (m.id !== undefined && pending.has(m.id)) {
      pending.get(m.id)(m);
      pending.delete(m.id);
    }
  });
  await session.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  return {
    async ready() {
      const late = new Promise((_, fail) => setTimeout(() => fail(new Error(`no worker whose URL holds "${part}" attached within 60 s`)), 60_000));
      sessionId = await Promise.race([attached, late]);
    },
    send(method, params = {}) {
      const mine = ++id;
      return new Promise((ok, fail) => {
        pending.set(mine, (m) => (m.error ? fail(new Error(`${method}: ${m.error.message}`)) : ok(m.result)));
        session.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: mine, method, params }) }).catch((e) => {
          pending.delete(mine);
          fail(e); // the worker has ended
        });
      });
    },
  };
}

async function partChromium(env) {
  const files = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
  const server = await createServer({
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: Number(process.env.BENCH_PORT ?? 5198), strictPort: false, hmr: false, watch: null },
    plugins: [{
      name: 'bench-models',
      configureServer(s) {
        // The generated models, streamed from disk (the "download" the browser caches in OPFS).
        s.middlewares.use('/__bench-models', (req, res) => {
          const rel = decodeURIComponent((req.url ?? '').split('?')[0]);
          const path = join(MODELS, rel);
          if (rel.includes('..') || !existsSync(path)) {
            res.statusCode = 404;
            res.end();
            return;
          }
          res.setHeader('content-length', statSync(path).size);
          createReadStream(path).pipe(res);
        });
      },
    }],
  });
  await server.listen();
  // BENCH_REAL_LOAD=<folder> loads another generated model; BENCH_REAL_NO_PEER=1 skips the peer (harness checks).
  const folder = process.env.BENCH_REAL_LOAD ?? QWEN;
  const url = `${server.resolvedUrls.local[0]}bench.html?real&load=${folder}&format=nf4&files=${files.join(',')}${process.env.BENCH_REAL_NO_PEER ? '&no-peer' : ''}`;
  const browserServer = await chromium.launchServer({ executablePath: env.CHROME_PATH, args: CHROMIUM_WEBGPU_ARGS });
  const browser = await chromium.connect(browserServer.wsEndpoint());
  try {
    const page = await browser.newPage();
    await page.exposeFunction('__benchGpuCpuMs', gpuProcessCpuMs(browserServer.process().pid));
    page.on('console', (m) => {
      const t = m.text();
      if (t.startsWith('[bench]')) log(t.slice(8));
      else if (m.type() === 'error') console.error(`[page] ${t}`);
    });
    page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
    const session = await page.context().newCDPSession(page);
    const worker = await workerChannel(session, 'load-worker');
    log(`chromium: ${url}`);
    await page.goto(url);
    const phase = () => page.evaluate(() => window.__benchReal?.phase ?? 'starting');
    // The page's phases, each within 30 minutes (a stuck page fails the part instead of hanging it).
    const waitFor = async (want) => {
      for (const until = Date.now() + 30 * 60_000; Date.now() < until;) {
        const p = await phase();
        if (p === 'failed') throw new Error(`the bench page failed: ${await page.evaluate(() => window.__benchReal.error)}`);
        if (want.includes(p)) return p;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`the bench page did not reach ${want.join(' or ')} within 30 minutes (phase ${await phase()})`);
    };
    await waitFor(['ready', 'done']);
    await worker.ready();
    // The worker at rest (after its download), collected twice, is the baseline.
    await worker.send('HeapProfiler.collectGarbage');
    await worker.send('HeapProfiler.collectGarbage');
    const usage = async () => {
      const h = await worker.send('Runtime.getHeapUsage');
      return { heap: h.usedSize, arrayBuffers: h.backingStorageSize ?? 0 };
    };
    const idle = await usage();
    const pageIdle = await session.send('Runtime.getHeapUsage');
    const peak = { ...idle, total: idle.heap + idle.arrayBuffers, samples: 0 };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          const u = await usage();
          peak.heap = Math.max(peak.heap, u.heap);
          peak.arrayBuffers = Math.max(peak.arrayBuffers, u.arrayBuffers);
          peak.total = Math.max(peak.total, u.heap + u.arrayBuffers);
          peak.samples++;
        } catch { /* the worker ended */ }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await page.evaluate(() => window.__benchReal.go());
    await waitFor(['done']);
    sampling = false;
    await sampler;
    const pagePeak = await session.send('Runtime.getHeapUsage');
    const state = await page.evaluate(() => ({ peer: window.__benchReal.peer, load: window.__benchReal.load }));
    const memory = {
      idleHeapBytes: idle.heap, idleArrayBufferBytes: idle.arrayBuffers, peakHeapBytes: peak.heap, peakArrayBufferBytes: peak.arrayBuffers,
      peakTotalAboveIdleBytes: peak.total - idle.heap - idle.arrayBuffers, samples: peak.samples,
      page: { idleHeapBytes: pageIdle.usedSize, afterHeapBytes: pagePeak.usedSize },
    };
    log(`chromium load: worker JS heap + ArrayBuffers peak ${(memory.peakTotalAboveIdleBytes / 2 ** 20).toFixed(1)} MiB above idle (${peak.samples} samples)`);
    return { peer: state.peer, load: { ...state.load, memory } };
  } finally {
    await browser.close();
    await browserServer.close();
    await server.close();
  }
}

export async function runReal(argv) {
  const started = Date.now();
  // --only report measures nothing: it writes bench/real.md and BENCHMARKS.md from bench/real.json again.
  const only = (argv.includes('--only') ? argv[argv.indexOf('--only') + 1].split(',') : PARTS).filter((p) => p !== 'report');
  const unknown = only.filter((p) => !PARTS.includes(p));
  if (unknown.length) throw new Error(`--only takes ${PARTS.join(',')} or report; got ${unknown.join(',')}`);
  const env = prepareGpuEnvironment();
  if (only.length) {
    mkdirSync(MODELS, { recursive: true });
    const make = await node([...TSX, 'scripts/bench-real/make-models.ts', MODELS], env);
    if (make.code !== 0) throw new Error(`make-models failed:\n${make.err}`);
  }
  const file = 'bench/real.json';
  const results = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const parts = { load: partLoad, train: partTrain, accept: partAccept, plan: partPlan, chromium: partChromium };
  for (const p of only) {
    const at = { date: new Date().toISOString(), loadavgAtStart: round(loadavg()), cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' };
    const t0 = Date.now();
    results[p] = { ...(await parts[p](env)), machine: { ...at, loadavgAtEnd: round(loadavg()), durationS: Math.round((Date.now() - t0) / 1000) } };
    mkdirSync('bench', { recursive: true });
    writeFileSync(file, JSON.stringify(results, null, 2) + '\n'); // after every part: a long run keeps what it measured
  }
  const md = realMarkdown(results);
  writeFileSync('bench/real.md', md);
  // BENCHMARKS.md as `npm run bench` composes it: its latest figures, then this section,
  // bench/memory-runs.md and bench/history.md (each file's text from its first heading on is replaced).
  const bench = existsSync('BENCHMARKS.md') ? readFileSync('BENCHMARKS.md', 'utf8') : '# Benchmarks\n';
  const appended = [md, ...['bench/memory-runs.md', 'bench/history.md'].filter(existsSync).map((f) => readFileSync(f, 'utf8'))];
  const cuts = appended.map((text) => bench.indexOf(`\n${text.split('\n')[0]}\n`)).filter((i) => i >= 0);
  const main = cuts.length ? bench.slice(0, Math.min(...cuts)) : bench;
  writeFileSync('BENCHMARKS.md', `${main.trimEnd()}\n${appended.map((text) => `\n${text}`).join('')}`);
  log(`wrote bench/real.json, bench/real.md and BENCHMARKS.md in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return 0;
}
