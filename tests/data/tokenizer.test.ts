// The tokenizer wrapper against two real tokenizers of different families (Llama 3: 128k byte-level
// BPE with \p{N}{1,3} digit groups; Qwen3: 151k byte-level BPE with single digits and an NFC
// normalizer). Expected ids come from outside this code: llama.cpp's tokenizer test cases (made with
// transformers' AutoTokenizer) and the published special-token ids of both model families.
import { describe, expect, it } from 'vitest';
import { ChatTemplateError } from '../../src/data/errors';
import { ModelTokenizer } from '../../src/data/tokenizer';
import { BadFileError } from '../../src/core/errors';
import { llamaCppCases, realTokenizer, tokenizerFiles } from './tokenizers';

const llama = realTokenizer('llama3');
const qwen = realTokenizer('qwen3');

describe.each([
  { name: 'llama3', vocab: 'llama-bpe' as const, tok: llama },
  { name: 'qwen3', vocab: 'qwen2' as const, tok: qwen },
])('$name tokenizer against llama.cpp ggml-vocab-$vocab cases', ({ vocab, tok }) => {
  const cases = llamaCppCases(vocab);

  it('has the 46 cases: multilingual, emoji, leading spaces, digits, code', () => {
    expect(cases).toHaveLength(46);
    const texts = cases.map((c) => c.text);
    expect(texts).toContain('   Hello'); // leading spaces
    expect(texts.some((t) => /\p{Script=Cyrillic}/u.test(t))).toBe(true);
    expect(texts.some((t) => /\p{Script=Khmer}/u.test(t))).toBe(true);
    expect(texts.some((t) => /\p{Extended_Pictographic}/u.test(t))).toBe(true);
  });

  it.each(llamaCppCases(vocab).map((c, i) => ({ i, ...c })))('case $i: $text', ({ text, ids }) => {
    expect(tok.encode(text, { addSpecialTokens: false })).toEqual(ids);
    expect(tok.decode(ids)).toBe(text); // byte-level BPE decodes back to the exact text
  });
});

describe('special tokens, BOS/EOS/pad', () => {
  it('Llama 3: ids as Meta publishes them; special tokens inside text become their ids', () => {
    expect([llama.bos, llama.eos, llama.vocabSize]).toEqual([128000, 128001, 128256]);
    expect(llama.tokenId('<|eot_id|>')).toBe(128009);
    expect(llama.encode('<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>', { addSpecialTokens: false }))
      .toEqual([128000, 128006, 882, 128007, 271, 9906, 128009]);
    expect(llama.encode('<|start_header_id|>system<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n', { addSpecialTokens: false }))
      .toEqual([128006, 9125, 128007, 271, 13347, 128009, 128006, 78191, 128007, 271]);
    // This tokenizer.json (Llama 3.0) adds no BOS by itself; the chat template writes it, so training adds it.
    expect(llama.encode('Hello world')).toEqual([9906, 1917]);
    expect(llama.addsBos).toBe(true);
    expect(llama.specialTokens).toHaveLength(256);
    expect(llama.isSpecial(128009)).toBe(true);
    expect(llama.decode([128000, 9906, 1917, 128009], { skipSpecialTokens: true })).toBe('Hello world');
  });

  it('Llama 3 has no pad: a reserved special token, never EOS', () => {
    expect(llama.pad).toBe(128002);
    expect(llama.tokenString(llama.pad)).toBe('<|reserved_special_token_0|>');
    expect(llama.padSource).toMatch(/reserved_special_token_0.*defines no pad_token/);
  });

  it('Qwen3: no BOS, EOS <|im_end|>, pad <|endoftext|>; ChatML tokens are single ids', () => {
    expect([qwen.bos, qwen.addsBos, qwen.eos, qwen.pad, qwen.vocabSize]).toEqual([null, false, 151645, 151643, 151669]);
    expect(qwen.encode('<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>assistant\n<think>', { addSpecialTokens: false }))
      .toEqual([151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 77091, 198, 151667]);
    expect(qwen.encode('<|im_start|>user\nHello<|im_end|>')).toEqual([151644, 872, 198, 9707, 151645]);
    // The same string is plain text to Llama 3 (no such tokens): 15 ids.
    expect(llama.encode('<|im_start|>user\nHello<|im_end|>', { addSpecialTokens: false })).toHaveLength(15);
  });

  it('a pad_token equal to EOS is replaced by a distinct one, and says why', () => {
    const f = tokenizerFiles('qwen3');
    const t = new ModelTokenizer({ tokenizerJson: f.tokenizerJson, tokenizerConfig: { ...(f.tokenizerConfig as object), pad_token: '<|im_end|>' } });
    expect(t.pad).not.toBe(t.eos);
    expect(t.padSource).toBe('special token "<|vision_pad|>" (the configured pad_token is the EOS token)');
  });

  it('files that do not fit say which and why', () => {
    const f = tokenizerFiles('llama3');
    expect(() => new ModelTokenizer({ tokenizerJson: { version: '1.0' }, name: 'm' })).toThrow(/m\/tokenizer\.json: is not a Hugging Face tokenizer/);
    expect(() => new ModelTokenizer({ tokenizerJson: f.tokenizerJson, tokenizerConfig: { eos_token: '<|im_end|>' }, name: 'm' }))
      .toThrow(new BadFileError('m/tokenizer_config.json', 'eos_token "<|im_end|>" is not a token of tokenizer.json; are the two files from the same model?'));
    expect(() => new ModelTokenizer({ tokenizerJson: f.tokenizerJson, tokenizerConfig: [] })).toThrow(/must be a JSON object/);
  });
});

