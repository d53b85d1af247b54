/**
 * The layer order of src/ (src/README.md): imports run downward only, folder by folder. A folder
 * that needs something from a higher one is a sign that the thing belongs lower.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileCycles, folderCycles, importEdges, layerViolations } from './import-graph';

/** Rank by rank, lowest first; folders of one rank are peers and never import each other. */
export const SRC_LAYERS = [
  ['core'], // primitives: seeded RNG streams, half floats, hashing, JSON limits, base errors, memory categories
  ['config'], // contracts: run config, model config, LoRA targets and config, RoPE specs, adapter type, MicroBatch
  ['reference', 'data'], // the CPU specification; datasets, templates, tokenizers
  ['engine', 'io'], // WebGPU runtime and kernels; files, formats, model sources, stores
  ['model'], // graphs, memory plan, generation, merging
  ['train'], // trainer loop, step submission, checkpoints
  ['worker', 'cli', 'bench'], // the three entry points onto the engine
  ['ui'], // React
  ['main.tsx'], // the page's entry
] as const;

const SRC = join(__dirname, '../../src');
const FIXTURES = join(__dirname, '../fixtures/layers');

describe('layers of src/', () => {
  const edges = importEdges(SRC);

  it('reads the imports (a sanity floor, so an empty scan cannot pass)', () => {
    expect(edges.length).toBeGreaterThan(500);
    expect(edges).toContainEqual({ from: 'model/graph/train-graph.ts', to: 'config/run-config.ts' });
  });

  it('places every top-level folder and file of src/ in the order', () => {
    const placed = new Set<string>(SRC_LAYERS.flat());
    const unplaced = readdirSync(SRC).filter((n) => !placed.has(n) && n !== 'README.md' && !n.endsWith('.d.ts'));
    expect(unplaced).toEqual([]);
  });

  it('has no import against the order', () => {
    const bad = layerViolations(edges, SRC_LAYERS).map((v) => `${v.from} -> ${v.to}: ${v.reason}`);
    expect(bad).toEqual([]);
  });

  it('has no folders that import each other, directly or through a cycle', () => {
    expect(folderCycles(edges)).toEqual([]);
  });

  it('has no files that import each other', () => {
    expect(fileCycles(edges)).toEqual([]);
  });

  it('keeps core/ a leaf: it imports nothing from src/ outside itself', () => {
    expect(edges.filter((e) => e.from.startsWith('core/') && !e.to.startsWith('core/'))).toEqual([]);
  });
});

describe('the layer check itself, on fixture trees', () => {
  const layers = [['core'], ['model'], ['train']];

  it('passes a tree whose imports run downward', () => {
    const edges = importEdges(join(FIXTURES, 'clean'));
    expect(edges.length).toBe(3);
    expect(layerViolations(edges, layers)).toEqual([]);
    expect(folderCycles(edges)).toEqual([]);
  });

  it('fails a tree with one back-edge, naming the import, and sees the folder cycle it closes', () => {
    const edges = importEdges(join(FIXTURES, 'back-edge'));
    const bad = layerViolations(edges, layers);
    expect(bad).toEqual([{ from: 'model/graph.ts', to: 'train/rng.ts', reason: 'model (rank 1) imports train (rank 2), a higher layer' }]);
    expect(folderCycles(edges)).toEqual([['model', 'train']]);
  });

  it('sees type-only and dynamic imports, and folders missing from the order', () => {
    const edges = importEdges(join(FIXTURES, 'hidden-edges'));
    const reasons = layerViolations(edges, layers).map((v) => `${v.from} -> ${v.to}: ${v.reason}`);
    expect(reasons).toEqual([
      'core/types.ts -> model/graph.ts: core (rank 0) imports model (rank 1), a higher layer',
      'model/lazy.ts -> train/loop.ts: model (rank 1) imports train (rank 2), a higher layer',
      'ui/page.ts -> core/types.ts: ui has no place in the layer order',
    ]);
    expect(fileCycles(edges)).toEqual([['core/types.ts', 'model/graph.ts']]);
  });
});
