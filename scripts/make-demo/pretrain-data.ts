/**
 * Pretraining windows over the corpus as one token stream: each paragraph's bytes then EOS (the
 * paragraphs are the documents, as web text is separated by EOS in pretraining, so the base model
 * already ends a turn after a finished sentence). A window is BOS then `seqLen` tokens from the
 * start of a word, at seeded random places. The last `heldOut` tokens (the end of Persuasion) are
 * never trained on; fixed windows there are the validation set.
 */
import type { TokenizedExample } from '../../src/data/batching';
import { Prng } from '../../src/core/rng';
import { BOS, BYTE_OFFSET, EOS, PAD } from './tokenizer-files';
import type { PretrainData } from './relora';

const SPACE = BYTE_OFFSET + 0x20;

/** Paragraphs (one per line of `text`) as token ids, each followed by EOS. */
export function tokenStream(text: string): Uint16Array {
  const enc = new TextEncoder();
  const ids: number[] = [];
  for (const para of text.split('\n')) {
    if (!para) continue;
    for (const b of enc.encode(para)) ids.push(BYTE_OFFSET + b);
    ids.push(EOS);
  }
  return Uint16Array.from(ids);
}

export function pretrainData(stream: Uint16Array, o: { seqLen: number; microBatch: number; stepsPerCycle: number; seed: number; heldOut: number; validationWindows: number }): PretrainData {
  const trainEnd = stream.length - o.heldOut;
  if (trainEnd < 10 * o.seqLen) throw new Error('corpus too small for the held-out part');
  // Starts of words: after a space or an EOS (or the very start).
  const starts: number[] = [0];
  for (let i = 1; i < stream.length - o.seqLen; i++) {
    if ((stream[i - 1] === SPACE || stream[i - 1] === EOS) && stream[i] !== SPACE && stream[i] !== EOS) starts.push(i);
  }
  const trainStarts = starts.filter((s) => s + o.seqLen <= trainEnd);
  const heldStarts = starts.filter((s) => s >= trainEnd);
  const window = (s: number): TokenizedExample => {
    const ids = new Array<number>(o.seqLen + 1);
    ids[0] = BOS;
    for (let t = 0; t < o.seqLen; t++) ids[t + 1] = stream[s + t];
    return { ids };
  };
  const validation: TokenizedExample[] = [];
  const stride = Math.max(1, Math.floor(heldStarts.length / o.validationWindows));
  for (let i = 0; i < o.validationWindows && i * stride < heldStarts.length; i++) validation.push(window(heldStarts[i * stride]));
  return {
    padId: PAD,
    validation,
    cycle(c) {
      const rng = new Prng(o.seed, 1000 + c);
      return Array.from({ length: o.stepsPerCycle * o.microBatch }, () => window(trainStarts[rng.nextInt(trainStarts.length)]));
    },
  };
}
