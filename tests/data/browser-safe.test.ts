// The data pipeline runs in the Web Worker: nothing it imports may need Node. Walks the static
// imports from the modules the worker uses and fails on any `node:` import (the CLI's folder
// loader, node-tokenizer.ts, is the one Node-only file and must stay outside this graph).
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

const ENTRIES = ['src/data/tokenizer.ts', 'src/data/prepare.ts', 'src/data/preview.ts'];

function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  // Value imports only: `import type` is erased at build time.
  return [...src.matchAll(/^(?:import|export)\s(?!type\s)[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
}

function graph(): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const stack = [...ENTRIES];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    const deps = importsOf(file);
    seen.set(file, deps);
    for (const d of deps) if (d.startsWith('.')) stack.push(normalize(join(dirname(file), d.endsWith('.ts') ? d : `${d}.ts`)));
  }
  return seen;
}

describe('src/data in the browser', () => {
  it('imports no Node module from the worker-side entry points', () => {
    const g = graph();
    expect([...g.keys()]).toEqual(expect.arrayContaining(['src/data/formats/read.ts', 'src/data/model-template.ts', 'src/core/rng.ts']));
    const nodeImports = [...g].flatMap(([file, deps]) => deps.filter((d) => d.startsWith('node:') || d === 'fs' || d === 'path').map((d) => `${file} -> ${d}`));
    expect(nodeImports).toEqual([]);
    expect(g.has('src/data/node-tokenizer.ts')).toBe(false);
  });
});
