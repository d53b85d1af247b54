/**
 * Just enough of R's serialization format (XDR, versions 2 and 3) to read the character vectors
 * of an R package's lazy-load database (`data/Rdata.rdx` + `data/Rdata.rdb`), which is how the
 * Debian package r-cran-janeaustenr ships the novels. No R needed.
 *
 * Rdata.rdx: gzip of a serialized list(variables = list(name = c(offset, length)), ...).
 * Rdata.rdb: at each offset, a 4-byte big-endian uncompressed length then a zlib stream of one
 * serialized object.
 */
import { gunzipSync, unzlibSync } from 'fflate';

/** What this reader makes of an R object: strings, numbers, lists, and null for the rest. */
export type RValue = string | null | number | RValue[] | { list: RValue[]; names: string[] };

const NILVALUE = 254;
const REF = 255;
const SPECIALS = new Set([253, 252, 251, 250, 242, 241]); // global/unbound/missing/base namespace/empty/base env

class Reader {
  private pos = 0;
  private readonly refs: RValue[] = [];
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array, private readonly where: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(what: string): never {
    throw new Error(`${this.where}: ${what} at byte ${this.pos}; is this an R serialization (XDR) stream?`);
  }

  private int(): number {
    if (this.pos + 4 > this.bytes.length) this.fail('unexpected end of data');
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  private length(): number {
    const n = this.int();
    if (n !== -1) return n;
    return this.int() * 2 ** 32 + (this.int() >>> 0);
  }

  header(): void {
    if (this.bytes[0] !== 0x58 || this.bytes[1] !== 0x0a) this.fail('not an XDR stream ("X\\n" header missing)');
    this.pos = 2;
    const version = this.int();
    this.int(); // writer version
    this.int(); // minimal reader version
    if (version === 3) {
      const n = this.int(); // then the native encoding name
      this.pos += n;
    }
    else if (version !== 2) this.fail(`unsupported serialization version ${version}`);
  }

  item(): RValue {
    const flags = this.int();
    const type = flags & 0xff;
    const hasAttr = (flags & (1 << 9)) !== 0;
    const hasTag = (flags & (1 << 10)) !== 0;
    if (type === NILVALUE || SPECIALS.has(type)) return null;
    if (type === REF) {
      const idx = flags >> 8 || this.int();
      return this.refs[idx - 1] ?? null;
    }
    switch (type) {
      case 1: { // SYMSXP: its name (a CHARSXP); referable
        const name = this.item();
        this.refs.push(name);
        return name;
      }
      case 2: case 6: case 3: case 5: case 17: { // pairlist-like: attr? tag? car cdr
        if (hasAttr) this.item();
        const tag = hasTag ? this.item() : null;
        const car = this.item();
        const cdr = this.item();
        const rest = cdr && typeof cdr === 'object' && 'list' in cdr ? cdr : { list: [], names: [] };
        return { list: [car, ...rest.list], names: [typeof tag === 'string' ? tag : '', ...rest.names] };
      }
      case 9: { // CHARSXP
        const n = this.int();
        if (n === -1) return null; // NA_character_
        const s = new TextDecoder('utf-8').decode(this.bytes.subarray(this.pos, this.pos + n));
        this.pos += n;
        return s;
      }
      case 10: case 13: case 14: { // logical, integer, double vectors
        const n = this.length();
        const out: number[] = [];
        for (let i = 0; i < n; i++) {
          if (type === 14) {
            out.push(this.view.getFloat64(this.pos));
            this.pos += 8;
          } else out.push(this.int());
        }
        return this.withAttributes(out, hasAttr);
      }
      case 16: case 19: case 20: { // character vector, list, expression
        const n = this.length();
        const out: RValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.item());
        return this.withAttributes(out, hasAttr);
      }
      default:
        return this.fail(`unsupported R object type ${type}`);
    }
  }

  /** A vector's attributes: its names become a named list; other attributes are skipped. */
  private withAttributes(values: RValue[], hasAttr: boolean): RValue {
    if (!hasAttr) return values;
    const attr = this.item();
    if (attr && typeof attr === 'object' && 'list' in attr) {
      const names = attr.list[attr.names.indexOf('names')];
      if (Array.isArray(names)) return { list: values, names: names.map(String) };
    }
    return values;
  }
}

export function unserialize(bytes: Uint8Array, where: string): RValue {
  const r = new Reader(bytes, where);
  r.header();
  return r.item();
}

function named(v: RValue, key: string, where: string): RValue {
  if (!v || typeof v !== 'object' || !('list' in v)) throw new Error(`${where}: expected a named list`);
  const i = v.names.indexOf(key);
  if (i < 0) throw new Error(`${where}: has no entry "${key}" (entries: ${v.names.join(', ')})`);
  return v.list[i];
}

/** Every object of a lazy-load database, by name (only what `unserialize` understands). */
export function readLazyLoadDb(rdx: Uint8Array, rdb: Uint8Array, where: string): Map<string, RValue> {
  const index = unserialize(gunzipSync(rdx), `${where}.rdx`);
  const vars = named(index, 'variables', `${where}.rdx`);
  if (!vars || typeof vars !== 'object' || !('list' in vars)) throw new Error(`${where}.rdx: "variables" is not a named list`);
  const out = new Map<string, RValue>();
  vars.names.forEach((name, i) => {
    const at = vars.list[i];
    if (!Array.isArray(at) || at.length !== 2) throw new Error(`${where}.rdx: bad offset of "${name}"`);
    const [offset, length] = at as number[];
    const blob = rdb.subarray(offset + 4, offset + length); // 4-byte uncompressed length, then zlib
    out.set(name, unserialize(unzlibSync(blob), `${where}.rdb "${name}"`));
  });
  return out;
}
