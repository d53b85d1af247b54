/** The Ollama Modelfile: TEMPLATE derived from each family's Jinja chat template, stop tokens, parameters. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelTokenizer } from '../../src/data/tokenizer';
import { ollamaModelfile, translateChatTemplate } from '../../src/io/gguf';
import { realTokenizer } from '../data/tokenizers';

const demo = () => new ModelTokenizer({
  tokenizerJson: JSON.parse(readFileSync('public/demo/tokenizer.json', 'utf8')),
  tokenizerConfig: JSON.parse(readFileSync('public/demo/tokenizer_config.json', 'utf8')), name: 'demo',
});

describe('chat template -> Ollama TEMPLATE', () => {
  it('Qwen3 (ChatML): system and user turns, the generation prompt, <|im_end|> after the response', () => {
    const t = translateChatTemplate(realTokenizer('qwen3'));
    if ('error' in t) throw new Error(t.error);
    expect(t.template).toBe(
      '{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n<|im_start|>user\n{{ .Prompt }}{{ else }}<|im_start|>user\n{{ .Prompt }}{{ end }}' +
      '<|im_end|>\n<|im_start|>assistant\n{{ .Response }}<|im_end|>\n');
    expect(t.stops).toEqual(['<|im_end|>', '<|im_start|>']);
  });

  it('Gemma 3: the system prompt folded into the user turn, <end_of_turn>, no BOS in the template', () => {
    const t = translateChatTemplate(realTokenizer('gemma3'));
    if ('error' in t) throw new Error(t.error);
    expect(t.template).toBe(
      '{{ if .System }}<start_of_turn>user\n{{ .System }}\n\n{{ .Prompt }}{{ else }}<start_of_turn>user\n{{ .Prompt }}{{ end }}' +
      '<end_of_turn>\n<start_of_turn>model\n{{ .Response }}<end_of_turn>\n');
    expect(t.stops).toEqual(['<end_of_turn>', '<start_of_turn>']);
  });

  it('the demo\'s Q:/A: template, with </s> after the answer', () => {
    const t = translateChatTemplate(demo());
    if ('error' in t) throw new Error(t.error);
    expect(t.template).toBe('{{ if .System }}{{ .System }}\nQ: {{ .Prompt }}{{ else }}Q: {{ .Prompt }}{{ end }}\nA: {{ .Response }}</s>');
    expect(t.stops).toEqual(['</s>']);
  });

  it('Llama 3: header turns; the template\'s trailing assistant header is not repeated after each response', () => {
    // This Llama 3 template always ends with the assistant header (add_generation_prompt or not),
    // so what ends a response is read between it and the next user turn: <|eot_id|>.
    const text = ollamaModelfile({ from: './base.gguf', adapter: './lora.gguf', tokenizer: realTokenizer('llama3') });
    const h = (role: string) => `<|start_header_id|>${role}<|end_header_id|>\n\n`;
    expect(text).toContain(`TEMPLATE """{{ if .System }}${h('system')}{{ .System }}<|eot_id|>${h('user')}{{ .Prompt }}{{ else }}${h('user')}{{ .Prompt }}{{ end }}` +
      `<|eot_id|>${h('assistant')}{{ .Response }}<|eot_id|>"""`);
    expect(text).toMatch(/^# Ollama Modelfile.*\nFROM \.\/base\.gguf\nADAPTER \.\/lora\.gguf\n/);
    expect(text).toContain('PARAMETER stop "<|eot_id|>"');
  });
});

describe('ollamaModelfile', () => {
  it('writes FROM, TEMPLATE, stops and the sampling parameters of generation_config.json', () => {
    const text = ollamaModelfile({ from: './m.gguf', tokenizer: realTokenizer('qwen3'), generationConfig: { do_sample: true, temperature: 0.6, top_p: 0.95, top_k: 20 } });
    expect(text.split('\n').filter((l) => l.startsWith('PARAMETER'))).toEqual([
      'PARAMETER stop "<|im_end|>"', 'PARAMETER stop "<|im_start|>"', 'PARAMETER temperature 0.6', 'PARAMETER top_p 0.95', 'PARAMETER top_k 20',
    ]);
    expect(text).toContain('TEMPLATE """{{ if .System }}<|im_start|>system');
  });

  it('keeps a template it cannot render as a comment', () => {
    const tok = demo();
    const broken = Object.assign(Object.create(Object.getPrototypeOf(tok)), tok, { chatTemplate: '{% for m in messages %}{{ m.content | nosuchfilter }}{% endfor %}' });
    const text = ollamaModelfile({ from: './m.gguf', tokenizer: broken });
    expect(text).toContain('# The chat template could not be translated to Ollama\'s syntax: rendering it failed');
    expect(text).toContain('#   {% for m in messages %}');
    expect(text).toContain('PARAMETER stop "</s>"');
  });
});
