/**
 * Byte and half-word packing into u32 words, the storage unit of WebGPU storage buffers.
 *
 * Byte order is little-endian and explicit (not the host's): byte k of a packed byte array is bits
 * 8*(k%4) .. 8*(k%4)+7 of word floor(k/4). Half-word j is bits 16*(j%2) .. of word floor(j/2), so
 * element 2j sits in the low half. WGSL reads them back with shifts (and `unpack2x16float`).
 */

/** Pack bytes into ceil(n/4) words, little-endian; missing tail bytes are 0. */
export function packBytes(bytes: Uint8Array): Uint32Array<ArrayBuffer> {
  const words = new Uint32Array(Math.ceil(bytes.length / 4));
  for (let k = 0; k < bytes.length; k++) words[k >>> 2] |= bytes[k] << (8 * (k & 3));
  return words;
}

/** The first `n` bytes of little-endian packed words. */
export function unpackBytes(words: Uint32Array, n: number): Uint8Array<ArrayBuffer> {
  if (n > words.length * 4) throw new RangeError(`unpackBytes: ${n} bytes do not fit in ${words.length} words`);
  const bytes = new Uint8Array(n);
  for (let k = 0; k < n; k++) bytes[k] = (words[k >>> 2] >>> (8 * (k & 3))) & 0xff;
  return bytes;
}

/** Pack 16-bit values two per word, element 2j in the low half; an odd count pads a 0 high half. */
export function packHalves(halves: Uint16Array): Uint32Array<ArrayBuffer> {
  const words = new Uint32Array(Math.ceil(halves.length / 2));
  for (let j = 0; j < halves.length; j++) words[j >>> 1] |= halves[j] << (16 * (j & 1));
  return words;
}

/** The first `n` 16-bit values of packed words. */
export function unpackHalves(words: Uint32Array, n: number): Uint16Array<ArrayBuffer> {
  if (n > words.length * 2) throw new RangeError(`unpackHalves: ${n} halves do not fit in ${words.length} words`);
  const halves = new Uint16Array(n);
  for (let j = 0; j < n; j++) halves[j] = (words[j >>> 1] >>> (16 * (j & 1))) & 0xffff;
  return halves;
}
