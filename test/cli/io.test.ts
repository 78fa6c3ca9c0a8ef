import { describe, expect, it } from 'vitest';
import { outputWidth } from '../../src/cli/io.js';

describe('outputWidth', () => {
  it('uses the terminal width, then $COLUMNS, then 80', () => {
    expect(outputWidth({ columns: 132, env: { COLUMNS: '100' } })).toBe(132);
    expect(outputWidth({ columns: undefined, env: { COLUMNS: '100' } })).toBe(100);
    expect(outputWidth({ columns: undefined, env: {} })).toBe(80);
  });

  it('ignores widths too narrow to lay out a table', () => {
    expect(outputWidth({ columns: 10, env: { COLUMNS: 'abc' } })).toBe(80);
    expect(outputWidth({ columns: undefined, env: { COLUMNS: '20' } })).toBe(80);
  });
});
