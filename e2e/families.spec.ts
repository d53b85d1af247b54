/**
 * A tiny Qwen3 and a tiny Gemma 3 (random weights, real config fields, the demo's tokenizer) from
 * the Hub stand-in: each loads, names its architecture, and trains a few steps on the demo data.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { parseModelConfig } from '../src/config/model-config';
import { writeSafetensors } from '../src/io/safetensors';
import { tinyWeights } from '../src/model/synthetic';
import { HubServer } from '../tests/helpers/hub-server';
import { DEMO_DIR } from './helpers';

const common = {
  vocab_size: 320, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, head_dim: 16,
  rms_norm_eps: 1e-6, max_position_embeddings: 256, tie_word_embeddings: true, torch_dtype: 'float32', bos_token_id: 1, eos_token_id: 2, pad_token_id: 0,
};
const CONFIGS: Record<string, Record<string, unknown>> = {
  'studio/tiny-qwen3': { ...common, architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', num_key_value_heads: 2, rope_theta: 1e6, attention_bias: false, hidden_act: 'silu' },
  'studio/tiny-gemma3': {
    ...common, architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', num_key_value_heads: 1, rope_theta: 1e6, rope_local_base_freq: 10000,
    query_pre_attn_scalar: 16, sliding_window: 16, layer_types: ['sliding_attention', 'full_attention'], hidden_activation: 'gelu_pytorch_tanh',
  },
};

function repoFiles(config: Record<string, unknown>): Record<string, Uint8Array> {
  const weights = tinyWeights(parseModelConfig(config), 5);
  const model = writeSafetensors([...weights].map(([name, data]) => ({ name, dtype: 'F32' as const, shape: [data.length], data })), { format: 'pt' });
  const tok = (f: string) => new Uint8Array(readFileSync(join(DEMO_DIR, f)));
  return { 'config.json': new TextEncoder().encode(JSON.stringify(config)), 'model.safetensors': model, 'tokenizer.json': tok('tokenizer.json'), 'tokenizer_config.json': tok('tokenizer_config.json') };
}

test('a tiny Qwen3 and a tiny Gemma 3 load from the Hub (stand-in) and train a few steps', async ({ page }) => {
  test.setTimeout(240_000);
  const hub = await new HubServer(Object.fromEntries(Object.entries(CONFIGS).map(([repo, config]) => [repo, { files: repoFiles(config) }]))).start();
  try {
    await page.goto('/');
    await expect(page.getByTestId('model-info')).toContainText('studio-demo', { timeout: 60_000 });
    for (const [repo, config] of Object.entries(CONFIGS)) {
      await page.getByRole('tab', { name: 'Model & data' }).click();
      await page.locator('label', { hasText: 'Hugging Face repo' }).click();
      await page.getByLabel('Repo id').fill(repo);
      await page.getByLabel('Hub address').fill(hub.url);
      await page.getByRole('button', { name: 'Load model' }).click();
      await expect(page.getByTestId('model-info')).toContainText(repo, { timeout: 60_000 });
      await expect(page.getByTestId('model-info')).toContainText(String(config.model_type));

      await page.getByRole('tab', { name: 'Configure' }).click();
      await page.getByRole('radio', { name: 'steps' }).check();
      await page.getByLabel('Max steps').fill('3');
      await page.getByRole('button', { name: 'Train', exact: true }).click();
      await expect(page.getByTestId('run-status')).toHaveText('done', { timeout: 120_000 });
    }
  } finally {
    await hub.close();
  }
});
