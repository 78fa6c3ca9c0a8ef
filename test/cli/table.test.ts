import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnWidths, renderFields, renderTable, wrapText, type Column } from '../../src/cli/table.js';

describe('wrapText', () => {
  it('keeps short text and existing newlines', () => {
    expect(wrapText('abc', 10)).toEqual(['abc']);
    expect(wrapText('a\nb', 10)).toEqual(['a', 'b']);
  });

  it('breaks at the last space first, then after other separators, then hard', () => {
    expect(wrapText('icmp; tcp 22,80,443', 18)).toEqual(['icmp; tcp', '22,80,443']);
    expect(wrapText('8e66083f-20e3-4228-af69', 16)).toEqual(['8e66083f-20e3-', '4228-af69']);
    expect(wrapText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    // Words (addresses) stay whole even when the break leaves a short line.
    expect(wrapText('lab: /0 192.168.64.0/26', 19)).toEqual(['lab: /0', '192.168.64.0/26']);
    expect(wrapText('abc def ghi', 7)).toEqual(['abc def', 'ghi']);
  });

  it('never returns a line longer than the width and loses no visible character', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '-', '/', ';'), maxLength: 80 }), fc.integer({ min: 1, max: 30 }), (text, w) => {
        const lines = wrapText(text, w);
        for (const l of lines) expect([...l].length).toBeLessThanOrEqual(w);
        expect(lines.join('').replace(/ /g, '')).toBe(text.replace(/ /g, ''));
      }),
    );
  });
});

describe('renderTable', () => {
  it('pads, right-aligns numbers and leaves no trailing spaces', () => {
    const t = renderTable([{ header: 'Name' }, { header: 'Count', align: 'right' }], [['a', '1'], ['long-name', '100']]);
    expect(t).toBe(['Name       Count', '---------  -----', 'a              1', 'long-name    100', ''].join('\n'));
  });

  it('wraps headers wider than their values before narrowing flexible columns', () => {
    const cols: Column[] = [{ header: 'Agent Port', align: 'right' }, { header: 'Notes', flex: true }];
    const t = renderTable(cols, [['9604', 'x'.repeat(20)]], 28);
    expect(t.split('\n')[0]).toBe('Agent  Notes');
    expect(t).toContain('x'.repeat(20));
  });

  it('narrows the widest flexible column and wraps its cells; fixed cells stay whole', () => {
    const cols: Column[] = [{ header: 'CIDR' }, { header: 'Description', flex: true, min: 10 }];
    const t = renderTable(cols, [['10.112.0.0/29', 'one two three four five six seven']], 30);
    for (const l of t.trimEnd().split('\n')) expect(l.length).toBeLessThanOrEqual(30);
    expect(t).toContain('10.112.0.0/29');
  });

  it('shrinks "last" columns only after the other flexible ones', () => {
    const cols: Column[] = [{ header: 'Id', flex: true, last: true }, { header: 'Text', flex: true, min: 5 }];
    const w = columnWidths(cols, [['0123456789abcdef', 'word word word word']], 30);
    expect(w[0]).toBe(16);
    expect(w[1]).toBe(12);
  });

  it('lets fixed columns run past the edge rather than cut a value', () => {
    const t = renderTable([{ header: 'A' }, { header: 'B' }], [['x'.repeat(50), 'y'.repeat(50)]], 80);
    expect(t).toContain('x'.repeat(50));
    expect(t).toContain('y'.repeat(50));
  });

  it('fits any table whose fixed columns fit (property)', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '-', ','), minLength: 0, maxLength: 60 });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit: fc.constantFrom('1', '2'), maxLength: 8 }), cell, cell), { minLength: 1, maxLength: 6 }), (rows) => {
        const cols: Column[] = [{ header: 'N' }, { header: 'First', flex: true, min: 6 }, { header: 'Second', flex: true, min: 6 }];
        const t = renderTable(cols, rows, 40);
        for (const l of t.trimEnd().split('\n')) expect(l.length).toBeLessThanOrEqual(40);
      }),
    );
  });
});

describe('renderFields', () => {
  it('aligns values and indents continuation lines under the value', () => {
    expect(renderFields([['IP', '10.0.0.1'], ['Placement', 'net1: a\nnet2: b']], 80)).toBe(
      ['  IP:         10.0.0.1', '  Placement:  net1: a', '              net2: b', ''].join('\n'),
    );
  });
});
