/**
 * The import graph of a source tree, read with TypeScript's own pre-processor (static imports,
 * `export ... from`, `import type`, dynamic `import()`), and the checks the layer test runs on it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** Importing file, relative to the root (posix separators). */
  from: string;
  /** Imported file, relative to the root. */
  to: string;
}

const EXTENSIONS = ['', '.ts', '.tsx', '/index.ts', '/index.tsx'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

function resolveFile(base: string): string | null {
  for (const ext of EXTENSIONS) {
    const candidate = base + ext;
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not this extension
    }
  }
  return null;
}

const posix = (p: string) => p.split(sep).join('/');

/** Every relative import inside `root` that resolves to a file inside `root`. */
export function importEdges(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(root)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue; // packages
      const target = resolveFile(normalize(join(dirname(file), fileName.split('?')[0])));
      if (!target) continue; // a shader or asset outside the tree
      const to = posix(relative(root, target));
      if (to.startsWith('..')) continue;
      edges.push({ from: posix(relative(root, file)), to });
    }
  }
  return edges;
}

/** The top-level folder of a path relative to the root; a file at the root is its own unit. */
export const folderOf = (path: string): string => path.split('/')[0];

export interface LayerViolation extends ImportEdge {
  reason: string;
}

/**
 * Imports that run against the order: `layers[i]` lists the folders of rank i; a folder may import
 * its own folder and folders of lower rank only (peers of one rank never import each other).
 */
export function layerViolations(edges: readonly ImportEdge[], layers: readonly (readonly string[])[]): LayerViolation[] {
  const rank = new Map<string, number>();
  layers.forEach((names, i) => names.forEach((n) => rank.set(n, i)));
  const out: LayerViolation[] = [];
  for (const e of edges) {
    const a = folderOf(e.from);
    const b = folderOf(e.to);
    if (a === b) continue;
    const ra = rank.get(a);
    const rb = rank.get(b);
    if (ra === undefined) out.push({ ...e, reason: `${a} has no place in the layer order` });
    else if (rb === undefined) out.push({ ...e, reason: `${b} has no place in the layer order` });
    else if (rb === ra) out.push({ ...e, reason: `${a} and ${b} are peers (rank ${ra}) and must not import each other` });
    else if (rb > ra) out.push({ ...e, reason: `${a} (rank ${ra}) imports ${b} (rank ${rb}), a higher layer` });
  }
  return out;
}

/** Strongly connected groups (Tarjan) of more than one node in a directed graph. */
export function cycles(edges: readonly (readonly [string, string])[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const [a, b] of edges) {
    if (a === b) continue;
    if (!next.has(a)) next.set(a, new Set());
    if (!next.has(b)) next.set(b, new Set());
    next.get(a)!.add(b);
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return groups;
}

/** Folders that import each other, directly or through a longer cycle. */
export const folderCycles = (edges: readonly ImportEdge[]): string[][] =>
  cycles(edges.map((e) => [folderOf(e.from), folderOf(e.to)] as const));

/** Files that import each other, directly or through a longer cycle. */
export const fileCycles = (edges: readonly ImportEdge[]): string[][] => cycles(edges.map((e) => [e.from, e.to] as const));
