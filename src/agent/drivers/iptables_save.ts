/**
 * Parsing `iptables-save` output into what the iptables driver needs: per
 * table, each chain in order with, per rule, the hash comment
 * (`romana:<hash>`) when it has one and the jump target.
 *
 * Design: line-oriented and forgiving — a line we do not understand is
 * kept as a rule without a hash (so it never matches a desired rule and is
 * replaced if it sits in an owned chain, and left alone elsewhere). Only
 * the "-A CHAIN" prefix, the comment and the -j/-g target are interpreted.
 * Pure.
 */

export interface SavedRule {
  /** The rule after "-A <chain> ". */
  readonly spec: string;
  /** The `romana:<hash>` comment's hash, or null. */
  readonly hash: string | null;
  /** The -j/-g target, or null. */
  readonly target: string | null;
}

export interface SavedChain {
  readonly name: string;
  /** ACCEPT/DROP for built-in chains, "-" for user chains. */
  readonly policy: string;
  readonly rules: SavedRule[];
}

export interface SavedTable {
  readonly name: string;
  /** Chains in the order iptables-save printed their declarations. */
  readonly chains: Map<string, SavedChain>;
}

const HASH_RE = /--comment "?romana:([A-Za-z0-9_+=/-]+)"?/;
const TARGET_RE = /(?:^| )-[jg] ("[^"]*"|\S+)/;

export function parseRuleSpec(spec: string): SavedRule {
  const h = HASH_RE.exec(spec);
  const t = TARGET_RE.exec(spec);
  return { spec, hash: h ? h[1]! : null, target: t ? t[1]!.replace(/^"|"$/g, '') : null };
}

/** Every table of an iptables-save document. */
export function parseIptablesSave(text: string): Map<string, SavedTable> {
  const tables = new Map<string, SavedTable>();
  let cur: SavedTable | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      cur = { name: line.slice(1), chains: new Map() };
      tables.set(cur.name, cur);
      continue;
    }
    if (cur === null) continue;
    if (line === 'COMMIT') {
      cur = null;
      continue;
    }
    if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(' ');
      if (name && !cur.chains.has(name)) cur.chains.set(name, { name, policy: policy ?? '-', rules: [] });
      continue;
    }
    if (line.startsWith('-A ')) {
      const rest = line.slice(3);
      const sp = rest.indexOf(' ');
      const chain = sp < 0 ? rest : rest.slice(0, sp);
      let c = cur.chains.get(chain);
      if (!c) {
        c = { name: chain, policy: '-', rules: [] };
        cur.chains.set(chain, c);
      }
      c.rules.push(parseRuleSpec(sp < 0 ? '' : rest.slice(sp + 1)));
    }
  }
  return tables;
}

/** Number of rules (`-A` lines) and user chains in a document, over all tables. */
export function countRules(text: string): { rules: number; userChains: string[] } {
  let rules = 0;
  const userChains: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('-A ')) rules++;
    else if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(' ');
      if (policy === '-' && name) userChains.push(name);
    }
  }
  return { rules, userChains };
}
