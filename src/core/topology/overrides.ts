/**
 * `--network-cidr-overrides=name=CIDR[,name=CIDR...]` (reference §1.9): lets
 * an operator keep a built-in topology's group structure but move a network
 * to another range. Parsing reports every malformed pair at once; applying
 * changes only the `cidr` of the named networks, and an unknown name is an
 * error (the original's jq rewrite silently did nothing).
 *
 * Pure; inputs are never mutated.
 */
import { validationError, type Problem } from '../errors.js';
import { formatCidr, parseCidr4 } from '../ip.js';
import type { TopologyInput } from './types.js';

export type ParseOverridesResult =
  | { readonly ok: true; readonly overrides: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly problems: Problem[] };

const FLAG = 'network-cidr-overrides';

/** Parses the flag value; the empty string means "no overrides". Map: network name → CIDR text. */
export function parseNetworkCidrOverrides(text: string): ParseOverridesResult {
  const overrides = new Map<string, string>();
  const problems: Problem[] = [];
  if (text.trim() === '') return { ok: true, overrides };
  text.split(',').forEach((raw, i) => {
    const pair = raw.trim();
    const path = `${FLAG}[${i}]`;
    const parts = pair.split('=');
    if (parts.length !== 2) {
      const msg =
        pair === ''
          ? 'Empty override (two commas in a row, or a trailing comma)'
          : `Override ${JSON.stringify(pair)} must be written name=CIDR with exactly one "="`;
      problems.push({ path, value: pair, message: msg });
      return;
    }
    const name = parts[0]!.trim();
    const cidrText = parts[1]!.trim();
    if (name === '') {
      problems.push({ path, value: pair, message: `Override ${JSON.stringify(pair)} has no network name` });
      return;
    }
    const r = parseCidr4(cidrText);
    if (!r.ok) {
      problems.push({ path, value: pair, message: `Override ${JSON.stringify(pair)}: invalid CIDR ${JSON.stringify(cidrText)}: ${r.reason}` });
      return;
    }
    if (r.hostBitsSet) {
      problems.push({
        path,
        value: pair,
        message: `Override ${JSON.stringify(pair)}: CIDR ${JSON.stringify(cidrText)} has host bits set (the network address is ${JSON.stringify(formatCidr(r.cidr))})`,
      });
      return;
    }
    if (overrides.has(name)) {
      problems.push({ path, value: pair, message: `Network ${JSON.stringify(name)} is overridden twice` });
      return;
    }
    overrides.set(name, cidrText);
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, overrides };
}

/**
 * A copy of `input` with the overridden networks' CIDRs replaced. Throws
 * VALIDATION_FAILED naming every override whose network is not defined.
 * The result still has to pass `validateTopology` (a new CIDR may be too small
 * for the groups, or overlap another network).
 */
export function applyNetworkCidrOverrides(input: TopologyInput, overrides: ReadonlyMap<string, string>): TopologyInput {
  const copy = structuredClone(input);
  const networks = Array.isArray(copy.networks) ? copy.networks : [];
  const problems: Problem[] = [];
  for (const [name, cidr] of overrides) {
    const matches = networks.filter((n) => typeof n === 'object' && n !== null && n.name === name);
    if (matches.length === 0) {
      const known = networks.map((n) => JSON.stringify(n?.name)).join(', ');
      problems.push({ path: `${FLAG}[${JSON.stringify(name)}]`, value: name, message: `Network ${JSON.stringify(name)} is not defined in the topology (defined: ${known || 'none'})` });
      continue;
    }
    for (const n of matches) n.cidr = cidr;
  }
  if (problems.length > 0) throw validationError('network CIDR overrides', problems);
  return copy;
}
