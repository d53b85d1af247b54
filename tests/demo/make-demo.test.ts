/** Pieces of scripts/make-demo that run without the corpus or a GPU. */
import { gzipSync, zlibSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { paragraphs } from '../../scripts/make-demo/corpus';
import { readLazyLoadDb, unserialize } from '../../scripts/make-demo/rdata';
import { mergeInto } from '../../scripts/make-demo/relora';
import { instructionDataset } from '../../scripts/make-demo/instructions';
import { pretrainData, tokenStream } from '../../scripts/make-demo/pretrain-data';
import { BOS, EOS, byteIds } from '../../scripts/make-demo/tokenizer-files';

/** A tiny XDR (version 3) serializer for the objects the reader supports. */
class Xdr {
  private parts: number[] = [];
  int(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v);
    this.parts.push(...b);
    return this;
  }
  str(s: string | null): this {
    if (s === null) return this.int(9).int(-1);
    const bytes = new TextEncoder().encode(s);
    this.int(9 | (1 << 15)).int(bytes.length); // CHARSXP with a UTF-8 flag in the levels
    this.parts.push(...bytes);
    return this;
  }
  strs(xs: (string | null)[], names?: string[]): this {
    this.int(16 | (names ? 1 << 9 : 0)).int(xs.length);
    xs.forEach((s) => this.str(s));
    if (names) this.int(2 | (1 << 10)).int(1).str('names').strs(names).int(254); // attribute pairlist: names = ...
    return this;
  }
  header(): this {
    this.parts.push(0x58, 0x0a);
    this.int(3).int(0x40200).int(0x30500).int(5);
    this.parts.push(...new TextEncoder().encode('UTF-8'));
    return this;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

describe('make-demo', () => {
  it('reads character vectors, NA and names from an R serialization stream', () => {
    const v = unserialize(new Xdr().header().strs(['It is', null, 'a truth'], ['a', 'b', 'c']).bytes(), 'test');
    expect(v).toEqual({ list: ['It is', null, 'a truth'], names: ['a', 'b', 'c'] });
    expect(() => unserialize(Uint8Array.from([0x41, 0x0a, 0, 0]), 'bad')).toThrow(/bad: not an XDR stream/);
  });

  it('reads objects of a lazy-load database by the offsets of its index', () => {
    const blob = (x: Uint8Array) => {
      const z = zlibSync(x);
      const out = new Uint8Array(4 + z.length);
      new DataView(out.buffer).setInt32(0, x.length);
      out.set(z, 4);
      return out;
    };
    const a = blob(new Xdr().header().strs(['one', 'two']).bytes());
    const b = blob(new Xdr().header().strs(['three']).bytes());
    const rdb = new Uint8Array([...a, ...b]);
    // index: list(variables = list(emma = c(0, len a), persuasion = c(len a, len b)))
    const idx = new Xdr().header();
    idx.int(19 | (1 << 9)).int(1);
    idx.int(19 | (1 << 9)).int(2).int(13).int(2).int(0).int(a.length).int(13).int(2).int(a.length).int(b.length);
    idx.int(2 | (1 << 10)).int(1).str('names').strs(['emma', 'persuasion']).int(254);
    idx.int(2 | (1 << 10)).int(1).str('names').strs(['variables']).int(254);
    const db = readLazyLoadDb(gzipSync(idx.bytes()), rdb, 'Rdata');
    expect(db.get('emma')).toEqual(['one', 'two']);
    expect(db.get('persuasion')).toEqual(['three']);
  });

  it('joins wrapped lines into paragraphs and drops italics underscores', () => {
    expect(paragraphs(['CHAPTER 1', '', 'It is a  truth', 'universally _acknowledged_.', '', '', 'Next.'])).toBe(
      'CHAPTER 1\nIt is a truth universally acknowledged.\nNext.',
    );
  });

  it('merges W += scale * B A as a matrix product', () => {
    const slot = { r: 2, scale: 0.5, inFeatures: 3, outFeatures: 2 };
    const W = Float32Array.from([1, 0, 0, 0, 1, 0]);
    const A = Float32Array.from([1, 2, 3, 4, 5, 6]); // (2, 3)
    const B = Float32Array.from([1, 0, 0, 2]); // (2, 2)
    mergeInto(W, A, B, slot);
    expect([...W]).toEqual([1 + 0.5, 0 + 1, 0 + 1.5, 0 + 4, 1 + 5, 0 + 6]);
    expect(() => mergeInto(new Float32Array(5), A, B, slot)).toThrow(/shapes/);
  });

  it('generates the same dataset for the same seed, and answers that are consistent', () => {
    const a = instructionDataset();
    expect(instructionDataset()).toEqual(a);
    expect(instructionDataset(7)).not.toEqual(a);
    for (const r of a) {
      const m = /^What is (\d) \+ (\d)\?$/.exec(r.instruction);
      if (m) expect(r.output).toBe(`${m[1]} + ${m[2]} = ${Number(m[1]) + Number(m[2])}.`);
    }
  });

  it('pretrains on paragraphs ended by EOS, in seeded windows from word starts, validation held out', () => {
    expect([...tokenStream('It is.\nA truth')]).toEqual([...byteIds('It is.'), EOS, ...byteIds('A truth'), EOS]);
    const text = Array.from({ length: 200 }, (_, i) => `${i} saw ${(i * 7919) % 1009} apples.`).join('\n'); // no window repeats
    const stream = tokenStream(text);
    const o = { seqLen: 16, microBatch: 2, stepsPerCycle: 3, seed: 5, heldOut: 300, validationWindows: 4 };
    const data = pretrainData(stream, o);
    const a = data.cycle(0);
    expect(a).toHaveLength(6);
    expect(data.cycle(0)).toEqual(a);
    expect(data.cycle(1)).not.toEqual(a);
    const trainEnd = stream.length - o.heldOut;
    const at = (w: number[]) => {
      for (let s = 0; s + o.seqLen <= stream.length; s++) if (w.every((id, t) => stream[s + t] === id)) return s;
      return -1;
    };
    for (const ex of a) {
      expect(ex.ids).toHaveLength(17);
      expect(ex.ids[0]).toBe(BOS);
      const s = at(ex.ids.slice(1));
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s + o.seqLen).toBeLessThanOrEqual(trainEnd);
      expect([byteIds(' ')[0], EOS]).toContain(stream[s - 1] ?? EOS); // a word start
    }
    expect(data.validation).toHaveLength(4);
    for (const ex of data.validation) expect(at(ex.ids.slice(1))).toBeGreaterThanOrEqual(trainEnd);
  });
});
