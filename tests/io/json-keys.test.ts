import { describe, expect, it } from 'vitest';
import { findDuplicateKey } from '../../src/io/safetensors/json-keys';

describe('findDuplicateKey', () => {
  const cases: [string, ReturnType<typeof findDuplicateKey>][] = [
    ['{}', null],
    ['{"a":1,"b":2}', null],
    ['{"a":1,"a":2}', { key: 'a', path: [] }],
    ['{ "a" : 1 , "a"\n:\t2 }', { key: 'a', path: [] }],
    // Values equal to keys are not keys.
    ['{"a":"a","b":"a"}', null],
    ['{"a":["a","a"],"b":{"a":"a"}}', null],
    // Escapes: a quote or backslash inside a key, and \u escapes that decode to the same key.
    ['{"a\\"b":1,"a\\"b":2}', { key: 'a"b', path: [] }],
    ['{"a\\\\":1,"b":{"a\\\\":2}}', null],
    ['{"A":1,"\\u0041":2}', { key: 'A', path: [] }],
    // Braces, brackets and colons inside strings do not confuse depth.
    ['{"x{[":"]}:","y":{"z":1,"z":2}}', { key: 'z', path: ['y'] }],
    // Same key in different objects is fine; a nested duplicate names its path.
    ['{"t1":{"dtype":1},"t2":{"dtype":1}}', null],
    ['{"t":{"s":[{"k":1,"k":2}]}}', { key: 'k', path: ['t', 's', '[]'] }],
    ['{"t":{"dtype":"F32","dtype":"F16"}}', { key: 'dtype', path: ['t'] }],
    ['[{"a":1},{"a":1}]', null],
    ['"{\\"a\\":1,\\"a\\":2}"', null],
    ['{"é":1,"é":2}', { key: 'é', path: [] }],
  ];
  for (const [text, want] of cases) {
    it(text, () => {
      JSON.parse(text); // the scanner's precondition
      expect(findDuplicateKey(text)).toEqual(want);
    });
  }

  it('scans a large header quickly', () => {
    const entries = Array.from({ length: 50_000 }, (_, i) => `"model.layers.${i}.weight":{"dtype":"F32","shape":[1],"data_offsets":[${4 * i},${4 * i + 4}]}`);
    const t0 = performance.now();
    expect(findDuplicateKey(`{${entries.join(',')}}`)).toBeNull();
    expect(findDuplicateKey(`{${entries.join(',')},${entries[123]}}`)).toEqual({ key: 'model.layers.123.weight', path: [] });
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
