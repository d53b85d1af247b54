/**
 * Pretraining windows over the corpus: BOS then `seqLen` bytes starting at the beginning of a
 * word, at seeded random places. The last `heldOut` bytes of the corpus (the end of Persuasion)
 * are never trained on; fixed windows there are the validation set.
 */
import type { TokenizedExample } from '../../src/data/batching';
import { Prng } from '../../src/train/rng';
import { BOS, BYTE_OFFSET, PAD } from './tokenizer-files';
import type { PretrainData } from './relora';

const isSpace = (b: number) => b === 0x20 || b === 0x0a;

export function pretrainData(text: string, o: { seqLen: number; microBatch: number; stepsPerCycle: number; seed: number; heldOut: number; validationWindows: number }): PretrainData {
  const bytes = new TextEncoder().encode(text);
  const trainEnd = bytes.length - o.heldOut;
  if (trainEnd < 10 * o.seqLen) throw new Error('corpus too small for the held-out part');
  // Starts of words: after a space or newline (or the very start).
  const starts: number[] = [0];
  for (let i = 1; i < bytes.length - o.seqLen; i++) if (isSpace(bytes[i - 1]) && !isSpace(bytes[i])) starts.push(i);
  const trainStarts = starts.filter((s) => s + o.seqLen <= trainEnd);
  const heldStarts = starts.filter((s) => s >= trainEnd);
  const window = (s: number): TokenizedExample => {
    const ids = new Array<number>(o.seqLen + 1);
    ids[0] = BOS;
    for (let t = 0; t < o.seqLen; t++) ids[t + 1] = BYTE_OFFSET + bytes[s + t];
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
