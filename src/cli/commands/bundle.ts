import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { openModelSpec, stderrProgress } from '../../io/model-source/node';
import { fileSource } from '../../io/node-file-source';
import { importPeftAdapter } from '../../io/peft';
import { writeMergedBundle } from '../../model/export/bundle';
import type { MergeDtype } from '../../model/merge';
import { CliUsageError, parseCliArgs } from '../args';

const DTYPES: Record<string, MergeDtype> = { f16: 'F16', bf16: 'BF16', f32: 'F32' };

/**
 * `bundle --model <dir|hf:org/name> --adapter <dir> [--dtype bf16|f16|f32] [--out <file.zip>]`: the
 * adapter merged into the base model as the studio's merged download, one zip that from_pretrained
 * loads unzipped (weights sharded above 2 GB, config, generation config, tokenizer files, model card).
 * Written to <out>.part and renamed when complete.
 */
export async function runBundle(argv: string[]): Promise<number> {
  const { values } = parseCliArgs(argv, { model: { type: 'string' }, adapter: { type: 'string' }, dtype: { type: 'string' }, out: { type: 'string' } });
  if (!values.model || !values.adapter) throw new CliUsageError('--model and --adapter are required');
  const dtype = DTYPES[(values.dtype ?? 'bf16').toLowerCase()];
  if (!dtype) throw new CliUsageError(`--dtype must be one of ${Object.keys(DTYPES).join(', ')}, got "${values.dtype}"`);
  const name = basename(values.adapter.replace(/[\\/]+$/, '')) || 'adapter';
  const out = values.out ?? `${name}-merged.zip`;
  const model = await openModelSpec(values.model, { onProgress: stderrProgress() });
  const part = `${out}.part`;
  const file = await open(part, 'w');
  try {
    const weights = await fileSource(join(values.adapter, 'adapter_model.safetensors'));
    let adapter;
    try {
      adapter = await importPeftAdapter(weights, await readFile(join(values.adapter, 'adapter_config.json'), 'utf8'), model.config);
    } finally {
      await weights.close();
    }
    let lastPct = -10;
    const r = await writeMergedBundle({
      model, adapters: [{ adapter, weight: 1, name }], dtype,
      card: { title: `${name} (merged)`, baseModel: model.name, lora: adapter.config },
      async sink(chunk) {
        for (let done = 0; done < chunk.byteLength;) done += (await file.write(chunk, done, chunk.byteLength - done)).bytesWritten;
      },
      onProgress(p) {
        const pct = Math.floor((100 * p.bytes) / p.totalBytes);
        if (pct >= lastPct + 10) {
          lastPct = pct;
          process.stderr.write(`writing ${p.file} ${pct}%\n`);
        }
      },
    });
    await file.close();
    await rename(part, out);
    console.log(JSON.stringify({ out, bytes: r.totalBytes, merged_modules: r.mergedModules, files: r.files.map((f) => f.name) }));
    return 0;
  } catch (e) {
    await file.close().catch(() => undefined);
    await rm(part, { force: true });
    throw e;
  } finally {
    await model.close();
  }
}
