/**
 * Text payloads of a DesiredFirewall: for golden files, for reading by
 * people, and for programming a node that has no Romana state yet.
 *
 * - renderIptablesRestore: a `*filter … COMMIT` document for
 *   `iptables-restore --noflush`: owned chains declared (which creates or
 *   flushes only them), their rules with the hash comment, and the jumps
 *   inserted at the top of the built-in chains in list order. On a node
 *   that already has the jumps they would be inserted twice: keeping them
 *   unique is the agent's job (it diffs by hash).
 * - renderIpsetRestore: `ipset restore` input creating every set and its
 *   members.
 * Pure.
 */
import type { DesiredFirewall } from './types.js';

/** The comment every owned rule carries. */
export function hashComment(hash: string): string {
  return `-m comment --comment "romana:${hash}"`;
}

export function renderIptablesRestore(fw: DesiredFirewall): string {
  const lines = ['*filter'];
  for (const c of fw.chains) lines.push(`:${c.name} - [0:0]`);
  for (const c of fw.chains) for (const r of c.rules) lines.push(`-A ${c.name} ${withComment(r.spec, r.hash)}`);
  const position = new Map<string, number>();
  for (const j of fw.jumps) {
    const n = (position.get(j.from) ?? 0) + 1;
    position.set(j.from, n);
    lines.push(`-I ${j.from} ${n} ${withComment(`${j.match} -j ${j.to}`.trim(), j.hash)}`);
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** Options iptables keeps in the rule entry itself, which iptables-save prints before any `-m` match. */
const ENTRY_OPTIONS = new Set(['-s', '-d', '-i', '-o', '-p']);

/**
 * `spec` with the hash comment placed where iptables-save prints it: after
 * the entry options (-s -d -i -o -p) and before the first match module, so
 * a rendered line reads back from iptables-save unchanged.
 */
export function withComment(spec: string, hash: string): string {
  const words = spec.split(' ');
  let i = 0;
  while (i < words.length) {
    const neg = words[i] === '!' ? 1 : 0;
    if (!ENTRY_OPTIONS.has(words[i + neg] ?? '')) break;
    i += neg + 2;
  }
  return [...words.slice(0, i), hashComment(hash), ...words.slice(i)].join(' ');
}

export function renderIpsetRestore(fw: DesiredFirewall): string {
  const lines: string[] = [];
  for (const s of fw.ipsets) {
    lines.push(`create ${s.name} ${s.type} family inet`);
    for (const m of s.members) lines.push(`add ${s.name} ${m}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
