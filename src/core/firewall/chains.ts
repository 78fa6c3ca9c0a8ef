/**
 * A chain from its rule specs: each rule's hash chains the previous one's,
 * so equal text at another position hashes differently (names.ts). Pure.
 */
import { ruleHash } from './names.js';
import type { DesiredChain, DesiredRule } from './types.js';

export function chainOf(name: string, specs: readonly string[]): DesiredChain {
  const rules: DesiredRule[] = [];
  let prev = '';
  for (const spec of specs) {
    const hash = ruleHash(name, prev, spec);
    rules.push({ spec, hash });
    prev = hash;
  }
  return { name, rules };
}
