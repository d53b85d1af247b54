// Node only (CLI, tests): the tokenizer of a model folder on disk — tokenizer.json, plus
// tokenizer_config.json and chat_template.jinja when the model has them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadFileError } from '../core/errors';
import { ModelTokenizer } from './tokenizer';

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BadFileError(path, `cannot be read (${(e as Error).message})`);
  }
}

function parse(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BadFileError(path, `is not valid JSON (${(e as Error).message})`);
  }
}

export async function openTokenizerDir(dir: string): Promise<ModelTokenizer> {
  const tjPath = join(dir, 'tokenizer.json');
  const tj = await readText(tjPath);
  if (tj === undefined) {
    throw new BadFileError(tjPath, 'file is missing; text datasets need the model\'s tokenizer: copy tokenizer.json (and tokenizer_config.json) from the model\'s Hub repo into the folder');
  }
  const cfgPath = join(dir, 'tokenizer_config.json');
  const cfg = await readText(cfgPath);
  return new ModelTokenizer({
    tokenizerJson: parse(tjPath, tj),
    tokenizerConfig: cfg === undefined ? {} : parse(cfgPath, cfg),
    chatTemplateJinja: await readText(join(dir, 'chat_template.jinja')),
    name: dir,
  });
}