describe('chat templates (@huggingface/jinja)', () => {
  const chat = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: ' Hello! ' }];

  it("renders Llama 3's template (BOS, trimmed contents, its unconditional assistant header)", () => {
    expect(llama.applyChatTemplate(chat)).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it("renders Qwen3's template, with and without the generation prompt and thinking", () => {
    const q = [{ role: 'user', content: 'Hi' }];
    expect(qwen.applyChatTemplate(q)).toBe('<|im_start|>user\nHi<|im_end|>\n');
    expect(qwen.applyChatTemplate(q, { addGenerationPrompt: true })).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    expect(qwen.applyChatTemplate(q, { addGenerationPrompt: true, extra: { enable_thinking: false } })).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n');
    expect(qwen.applyChatTemplate(chat.slice(0, 2).concat({ role: 'assistant', content: 'Hello! ' }))).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello! <|im_end|>\n',
    );
  });

  it('known divergence: @huggingface/jinja 0.5.11 ignores the chars of lstrip/rstrip/strip', () => {
    // Python's ' Hello! '.lstrip('\n') keeps the space; Qwen3's template calls content.lstrip('\n'), so
    // transformers renders " Hello! " where we get "Hello! ". If this starts failing, the library
    // was fixed: drop this test (modelTemplateSegments already accepts either rendering).
    expect(qwen.applyChatTemplate(chat)).toContain('</think>\n\nHello! <|im_end|>');
  });

  it('AddedToken objects, named templates ("default" is used), and raise_exception as a ChatTemplateError', () => {
    const f = tokenizerFiles('llama3');
    const t = new ModelTokenizer({
      tokenizerJson: f.tokenizerJson,
      tokenizerConfig: {
        ...(f.tokenizerConfig as object),
        bos_token: { __type: 'AddedToken', content: '<|begin_of_text|>', lstrip: false },
        chat_template: [
          { name: 'tool_use', template: 'T' },
          { name: 'default', template: "{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversation roles must alternate user/assistant') }}{% endif %}{{ bos_token }}" },
        ],
      },
    });
    expect(t.bos).toBe(128000);
    expect(t.applyChatTemplate([{ role: 'user', content: 'x' }])).toBe('<|begin_of_text|>');
    expect(() => t.applyChatTemplate([{ role: 'assistant', content: 'x' }])).toThrow(ChatTemplateError);
    expect(() => t.applyChatTemplate([{ role: 'assistant', content: 'x' }])).toThrow(/Conversation roles must alternate user\/assistant/);
  });

  it('says when the model has no chat template', () => {
    const f = tokenizerFiles('llama3');
    const none = new ModelTokenizer({ tokenizerJson: f.tokenizerJson, tokenizerConfig: { ...(f.tokenizerConfig as object), chat_template: undefined } });
    expect(none.chatTemplate).toBeNull();
    expect(() => none.applyChatTemplate([])).toThrow(/has no chat_template; choose another template/);
  });
});
