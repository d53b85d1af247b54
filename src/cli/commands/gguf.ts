import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseGgufExportType } from '../../io/gguf/tensor-types';
import { openModelSpec, stderrProgress } from '../../io/model-source/node';
import { fileSource } from '../../io/node-file-source';
import { importPeftAdapter } from '../../io/peft';
import { exportGguf, GGUF_WHAT, type GgufWhat } from '../../model/export/gguf-export';
import { CliUsageError, parseCliArgs } from '../args';

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** The Modelfile's path next to an export: model-q8_0.gguf -> model-q8_0.Modelfile. */
export const modelfilePath = (out: string) => join(dirname(out), `${basename(out).replace(/\.gguf$/i, '')}.Modelfile`);

/**
 * `gguf --model <dir|hf:org/name> [--adapter <dir>] --what base|adapter|merged --type f32|f16|q8_0|q4_0|q4_k_m --out <file.gguf>`:
 * a GGUF for llama.cpp / Ollama / LM Studio and an Ollama Modelfile next to it. The file is written
 * tensor by tensor to <out>.part and renamed when complete. Defaults: --what merged with --adapter,
 * else base; --type f16 (f32 for an adapter).
 */
export async function runGguf(argv: string[]): Promise<number> {
  const { values } = parseCliArgs(argv, {
    model: { type: 'string' }, adapter: { type: 'string' }, what: { type: 'string' }, type: { type: 'string' }, out: { type: 'string' },
    'base-gguf': { type: 'string' },
  });
  if (!values.model || !values.out) throw new CliUsageError('--model and --out are required');
  const what = (values.what ?? (values.adapter ? 'merged' : 'base')) as GgufWhat;
  if (!GGUF_WHAT.includes(what)) throw new CliUsageError(`--what must be one of ${GGUF_WHAT.join(', ')}, got "${values.what}"`);
  const type = parseGgufExportType(values.type ?? (what === 'adapter' ? 'f32' : 'f16'));
  if (what !== 'base' && !values.adapter) throw new CliUsageError(`--what ${what} needs --adapter <dir> (a PEFT adapter: adapter_model.safetensors and adapter_config.json)`);
  if (what === 'base' && values.adapter) throw new CliUsageError('--what base writes the base model alone; drop --adapter, or use --what adapter or merged');

  const model = await openModelSpec(values.model, { onProgress: stderrProgress() });
  const part = `${values.out}.part`;
  const file = await open(part, 'w');
  try {
    let adapter;
    if (values.adapter) {
      const weights = await fileSource(join(values.adapter, 'adapter_model.safetensors'));
      try {
        adapter = await importPeftAdapter(weights, await readFile(join(values.adapter, 'adapter_config.json'), 'utf8'), model.config);
      } finally {
        await weights.close();
      }
    }
    let lastPct = -10;
    const result = await exportGguf({
      model, adapter, what, type, fileName: basename(values.out), baseFileName: values['base-gguf'],
      async sink(chunk) {
        for (let done = 0; done < chunk.byteLength;) done += (await file.write(chunk, done, chunk.byteLength - done)).bytesWritten;
      },
      onProgress(p) {
        const pct = Math.floor((100 * p.bytes) / p.totalBytes);
        if (pct >= lastPct + 10 || p.done === p.total) {
          lastPct = pct;
          process.stderr.write(`writing ${basename(values.out!)} ${pct}% (${p.done}/${p.total} tensors, ${mib(p.bytes)} of ${mib(p.totalBytes)})\n`);
        }
      },
    });
    await file.close();
    await rename(part, values.out);
    const mf = modelfilePath(values.out);
    await writeFile(mf, result.modelfile);
    for (const w of result.warnings) console.error(`warning: ${w}`);
    console.log(JSON.stringify({ out: values.out, what, type, bytes: result.totalBytes, modelfile: mf }));
    return 0;
  } catch (e) {
    await file.close().catch(() => undefined);
    await rm(part, { force: true });
    throw e;
  } finally {
    await model.close();
  }
}
