/**
 * The one-line explanation of each RunConfig field is its doc comment in src/config/run-config.ts:
 * read from that file's text at build time, so the form and the schema never disagree.
 */
import source from '../../config/run-config.ts?raw';

export function parseFieldDocs(src: string): Record<string, string> {
  const docs: Record<string, string> = {};
  const re = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(\w+)\s*:/g;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    docs[m[2]] = m[1].split('\n').map((l) => l.replace(/^\s*\*\s?/, '').trim()).filter(Boolean).join(' ');
  }
  return docs;
}

export const FIELD_HELP: Record<string, string> = parseFieldDocs(source);
