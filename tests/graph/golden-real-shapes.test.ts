/**
 * Golden cases of real models' shapes under a device's binding limit (issue 12), against PyTorch.
 *
 * - In the suite: Qwen2.5-0.5B's and Gemma-3-270M's configs with their dimensions divided
 *   (tests/fixtures/configs/*-shrunk.json; the architecture unchanged), cases written from those
 *   configs by the project's reference script (`scripts/golden/make_golden.py --config`, random
 *   weights rounded to bf16, T = 8) and checked in. They run on the GPU graph with every piece sized
 *   for a 64 KiB binding, which splits them as WebGPU's default 128 MiB splits the real models: the
 *   embedding in vocabulary shards, the tied head in vocabulary chunks, the larger linears in row
 *   shards, the LoRA state in chunks. Every tensor must meet the golden tolerances.
 * - Where PyTorch is installed (`/usr/bin/python3 -c 'import torch'`): the script writes the shrunk
 *   cases again from their configs, into a temporary folder, and they are checked the same way.
 * - Opt-in, minutes each: `GOLDEN_REAL=qwen2.5-0.5b,gemma-3-270m` generates the cases of the real
 *   configs and runs them under WebGPU's default limits, as `golden --gpu-limits default` does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkGolden } from '../../src/cli/golden/check';
import { formatComparison } from '../../src/cli/golden/compare';
import { loadGoldenCase } from '../../src/cli/golden/golden-case';
import { gpuGoldenEngine, runGoldenOnGpu } from '../../src/cli/golden/gpu-engine';
import type { TrainGraph } from '../../src/model/graph/train-graph';
import { testGpu } from '../gpu/gpu';

const gpu = await testGpu();
const CAP = 64 * 1024;
const SHRUNK = ['qwen2.5-0.5b-shrunk', 'gemma-3-270m-shrunk'] as const;
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const real = (process.env.GOLDEN_REAL ?? '').split(',').filter(Boolean);

/** Writes the case of `configs/<config>.json` with the reference script into `dir`, as `<config>`. */
function generate(config: string, dir: string): string {
  const r = spawnSync('/usr/bin/python3', ['scripts/golden/make_golden.py', '--config', `tests/fixtures/configs/${config}.json`, '--name', config, '--T', '8', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make_golden.py failed for ${config}:\n${r.stderr}`);
  return join(dir, config);
}

/** What the graph cut into pieces, and its largest buffer. */
function splits(g: TrainGraph) {
  const linearShards = g.base.layers.flatMap((l) => Object.values(l.linears).map((w) => w.shards.length));
  return {
    embedShards: g.base.embed.length,
    headChunks: g.dims.chunks.length,
    mostRowShards: Math.max(...linearShards),
    loraChunks: g.lora.chunks.length,
    largestBuffer: Math.max(...g.engine.pool.allocatedBuffers().map((b) => b.size)),
  };
}

async function checkShrunk(dir: string) {
  const c = await loadGoldenCase(dir);
  let seen: ReturnType<typeof splits> | undefined;
  const result = await runGoldenOnGpu(c, gpu!, {}, { maxBindingBytes: CAP, inspect: (g) => { seen = splits(g); } });
  expect(seen!.largestBuffer).toBeLessThanOrEqual(CAP);
  expect(seen!.embedShards, 'embedding in vocabulary shards').toBeGreaterThan(1);
  expect(seen!.headChunks, 'tied head in vocabulary chunks').toBeGreaterThan(1);
  expect(seen!.mostRowShards, 'a linear in row shards').toBeGreaterThan(1);
  expect(seen!.loraChunks, 'LoRA state in chunks').toBeGreaterThan(1);
  const comparisons = await checkGolden(c, result);
  expect(comparisons.filter((x) => !x.ok).map(formatComparison)).toEqual([]);
}

describe.skipIf(!gpu)(`real architectures, shrunk, every piece under a ${CAP / 1024} KiB binding, vs PyTorch`, () => {
  for (const name of SHRUNK) {
    it(`${name} (checked-in case): logits, loss, every LoRA gradient, one AdamW step`, async () => {
      await checkShrunk(`tests/fixtures/golden/${name}`);
    }, 60_000);
  }
});

describe.skipIf(!gpu || !hasTorch)('the same cases written again from their configs by make_golden.py', () => {
  for (const name of SHRUNK) {
    it(name, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'golden-shrunk-'));
      try {
        await checkShrunk(generate(name, dir));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  }
});

describe.skipIf(!gpu || !hasTorch || real.length === 0)('GOLDEN_REAL: real configs under WebGPU\'s default limits', () => {
  for (const name of real) {
    it(name, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'golden-real-'));
      try {
        const c = await loadGoldenCase(generate(name, dir));
        const comparisons = await checkGolden(c, await gpuGoldenEngine('default').run(c));
        expect(comparisons.filter((x) => !x.ok).map(formatComparison)).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 30 * 60_000);
  }
});
