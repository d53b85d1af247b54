import { describe, expect, it } from 'vitest';
import { ALPACA_JSONL, exportCase, parseYaml, pyKwargs } from '../trainers/helpers';

// A DoRA run exported for the trainers says use_dora in each one's own key; a plain run does not mention it.
describe('DoRA in the trainer exports', () => {
  const run = { rank: 8, alpha: 16, targets: ['query', 'value'] as ('query' | 'value')[], maxSteps: 10 };
  const dora = exportCase({ ...run, useDora: true }, 'Qwen/Qwen2.5-0.5B-Instruct', ALPACA_JSONL, 'alpaca.jsonl');
  const plain = exportCase(run, 'Qwen/Qwen2.5-0.5B-Instruct', ALPACA_JSONL, 'alpaca.jsonl');

  it('Axolotl peft_use_dora, TRL LoraConfig(use_dora=True), torchtune model use_dora', () => {
    expect(parseYaml(dora.exports.axolotl.files['axolotl.yaml']).peft_use_dora).toBe(true);
    expect(pyKwargs(dora.exports.trl.files['train_trl.py'], 'LoraConfig').use_dora).toBe(true);
    expect((parseYaml(dora.exports.torchtune.files['torchtune.yaml']).model as Record<string, unknown>).use_dora).toBe(true);
    expect(parseYaml(plain.exports.axolotl.files['axolotl.yaml'])).not.toHaveProperty('peft_use_dora');
    expect(plain.exports.trl.files['train_trl.py']).not.toMatch(/use_dora/);
    expect(plain.exports.torchtune.files['torchtune.yaml']).not.toMatch(/use_dora/);
  });
});
