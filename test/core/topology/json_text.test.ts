import { describe, expect, it } from 'vitest';
import { RomanaError } from '../../../src/core/errors.js';
import { parseLenientJson } from '../../../src/core/topology/json_text.js';
import { parseTopologyText } from '../../../src/core/topology/index.js';

function syntaxError(text: string): RomanaError {
  try {
    parseLenientJson(text);
  } catch (e) {
    if (e instanceof RomanaError) return e;
    throw e;
  }
  throw new Error(`parsed: ${text}`);
}

describe('lenient JSON reader', () => {
  it('reads strict JSON exactly like JSON.parse', () => {
    const docs = ['{"a":[1,2.5,-3e2,true,false,null],"b":{"c":"x\\ty\\u00e9\\"\\\\\\/"}}', '[]', '{}', '"s"', '0', ' [ {} , [ ] ] '];
    for (const d of docs) expect(parseLenientJson(d)).toEqual(JSON.parse(d));
  });

  it('drops # comments to the end of the line, but not inside strings', () => {
    const v = parseLenientJson('{ # head\n "a#b": "c # d", # tail\n "n": 1 # last\n}# after');
    expect(v).toEqual({ 'a#b': 'c # d', n: 1 });
  });

  it('accepts one trailing comma before ] or }, also with comments between', () => {
    expect(parseLenientJson('{"a": [1, 2, # two\n], "b": {"c": 1,},}')).toEqual({ a: [1, 2], b: { c: 1 } });
  });

  it('rejects what is still not JSON, with line:column of the offending character', () => {
    const cases: Array<[string, number, number, RegExp]> = [
      ['{\n  "a": [1,,]\n}', 2, 11, /expected a value, found ","/],
      ['[1, 2', 1, 6, /expected "," or "]", found end of input/],
      ['{"a" 1}', 1, 6, /expected ":"/],
      ['{a: 1}', 1, 2, /expected a quoted key/],
      ["{'a': 1}", 1, 2, /expected a quoted key/],
      ['[01]', 1, 3, /expected "," or "]"/],
      ['{"a": "x\ny"}', 1, 9, /control character/],
      ['{"a": "\\q"}', 1, 8, /unknown escape/],
      ['{"a": 1} x', 1, 10, /after the end of the document/],
      ['', 1, 1, /expected a value, found end of input/],
      ['[,]', 1, 2, /expected a value/],
      ['{,}', 1, 2, /expected a quoted key/],
      ['{"s": "open', 1, 7, /unterminated string/],
    ];
    for (const [text, line, column, msg] of cases) {
      const e = syntaxError(text);
      expect(e.code, text).toBe('INVALID_JSON');
      expect(e.details, text).toMatchObject({ line, column });
      expect(e.message, text).toContain(`${line}:${column}`);
      expect(e.message, text).toMatch(msg);
    }
  });

  it('rejects duplicate keys (JSON.parse would silently keep the last)', () => {
    const e = syntaxError('{\n "networks": [],\n "networks": []\n}');
    expect(e.message).toBe('Invalid JSON at 3:2: duplicate key "networks"');
  });

  it('keeps a "__proto__" key as data', () => {
    const v = parseLenientJson('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses absurd nesting instead of overflowing the stack', () => {
    expect(syntaxError('['.repeat(10_000)).message).toMatch(/nesting deeper than/);
  });

  it('parseTopologyText is this reader', () => {
    expect(parseTopologyText('{"networks": [], # none\n "topologies": [],}')).toEqual({ networks: [], topologies: [] });
    expect(() => parseTopologyText('{')).toThrow(/Invalid JSON at 1:2/);
  });
});
