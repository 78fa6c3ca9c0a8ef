/**
 * Reference ruleset diff (pure TypeScript; the oracle for
 * assembly/ruleset_diff.ts): the textbook O(m·n) Levenshtein table.
 *
 * Goal: the fewest insert/replace/delete ops (each costs 1) turning the actual
 * rule-hash sequence of a chain into the desired one, as (kind, 1-based rule
 * number, hash) triplets applied in order (see RuleDiff in ../types.ts).
 * Design: full dynamic-programming table (Wagner–Fischer), backtrace from the
 * end preferring "keep" on equal rules, then positions computed front to back
 * while counting earlier inserts and deletes. Memory is (m+1)(n+1) u32: fine
 * for tests and benchmarks of a few thousand rules, not for production chains
 * (that is the kernel's job). `maxEdits` is accepted for interface parity and
 * ignored: the reference is always minimal.
 * Concurrency rule: pure function.
 */
import { checkMaxEdits, RULE_OP, type RuleDiff } from '../types.js';

export function diffRulesReference(actual: Uint32Array, desired: Uint32Array, maxEdits = 0): RuleDiff {
  checkMaxEdits(maxEdits);
  const m = actual.length;
  const n = desired.length;
  const w = n + 1;
  const d = new Uint32Array((m + 1) * w);
  for (let i = 0; i <= m; i++) d[i * w] = i;
  for (let j = 0; j <= n; j++) d[j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const keep = d[(i - 1) * w + j - 1]! + (actual[i - 1] === desired[j - 1] ? 0 : 1);
      const del = d[(i - 1) * w + j]! + 1;
      const ins = d[i * w + j - 1]! + 1;
      d[i * w + j] = Math.min(keep, del, ins);
    }
  }
  // Backtrace into (kind, actual index, desired index), last op first.
  const rev: Array<[number, number, number]> = [];
  let i = m;
  let j = n;
  while (i > 0 || j > 0) {
    const here = d[i * w + j]!;
    if (i > 0 && j > 0 && actual[i - 1] === desired[j - 1] && here === d[(i - 1) * w + j - 1]) {
      i--; j--;
    } else if (i > 0 && j > 0 && here === d[(i - 1) * w + j - 1]! + 1) {
      rev.push([RULE_OP.REPLACE, i - 1, j - 1]); i--; j--;
    } else if (i > 0 && here === d[(i - 1) * w + j]! + 1) {
      rev.push([RULE_OP.DELETE, i - 1, j]); i--;
    } else {
      rev.push([RULE_OP.INSERT, i, j - 1]); j--;
    }
  }
  const ops = new Uint32Array(rev.length * 3);
  let shift = 0; // inserts minus deletes so far: how far actual[row] has moved
  rev.reverse().forEach(([kind, row, col], x) => {
    const pos = row + 1 + shift;
    ops[3 * x] = kind;
    ops[3 * x + 1] = pos;
    if (kind === RULE_OP.DELETE) { ops[3 * x + 2] = actual[row]!; shift--; }
    else { ops[3 * x + 2] = desired[col]!; if (kind === RULE_OP.INSERT) shift++; }
  });
  return { ops, minimal: true };
}
