// Writes tests/gguf/fixtures/quant-vectors.json: seeded input rows and the Q8_0 / Q4_0 / Q5_0 bytes
// (and Q4_K / Q6_K for rows of whole 256-value super-blocks) that llama.cpp's reference quantizers
// give for them (./quantize-ref, built by make-vectors.sh).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

let s = 0x9e3779b9;
const rand = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32); // deterministic, any fixed stream will do
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
const row = (n, f) => Array.from({ length: n }, (_, i) => Math.fround(f(i)));

const cases = {
  'uniform in (-1, 1), 4 blocks': row(128, () => 2 * rand() - 1),
  'weights-like: gaussian x 0.02 with outliers': row(128, (i) => (i % 37 === 5 ? 0.3 : 0.02) * gauss()),
  'largest magnitude tied at +a and -a (first wins in Q4_0)': row(64, (i) => (i === 3 ? 0.75 : i === 9 ? -0.75 : i === 40 ? -0.75 : i === 50 ? 0.75 : 0.5 * (2 * rand() - 1))),
  'a zero block, then a block of one repeated value': row(64, (i) => (i < 32 ? 0 : -0.123)),
  'tiny values: the scale is an f16 subnormal': row(64, () => 1e-6 * (2 * rand() - 1)),
  'large values near the f16 range': row(64, () => 30000 * (2 * rand() - 1)),
  'halfway cases: integers and halves with amax 127 and max -8': row(64, (i) => (i === 0 ? 127 : i === 32 ? -8 : i < 32 ? Math.round((2 * rand() - 1) * 250) / 2 : Math.round((2 * rand() - 1) * 16) / 2)),
  // Rows of whole super-blocks: the K-quants (Q4_K, Q6_K) too.
  'K: weights-like, 2 super-blocks: gaussian x 0.02 with outliers': row(512, (i) => (i % 53 === 7 ? 0.25 : 0.02) * gauss()),
  'K: uniform in (-1, 1)': row(256, () => 2 * rand() - 1),
  'K: positive sub-blocks (the fitted min clamps to 0), a negative one, a constant one': row(256, (i) => (i < 64 ? 0.5 + 0.25 * rand() : i < 96 ? -0.5 - 0.25 * rand() : i < 128 ? -0.3 : 0.1 * gauss())),
  'K: an all-zero sub-block, one below 1e-15, one of 1e-7, the rest normal': row(256, (i) => (i < 32 ? 0 : i < 48 ? 1e-16 * (2 * rand() - 1) : i < 64 ? 1e-7 * gauss() : gauss())),
  'K: one large sub-block, the others so small their 6-/8-bit scales round to 0': row(256, (i) => (i < 32 ? 1000 * gauss() : 1e-4 * gauss())),
  'K: an all-zero super-block, then one near the f16 range': row(512, (i) => (i < 256 ? 0 : 20000 * (2 * rand() - 1))),
  'K: integers and halves (nearest_int ties)': row(256, (i) => Math.round((2 * rand() - 1) * 30) / 2),
};
const out = {};
for (const [name, x] of Object.entries(cases)) {
  const bits = x.map((v) => new Uint32Array(new Float32Array([v]).buffer)[0].toString(16).padStart(8, '0'));
  const res = execFileSync(new URL('./quantize-ref', import.meta.url).pathname, { input: `${x.length}\n${bits.join(' ')}\n` }).toString().split('\n');
  out[name] = { f32: bits.join(''), q8_0: res[0], q4_0: res[1], q5_0: res[2], ...(res[3] ? { q4_k: res[3], q6_k: res[4] } : {}) };
}
const dir = new URL('../../../tests/gguf/fixtures/', import.meta.url).pathname;
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}quant-vectors.json`, JSON.stringify(out, null, 1) + '\n');
console.log(`wrote ${Object.keys(out).length} cases to ${dir}quant-vectors.json`);
