import * as Comlink from 'comlink';
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { DeviceLostError, OutOfMemoryError } from '../../src/engine/errors';
import { BadFileError } from '../../src/core/errors';
import { DatasetError } from '../../src/data/errors';
import { ModelConfigError } from '../../src/config/model-config-error';
import { parseRunConfig, RunConfigError } from '../../src/config/run-config';
import { NonFiniteError } from '../../src/train/trainer';
import { errorFromPlain, errorToPlain, registerErrorTransfer } from '../../src/worker/errors';

describe('errors across the worker boundary', () => {
  it('plain round trip keeps class, message and fields', () => {
    const cases: [Error, abstract new (...a: never[]) => Error][] = [
      [new BadFileError('model.safetensors', 'header length 9 runs past the end'), BadFileError],
      [new DatasetError('data.jsonl, line 3: not valid JSON'), DatasetError],
      [new ModelConfigError('config.json: field "hidden_size" ...'), ModelConfigError],
      [new NonFiniteError(17, 'loss'), NonFiniteError],
      [new OutOfMemoryError(2 ** 31, 'activations', 'logits', 2 ** 30, 'exceeds maxBufferSize'), OutOfMemoryError],
      [new DeviceLostError('unknown', 'the GPU process crashed'), DeviceLostError],
    ];
    for (const [e, cls] of cases) {
      const back = errorFromPlain(structuredClone(errorToPlain(e)));
      expect(back).toBeInstanceOf(cls);
      expect(back.name).toBe(e.name);
      expect(back.message).toBe(e.message);
    }
    const oom = errorFromPlain(structuredClone(errorToPlain(cases[4][0]))) as OutOfMemoryError;
    expect(oom.limitBytes).toBe(2 ** 30);
    expect((errorFromPlain(structuredClone(errorToPlain(cases[0][0]))) as BadFileError).file).toBe('model.safetensors');
    expect((errorFromPlain(structuredClone(errorToPlain(cases[3][0]))) as NonFiniteError).step).toBe(17);
  });

  it('a run-config error stays a RunConfigError naming the field', () => {
    let thrown: unknown;
    try { parseRunConfig({ rank: -1 }); } catch (e) { thrown = e; }
    const back = errorFromPlain(structuredClone(errorToPlain(thrown)));
    expect(back).toBeInstanceOf(RunConfigError);
    expect((back as RunConfigError).field).toBe('rank');
  });

  it('through comlink over a real MessageChannel', async () => {
    registerErrorTransfer();
    const { port1, port2 } = new MessageChannel();
    Comlink.expose({ fail: () => { throw new BadFileError('adapter_config.json', 'peft_type is "IA3"'); } }, port1 as unknown as Comlink.Endpoint);
    const remote = Comlink.wrap<{ fail(): Promise<void> }>(port2 as unknown as Comlink.Endpoint);
    const err = await remote.fail().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadFileError);
    expect((err as BadFileError).message).toBe('adapter_config.json: peft_type is "IA3"');
    expect((err as BadFileError).file).toBe('adapter_config.json');
    port1.close();
    port2.close();
  });
});
