/** Fingerprints of model, dataset and config, and the messages when a checkpoint does not match what is loaded. */
import type { Fingerprints } from '../../src/config/fingerprints';
import { describe, expect, it } from 'vitest';
import { tinyModelConfig } from '../../src/model/synthetic';
import { configFingerprint, datasetFingerprint, fingerprintMismatches, modelFingerprint } from '../../src/train/fingerprint';
import { parseRunConfig } from '../../src/config/run-config';

const train = [{ ids: [1, 5, 6, 2] }, { ids: [1, 7, 2], inLoss: [false, true, true] }];
const validation = [{ ids: [1, 9, 2] }];

async function fp(over: { name?: string; weightBytes?: number; data?: string; train?: typeof train; lr?: number } = {}): Promise<Fingerprints> {
  return {
    model: await modelFingerprint(over.name ?? 'studio-demo', tinyModelConfig(), over.weightBytes ?? 1000),
    dataset: await datasetFingerprint(over.data ?? 'dataset.jsonl', over.train ?? train, validation),
    config: await configFingerprint(parseRunConfig({ learningRate: over.lr ?? 1e-3 })),
  };
}

describe('fingerprints', () => {
  it('are stable for the same inputs and change with the model, the tokens, the loss mask and the config', async () => {
    const a = await fp();
    expect(fingerprintMismatches(a, await fp())).toEqual([]);
    expect(a.model.hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await fp({ weightBytes: 1001 })).model.hash).not.toBe(a.model.hash);
    expect((await fp({ train: [train[0], { ids: [1, 7, 2] }] })).dataset.hash).not.toBe(a.dataset.hash); // mask differs
    expect((await fp({ train: [train[1], train[0]] })).dataset.hash).not.toBe(a.dataset.hash); // order differs
    expect((await fp({ lr: 2e-3 })).config.hash).not.toBe(a.config.hash);
    // How often checkpoints are saved does not change what is trained.
    expect((await configFingerprint(parseRunConfig({ learningRate: 1e-3, checkpointEverySteps: 7 }))).hash).toBe(a.config.hash);
  });

  it('a mismatch names what differs and what to load', async () => {
    const saved = await fp();
    const otherModel = fingerprintMismatches(saved, await fp({ name: 'TinyLlama' }));
    expect(otherModel).toHaveLength(1);
    expect(otherModel[0].field).toBe('model');
    expect(otherModel[0].message).toMatch(/trained on the model "studio-demo" but "TinyLlama" is loaded; load "studio-demo"/);
    const changedModel = fingerprintMismatches(saved, await fp({ weightBytes: 5 }));
    expect(changedModel[0].message).toMatch(/differs from the one the checkpoint was trained on.*load the same "studio-demo"/);
    const otherData = fingerprintMismatches(saved, await fp({ data: 'other.jsonl', train: [train[0]] }));
    expect(otherData.map((m) => m.field)).toEqual(['dataset']);
    expect(otherData[0].message).toMatch(/dataset "dataset.jsonl" \(2 training \+ 1 validation examples\) but "other.jsonl" is loaded/);
    const sameFileOtherOptions = fingerprintMismatches(saved, await fp({ train: [train[0]] }));
    expect(sameFileOtherOptions[0].message).toMatch(/gives other tokens.*template, prompt masking, max sequence length, validation split and seed/);
    const both = fingerprintMismatches(saved, await fp({ name: 'x', data: 'y.jsonl', train: [train[0]], lr: 1 }));
    expect(both.map((m) => m.field)).toEqual(['model', 'dataset', 'config']);
  });
});
