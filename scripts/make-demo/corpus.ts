/**
 * The pretraining text: Jane Austen's six novels (public domain; Project Gutenberg transcriptions)
 * as Debian's package r-cran-janeaustenr ships them (version 1.0.0-1, package licence MIT), read
 * from the package's R data files without R. The package is fetched with `apt-get download` into
 * a cache folder unless `dir` already holds it extracted.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLazyLoadDb } from './rdata';

export const CORPUS_PACKAGE = 'r-cran-janeaustenr';
export const CORPUS_VERSION = '1.0.0-1';
const DATA_DIR = 'usr/lib/R/site-library/janeaustenr/data';

/** In a fixed order, so the corpus (and the model) do not depend on the package's object order. */
export const NOVELS = ['sensesensibility', 'prideprejudice', 'mansfieldpark', 'emma', 'northangerabbey', 'persuasion'] as const;

export interface Corpus {
  /** Per novel: paragraphs (wrapped lines joined), one per line. */
  texts: Map<string, string>;
  /** sha256 of the joined texts, for the README: the same package gives the same hash. */
  sha256: string;
}

function fetchPackage(cache: string): string {
  const extracted = join(cache, 'root');
  if (existsSync(join(extracted, DATA_DIR, 'Rdata.rdb'))) return extracted;
  mkdirSync(cache, { recursive: true });
  try {
    execFileSync('apt-get', ['download', `${CORPUS_PACKAGE}=${CORPUS_VERSION}`], { cwd: cache, stdio: 'pipe' });
  } catch (e) {
    throw new Error(
      `could not download the Debian package ${CORPUS_PACKAGE} ${CORPUS_VERSION} with apt-get (${(e as Error).message.split('\n')[0]}). ` +
        `On Debian/Ubuntu run "apt-get update" first; elsewhere download the .deb by hand, extract it (dpkg-deb -x or ar + tar) ` +
        `and pass the folder with --corpus <dir>.`,
    );
  }
  const deb = readdirSync(cache).find((f) => f.startsWith(`${CORPUS_PACKAGE}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download left no ${CORPUS_PACKAGE}_*.deb in ${cache}`);
  execFileSync('dpkg-deb', ['-x', join(cache, deb), extracted]);
  return extracted;
}

/** Gutenberg's wrapped lines to one paragraph per line; underscores (italics) and runs of spaces removed. */
export function paragraphs(lines: readonly string[]): string {
  const out: string[] = [];
  let current: string[] = [];
  const flush = () => {
    if (current.length) out.push(current.join(' ').replace(/_/g, '').replace(/\s+/g, ' ').trim());
    current = [];
  };
  for (const line of lines) {
    if (line.trim() === '') flush();
    else current.push(line.trim());
  }
  flush();
  return out.filter((p) => p.length > 0).join('\n');
}

/** `dir`: an extracted package (the folder holding usr/); default: download into `cache`. */
export function loadCorpus(opts: { dir?: string; cache: string }): Corpus {
  const root = opts.dir ?? fetchPackage(opts.cache);
  const base = join(root, DATA_DIR, 'Rdata');
  if (!existsSync(`${base}.rdx`)) throw new Error(`${root} does not hold ${DATA_DIR}/Rdata.rdx; pass the folder where ${CORPUS_PACKAGE} was extracted`);
  const objects = readLazyLoadDb(readFileSync(`${base}.rdx`), readFileSync(`${base}.rdb`), base);
  const texts = new Map<string, string>();
  for (const name of NOVELS) {
    const lines = objects.get(name);
    if (!Array.isArray(lines) || !lines.every((l) => typeof l === 'string' || l === null)) {
      throw new Error(`${base}: "${name}" is not a character vector; is this ${CORPUS_PACKAGE} ${CORPUS_VERSION}?`);
    }
    texts.set(name, paragraphs(lines.map((l) => (l as string | null) ?? '')));
  }
  const hash = createHash('sha256');
  for (const t of texts.values()) hash.update(t + '\n');
  return { texts, sha256: hash.digest('hex') };
}
