/** The YAML and Python writers: values survive a round trip, and no text escapes a string or a comment. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { code, kwargs, py, pyComment } from '../../src/io/trainers/python-literal';
import { comment, entry, list, map, mapOf, renderYaml, yamlNumber } from '../../src/io/trainers/yaml-writer';
import { ALPACA_JSONL, exportCase, hasPython, parseYaml, pyCompile } from './helpers';

const HOSTILE = ['plain', 'yes', 'no', 'null', '~', '1e-8', '0x1F', '- item', 'key: value', '#hash', '"quoted"', "it's", 'back\\slash', 'multi\nline', 'cr\rhere',
  'tab\there', 'nel\u0085here', 'ls\u2028here', 'bom\ufeff', 'c1\u0090', '{a: 1}', '[1, 2]', '*alias', '&anchor', '!tag', '%directive', '@at', '`tick`', 'ünïcödé 汉字 🙂', ''];
const pyYaml = hasPython() && (() => {
  try {
    execFileSync('python3', ['-c', 'import yaml'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function pyYamlLoad(text: string): unknown {
  return JSON.parse(execFileSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))'], { input: text }).toString());
}

describe('YAML writer', () => {
  it('numbers keep their value and type in YAML 1.1 and 1.2', () => {
    const values = [0, 1, -3, 0.5, 2e-4, 1e-8, 3.5e-12, 1e21, 123456789, 0.1 + 0.2];
    const doc = parseYaml(renderYaml(map(...values.map((v, i) => entry(`n${i}`, v)))));
    values.forEach((v, i) => expect(doc[`n${i}`]).toBe(v));
    expect(yamlNumber(1e-8)).toBe('1.0e-8');
    expect(yamlNumber(1e21)).toBe('1.0e+21');
  });

  it('any string stays a string, keys included; a comment cannot end early', () => {
    const text = renderYaml(map(
      comment(`a comment\r\nmalicious: true\u2028also: true\u0085and: true`),
      ...HOSTILE.map((s, i) => entry(`k${i}`, s, `about ${s}`)),
      entry('keys', mapOf(Object.fromEntries(HOSTILE.filter(Boolean).map((s) => [s, s])))),
      entry('list', list(...HOSTILE)),
      entry('maps', list(map(entry('a', 1), entry('b', list('x'))), map(comment('first'), entry('c', null)))),
    ), 'header\rinjected: 1');
    const doc = parseYaml(text);
    HOSTILE.forEach((s, i) => expect(doc[`k${i}`]).toBe(s));
    expect(doc.keys).toEqual(Object.fromEntries(HOSTILE.filter(Boolean).map((s) => [s, s])));
    expect(doc.list).toEqual(HOSTILE);
    expect(doc.maps).toEqual([{ a: 1, b: ['x'] }, { c: null }]);
    for (const k of ['malicious', 'also', 'and', 'injected']) expect(doc).not.toHaveProperty(k);
  });

  it.skipIf(!pyYaml)('PyYAML (what Axolotl and OmegaConf use) reads the configs as the tests do', () => {
    const c = exportCase({ targets: ['query', 'value'], eps: 1e-8, rankPattern: { 'model.layers.0.self_attn.q_proj': 16 } }, 'org/model', ALPACA_JSONL, 'a.jsonl');
    for (const t of ['axolotl', 'torchtune'] as const) {
      const text = Object.entries(c.exports[t].files).find(([f]) => f.endsWith('.yaml'))![1];
      expect(pyYamlLoad(text)).toEqual(parseYaml(text));
    }
    const hostile = renderYaml(map(...HOSTILE.map((s, i) => entry(`k${i}`, s)), entry('keys', mapOf(Object.fromEntries(HOSTILE.filter(Boolean).map((s) => [s, s]))))));
    expect(pyYamlLoad(hostile)).toEqual(parseYaml(hostile));
  });
  if (!pyYaml) it.skip('PyYAML check skipped: python3 with the yaml module is not installed', () => undefined);
});

describe('Python writer', () => {
  it('literals', () => {
    expect(py({ a: [1, 2.5, true, false, null], 'b"c': 'x\ny' })).toBe('{"a": [1, 2.5, True, False, None], "b\\"c": "x\\ny"}');
    expect(py(code('torch.bfloat16'))).toBe('torch.bfloat16');
    expect(py(1e-8)).toBe('1e-8');
    expect(() => py(Number.NaN)).toThrow();
  });

  it.skipIf(!hasPython())('strings and comments cannot break out into code', () => {
    const strings = HOSTILE.map((s) => `${s}\u0000"""'''`);
    const src = [
      pyComment('header\rimport os; raise SystemExit(3)\u2028x = 1'),
      `values = [\n${kwargs(strings.map((s, i) => ({ name: `k${i}`, value: s, comment: `note\r${s}` }))).replace(/k\d+=/g, '')}\n]`,
      'import json, sys',
      'sys.stdout.write(json.dumps(values))',
    ].join('\n');
    expect(pyCompile(src)).toBe('');
    const out = execFileSync('python3', ['-c', src]).toString();
    expect(JSON.parse(out)).toEqual(strings);
  });
});
