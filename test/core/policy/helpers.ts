// Shared by the policy tests: deterministic id generators, fixture and seed
// locations, and a valid documented policy to break one field at a time.
import { readFileSync } from 'node:fs';
import type { Problem } from '../../../src/core/errors.js';
import { parsePolicyDocument, type ParsedPolicies } from '../../../src/core/policy/index.js';

export const SEED_URL = new URL('../../../../shared/seed/000_cd8e673e563d9dde.txt', import.meta.url);
export const TESTDATA_URL = new URL('../../../../shared/romana-v2-testdata/', import.meta.url);

/** newId yielding "gen-1", "gen-2", … and recording how often it was called. */
export function counterIds(): { newId: () => string; calls: () => number } {
  let n = 0;
  return { newId: () => `gen-${++n}`, calls: () => n };
}

/** A newId for inputs that must not need one (every policy has an id, or the input is invalid). */
export function noIds(): string {
  throw new Error('newId must not be called here');
}

export function parse(body: unknown): ParsedPolicies {
  return parsePolicyDocument(body, { newId: counterIds().newId });
}

export function problemsOf(body: unknown): Problem[] {
  return parsePolicyDocument(body, { newId: counterIds().newId }).problems;
}

/** A valid documented-format policy (one of `securitypolicies`). */
export function basePolicy(): Record<string, any> {
  return {
    name: 'p1',
    direction: 'ingress',
    applied_to: [{ tenant: 't1' }],
    peers: [{ peer: 'any' }],
    rules: [{ protocol: 'tcp', ports: [80] }],
  };
}

/** `{"securitypolicies": [basePolicy with `change` applied]}`. */
export function docWith(change: (p: Record<string, any>) => void): { securitypolicies: Record<string, any>[] } {
  const p = basePolicy();
  change(p);
  return { securitypolicies: [p] };
}

/** JSON path of the policy in a `docWith` document. */
export const P = '$.securitypolicies[0]';

/** The seed's "Policy definition format" example: the JSON block after the line "Example:" in that section. */
export function seedPolicyExample(): string {
  const lines = readFileSync(SEED_URL, 'utf8').split('\n');
  const section = lines.indexOf('Policy definition format');
  if (section < 0) throw new Error('seed: no "Policy definition format" section');
  const example = lines.indexOf('Example:', section);
  const start = lines.indexOf('{', example);
  const end = lines.indexOf('}', start);
  if (example < 0 || start < 0 || end < 0) throw new Error('seed: no example block after "Policy definition format"');
  return lines.slice(start, end + 1).join('\n');
}
