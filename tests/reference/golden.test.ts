import { beforeAll, describe, expect, it } from 'vitest';
import { adamwStep } from '../../src/reference/optim';
import { checkGolden } from '../../src/cli/golden/check';
import { formatComparison } from '../../src/cli/golden/compare';
import { adapterKey, loadGoldenCase, type GoldenCase } from '../../src/cli/golden/golden-case';
import { cpuGoldenEngine } from '../../src/cli/golden/cpu-engine';
import { expectClose } from './helpers';

// Golden case computed by PyTorch (float32): tests/fixtures/golden/README.md. Loaded through the
// project's own safetensors reader and PEFT importer, exactly as `npm run cli -- golden` does.
let c: GoldenCase;

beforeAll(async () => {
  c = await loadGoldenCase('tests/fixtures/golden/llama-tiny');
});

describe('CPU reference vs PyTorch golden (llama-tiny)', () => {
  it('has ignored targets and a LoRA adapter on every linear layer and the head', () => {
    expect(c.targets.some((t) => t === -100)).toBe(true);
    expect(c.adapter.tensors.length).toBe(2 * 7 + 1);
    expect(c.adapter.tensors.every((t) => t.B.some((x) => x !== 0))).toBe(true);
  });

  it('matches logits, loss, every LoRA gradient, one AdamW step and the loss after it', async () => {
    const comparisons = await checkGolden(c, await cpuGoldenEngine.run(c));
    const failed = comparisons.filter((x) => !x.ok);
    expect(failed.map(formatComparison)).toEqual([]);
    expect(comparisons.length).toBe(2 + 2 * 2 * 15 + 1);
    const worst = (prefix: RegExp) => Math.max(...comparisons.filter((x) => prefix.test(x.name)).map((x) => x.maxAbs));
    console.log(
      `golden llama-tiny (cpu): logits max |diff| ${worst(/^logits$/).toExponential(2)}, grads ${worst(/\.grad$/).toExponential(2)}, ` +
        `after_adamw_1 ${worst(/after_adamw_1$/).toExponential(2)}`,
    );
  });

  it('AdamW step 1 on the golden gradients gives after_adamw_1 (optimizer alone)', async () => {
    const hp = { lr: c.adamw.lr, beta1: c.adamw.betas[0], beta2: c.adamw.betas[1], eps: c.adamw.eps, weightDecay: c.adamw.weightDecay };
    for (const t of c.adapter.tensors) {
      for (const [which, tensor] of [['A', t.A], ['B', t.B]] as const) {
        const key = adapterKey(t.path, which);
        const p = tensor.slice();
        adamwStep(p, await c.expected.readF32(`${key}.grad`), new Float32Array(p.length), new Float32Array(p.length), 1, hp);
        expectClose(`${key}.after_adamw_1`, p, await c.expected.readF32(`${key}.after_adamw_1`), 1e-6, 1e-5);
      }
    }
  });
});

// Qwen3 (q/k norms, head_dim != hidden / heads, tied head with LoRA) and Gemma 3 (sandwich (1 + w)
// norms, GeGLU, scaled embeddings, query_pre_attn_scalar, sliding and full layers with their own
// RoPE bases): scripts/golden/make_golden.py writes these with plain torch autograd.
describe.each([
  ['qwen3-tiny', 2, { qkNorm: true, tieWordEmbeddings: true, headDim: 16, hiddenSize: 32 }],
  ['gemma3-tiny', 3, { qkNorm: true, normPlusOne: true, sandwichNorms: true, mlpActivation: 'gelu_tanh', queryPreAttnScalar: 24, slidingWindow: 4, localRopeTheta: 10000 }],
] as const)('CPU reference vs PyTorch golden (%s)', (name, layers, features) => {
  let g: GoldenCase;
  beforeAll(async () => {
    g = await loadGoldenCase(`tests/fixtures/golden/${name}`);
  });

  it('parses into the architecture features it tests, with LoRA on every linear layer and the tied head', () => {
    expect(g.config).toMatchObject(features);
    expect(g.config.numLayers).toBe(layers);
    expect(g.adapter.tensors.length).toBe(layers * 7 + 1);
    expect(g.adapter.tensors.every((t) => t.B.some((x) => x !== 0))).toBe(true);
    expect(g.targets.some((t) => t === -100)).toBe(true);
    if (g.config.slidingWindow) {
      expect(g.T).toBeGreaterThanOrEqual(2 * g.config.slidingWindow);
      expect(new Set(g.config.layerTypes)).toEqual(new Set(['full', 'sliding']));
    }
  });

  it('matches logits, loss, every LoRA gradient, one AdamW step and the loss after it', async () => {
    const comparisons = await checkGolden(g, await cpuGoldenEngine.run(g));
    expect(comparisons.filter((x) => !x.ok).map(formatComparison)).toEqual([]);
    expect(comparisons.length).toBe(2 + 2 * 2 * (layers * 7 + 1) + 1);
    const worst = (re: RegExp) => Math.max(...comparisons.filter((x) => re.test(x.name)).map((x) => x.maxAbs));
    console.log(`golden ${name} (cpu): logits max |diff| ${worst(/^logits$/).toExponential(2)}, grads ${worst(/\.grad$/).toExponential(2)}`);
  });
});
