/**
 * Pre-tokenized training data: one JSON object per line, `{"tokens": [ids...]}` with an optional
 * `"loss_mask": [0|1 ...]` of the same length (1 = the token is predicted in the loss). Errors
 * name the line and what to fix. (Text datasets arrive through the tokenizer; see src/data.)
 */
import type { TokenizedExample } from './batching';
import { DatasetError } from './errors';
import { forEachLine, parseJson } from './text';

export { DatasetError };

export function parseTokenJsonl(text: string, vocabSize: number, file = 'dataset'): TokenizedExample[] {
  const out: TokenizedExample[] = [];
  forEachLine(text, file, (raw, lineNo) => {
    const line = raw.trim();
    if (!line) return;
    const where = `${file}, line ${lineNo}`;
    const obj = parseJson(line, where);
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new DatasetError(`${where}: expected a JSON object like {"tokens": [1, 2, 3]}`);
    const o = obj as Record<string, unknown>;
    if (!('tokens' in o)) {
      const hint = 'text' in o ? ' (text lines need the model\'s tokenizer; this command takes pre-tokenized {"tokens": [...]} lines)' : '';
      throw new DatasetError(`${where}: missing field "tokens"${hint}`);
    }
    const ids = o.tokens;
    if (!Array.isArray(ids) || ids.length < 2) throw new DatasetError(`${where}: "tokens" must be an array of at least 2 token ids`);
    const bad = ids.findIndex((t) => !Number.isInteger(t) || (t as number) < 0 || (t as number) >= vocabSize);
    if (bad >= 0) throw new DatasetError(`${where}: token ${bad} (${JSON.stringify(ids[bad])}) is not an id in [0, ${vocabSize})`);
    let inLoss: boolean[] | undefined;
    if ('loss_mask' in o) {
      const m = o.loss_mask;
      if (!Array.isArray(m) || m.length !== ids.length || !m.every((x) => x === 0 || x === 1)) {
        throw new DatasetError(`${where}: "loss_mask" must be ${ids.length} values of 0 or 1`);
      }
      inLoss = m.map((x) => x === 1);
    }
    out.push({ ids: ids as number[], ...(inLoss ? { inLoss } : {}) });
  });
  if (out.length === 0) throw new DatasetError(`${file}: no examples (the file is empty)`);
  return out;
}
