/**
 * Parsing and validation of every accepted policy input shape into
 * canonical `RomanaPolicy` objects (DESIGN §5 "Inputs", reference §3.1).
 *
 * Accepted documents (`body` is already-decoded JSON):
 *   - the documented format `{"securitypolicies": [policy, ...]}`;
 *   - a single policy object;
 *   - a JSON list of policy objects.
 * A policy object may be written in either style, or a mix of policies of
 * both styles in one list:
 *   - documented: `name`, `description`, `direction`, `applied_to`, and
 *     top-level `peers` + `rules`, which become one entry;
 *   - original v2: `id`, `direction`, `applied_to`, `ingress: [{peers,
 *     rules}]` (also for egress policies, as v2 did), `tenant_id` /
 *     `segment_id` in endpoints;
 *   - canonical (what we emit): like v2, with `egress` for egress policies
 *     and `tenant` / `segment`.
 * Enum words (direction, protocol, peer, dest) are matched
 * case-insensitively and stored lower-case.
 *
 * Design: one walk collects every problem (path, value, message; STYLE §6)
 * and builds the drafts; cross-field checks (renderable target/peer
 * combinations, duplicate ids/names in the document) run on what passed
 * its own checks, so one bad field yields one problem, not a cascade. If
 * any problem was found nothing is returned; otherwise ids are generated
 * for the policies that have none (only then, so a rejected document
 * consumes no ids), names default to ids, and each policy is normalized.
 *
 * Why so strict: the original validated nothing (its validator existed but
 * was never called, reference §3.1), and one malformed stored policy
 * disabled every policy on every node (§4.4, §12 item 10). Everything the
 * agent cannot render is refused here, with its path.
 *
 * Pure; `opts.newId` is the only source of entropy.
 */
import type { Problem } from '../errors.js';
import { formatCidr, parseCidr4 } from '../ip.js';
import { jsonPathKey } from '../topology/index.js';
import { describeIcmpCodes, isValidIcmpCode, MAX_ICMP_TYPE } from './icmp.js';
import { normalizePolicy } from './normalize.js';
import {
  DEST_WORDS,
  DIRECTIONS,
  MAX_POLICY_NAME_LENGTH,
  PEER_WORDS,
  PORT_PROTOCOLS,
  POLICY_NAME_RE,
  PROTOCOLS,
  RENDERABLE,
  TENANT_SEGMENT_RE,
  peerKind,
  targetKind,
  type DestWord,
  type Direction,
  type Endpoint,
  type PeerKind,
  type PeerWord,
  type PolicyEntry,
  type Protocol,
  type RomanaPolicy,
  type Rule,
  type TargetKind,
} from './types.js';

export interface ParseOptions {
  /** A fresh unique policy id (e.g. a UUID); called once per accepted policy that has none. */
  readonly newId: () => string;
}

export interface ParsedPolicies {
  /** Canonical policies in document order; empty when there is any problem. */
  readonly policies: RomanaPolicy[];
  /** Every problem found; empty means all policies were accepted. */
  readonly problems: Problem[];
  /**
   * idGenerated[i]: policies[i] had no id in the input and got one from
   * `newId`. The daemon needs it to tell "same named policy posted again"
   * from "new policy" (see planPolicyAdds).
   */
  readonly idGenerated: boolean[];
}

const DOCUMENT_KEYS = ['securitypolicies'];
const POLICY_KEYS = ['id', 'name', 'description', 'direction', 'applied_to', 'peers', 'rules', 'ingress', 'egress'];
const ENTRY_KEYS = ['peers', 'rules'];
const ENDPOINT_KEYS = ['peer', 'cidr', 'dest', 'tenant', 'segment', 'tenant_id', 'segment_id'];
const RULE_KEYS = ['protocol', 'ports', 'port_ranges', 'icmp_type', 'icmp_code', 'is_stateful'];
const MAX_PORT = 65535;

/** Kinds as users read them in messages. */
const KIND_WORDS: Record<PeerKind | TargetKind, string> = {
  any: 'any',
  host: 'host',
  local: 'local',
  cidr: 'cidr',
  tenant: 'tenant',
  tenantSegment: 'tenant+segment',
};

export function parsePolicyDocument(body: unknown, opts: ParseOptions): ParsedPolicies {
  const w = new Walker();
  const drafts: PolicyDraft[] = [];
  if (Array.isArray(body)) {
    if (body.length === 0) w.add('$', body, 'Expected at least one policy, got an empty list');
    body.forEach((p, i) => drafts.push(w.policy(p, `$[${i}]`)));
  } else if (isObject(body) && Object.hasOwn(body, 'securitypolicies')) {
    w.unknownKeys(body, DOCUMENT_KEYS, '$', 'the document');
    const list = body['securitypolicies'];
    if (!Array.isArray(list)) {
      w.add('$.securitypolicies', list, `"securitypolicies" must be a list of policies, not ${typeName(list)}`);
    } else {
      if (list.length === 0) w.add('$.securitypolicies', list, '"securitypolicies" lists no policy');
      list.forEach((p, i) => drafts.push(w.policy(p, `$.securitypolicies[${i}]`)));
    }
  } else if (isObject(body)) {
    drafts.push(w.policy(body, '$'));
  } else {
    w.add('$', body, `Expected a policy object, a list of policies or {"securitypolicies": [...]}, not ${typeName(body)}`);
  }
  w.duplicates(drafts);
  if (w.problems.length > 0) return { policies: [], problems: w.problems, idGenerated: [] };
  return { ...assemble(drafts, opts), problems: [] };
}

/** What one policy object yielded; fields null when missing or invalid (a problem was recorded). */
interface PolicyDraft {
  readonly path: string;
  /** The id as written; undefined when absent (to be generated). */
  id: string | undefined | null;
  name: string | undefined | null;
  description: string | undefined | null;
  direction: Direction | null;
  appliedTo: Endpoint[] | null;
  entries: PolicyEntry[] | null;
}

function assemble(drafts: readonly PolicyDraft[], opts: ParseOptions): { policies: RomanaPolicy[]; idGenerated: boolean[] } {
  const taken = new Set<string>();
  for (const d of drafts) {
    if (d.id) taken.add(d.id);
    if (d.name) taken.add(d.name);
  }
  const policies: RomanaPolicy[] = [];
  const idGenerated: boolean[] = [];
  for (const d of drafts) {
    // No problems were found, so every field is either valid or (id, name, description) absent.
    let id = d.id ?? undefined;
    if (id === undefined) {
      id = opts.newId();
      // A bad generator is a programming error, not the user's problem.
      if (!isPolicyName(id)) throw new TypeError(`newId() returned an invalid policy id ${JSON.stringify(id)}`);
      if (taken.has(id)) throw new TypeError(`newId() returned ${JSON.stringify(id)}, which the document already uses`);
      taken.add(id);
    }
    idGenerated.push(d.id === undefined);
    const head = { id, name: d.name ?? id, ...(d.description ? { description: d.description } : {}), applied_to: d.appliedTo! };
    const p: RomanaPolicy =
      d.direction === 'ingress' ? { ...head, direction: 'ingress', ingress: d.entries! } : { ...head, direction: 'egress', egress: d.entries! };
    policies.push(normalizePolicy(p));
  }
  return { policies, idGenerated };
}

function isPolicyName(v: string): boolean {
  return v.length <= MAX_POLICY_NAME_LENGTH && POLICY_NAME_RE.test(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** A value quoted for a message: strings JSON-quoted, others as JSON. */
function q(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(JSON.stringify(v) ?? v);
}

function isInt(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}

/** Where an endpoint is written: applied_to (of a policy with this direction, when valid) or peers. */
type EndpointRole = { readonly role: 'target'; readonly direction: Direction | null } | { readonly role: 'peer' };

/** A parsed endpoint with where it was written, for the combination check. */
interface Located {
  readonly endpoint: Endpoint;
  readonly path: string;
}

class Walker {
  readonly problems: Problem[] = [];

  add(path: string, value: unknown, message: string): void {
    this.problems.push({ path, value, message });
  }

  unknownKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string, what: string): void {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) this.add(jsonPathKey(path, k), obj[k], `Unknown field ${q(k)} in ${what} (allowed: ${allowed.join(', ')})`);
    }
  }

  /** A string-valued enum, matched case-insensitively; null (with a problem) otherwise. */
  word<T extends string>(v: unknown, path: string, field: string, label: string, words: readonly T[]): T | null {
    if (typeof v !== 'string') {
      this.add(path, v, `${q(field)} must be a string, not ${typeName(v)}`);
      return null;
    }
    const lower = v.toLowerCase();
    const found = words.find((x) => x === lower);
    if (found === undefined) this.add(path, v, `${label} ${q(v)} is not one of: ${words.join(', ')}`);
    return found ?? null;
  }

  /** Optional id or name: undefined when absent, null when invalid. */
  policyName(v: unknown, path: string, what: 'id' | 'name'): string | undefined | null {
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      this.add(path, v, `The policy ${what} must be a string, not ${typeName(v)}`);
      return null;
    }
    if (!isPolicyName(v)) {
      this.add(
        path,
        v,
        `Invalid policy ${what} ${q(v)}: use letters, digits, ".", "_" and "-", starting with a letter or digit, at most ${MAX_POLICY_NAME_LENGTH} characters`,
      );
      return null;
    }
    return v;
  }

  policy(v: unknown, path: string): PolicyDraft {
    const d: PolicyDraft = { path, id: null, name: null, description: null, direction: null, appliedTo: null, entries: null };
    if (!isObject(v)) {
      this.add(path, v, `A policy must be an object, not ${typeName(v)}`);
      return d;
    }
    const at = (k: string): string => jsonPathKey(path, k);
    this.unknownKeys(v, POLICY_KEYS, path, 'the policy');
    d.id = this.policyName(v['id'], at('id'), 'id');
    d.name = this.policyName(v['name'], at('name'), 'name');

    const desc = v['description'];
    if (desc === undefined || typeof desc === 'string') d.description = desc;
    else this.add(at('description'), desc, `The description must be a string, not ${typeName(desc)}`);

    const dir = v['direction'];
    if (dir === undefined) this.add(at('direction'), dir, 'Missing direction of the policy (one of: ingress, egress)');
    else d.direction = this.word(dir, at('direction'), 'direction', 'Direction', DIRECTIONS);

    const targets = this.list(v, 'applied_to', path, 'a list of endpoints', 'target', 'a policy must apply to at least one');
    const located: Located[] = [];
    if (targets) {
      targets.forEach((t, i) => {
        const p = `${at('applied_to')}[${i}]`;
        const e = this.endpoint(t, p, { role: 'target', direction: d.direction });
        if (e) located.push({ endpoint: e, path: p });
      });
      if (located.length === targets.length) d.appliedTo = located.map((x) => x.endpoint);
    }

    const entries = this.entries(v, path, d.direction);
    if (entries && d.direction) this.combinations(d.direction, located, entries.peers);
    d.entries = entries?.entries ?? null;
    return d;
  }

  /**
   * The policy's entries, from top-level peers/rules or an ingress/egress
   * list; also every valid peer with its path, for the combination check.
   * Null entries when anything in them is invalid.
   */
  entries(v: Record<string, unknown>, path: string, direction: Direction | null): { entries: PolicyEntry[] | null; peers: Located[] } | null {
    const at = (k: string): string => jsonPathKey(path, k);
    const has = (k: string): boolean => v[k] !== undefined;
    const listName = direction ?? 'ingress';
    const flat = has('peers') || has('rules');
    if (flat && (has('ingress') || has('egress'))) {
      const k = has('ingress') ? 'ingress' : 'egress';
      this.add(at(k), v[k], `Use either top-level "peers" and "rules" or an ${q(k)} list, not both`);
      return null;
    }
    if (flat) {
      const peers: Located[] = [];
      const entry = this.entryBody(v, path, 'policy', peers);
      return { entries: entry ? [entry] : null, peers };
    }
    if (has('ingress') && has('egress')) {
      this.add(at('egress'), v['egress'], 'Give one list, "ingress" or "egress", not both');
      return null;
    }
    if (!has('ingress') && !has('egress')) {
      this.add(at(listName), undefined, `Missing the policy's traffic: give "peers" and "rules", or an ${q(listName)} list of {peers, rules} entries`);
      return null;
    }
    // v2 named the list "ingress" whatever the direction, so "ingress" is accepted for egress too.
    const key = has('egress') ? 'egress' : 'ingress';
    if (key === 'egress' && direction === 'ingress') {
      this.add(at('egress'), v['egress'], 'An "egress" list needs "direction": "egress"');
      return null;
    }
    const list = this.list(v, key, path, 'a list of {peers, rules} entries', 'entry', 'give at least one {peers, rules}');
    if (!list) return null;
    const peers: Located[] = [];
    let ok = true;
    const entries: PolicyEntry[] = [];
    list.forEach((e, i) => {
      const p = `${at(key)}[${i}]`;
      if (!isObject(e)) {
        this.add(p, e, `An entry must be an object with "peers" and "rules", not ${typeName(e)}`);
        ok = false;
        return;
      }
      this.unknownKeys(e, ENTRY_KEYS, p, 'the entry');
      const entry = this.entryBody(e, p, 'entry', peers);
      if (entry) entries.push(entry);
      else ok = false;
    });
    return { entries: ok ? entries : null, peers };
  }

  /** `peers` and `rules` of an object (an entry, or a documented policy itself). */
  entryBody(v: Record<string, unknown>, path: string, what: 'policy' | 'entry', located: Located[]): PolicyEntry | null {
    const peersIn = this.list(v, 'peers', path, 'a list of endpoints', 'peer', 'give at least one (use {"peer": "any"} for everyone)', what);
    const rulesIn = this.list(v, 'rules', path, 'a list of rules', 'rule', 'give at least one (use {"protocol": "any"} for all traffic)', what);
    let ok = peersIn !== null && rulesIn !== null;
    const peers: Endpoint[] = [];
    peersIn?.forEach((x, i) => {
      const p = `${jsonPathKey(path, 'peers')}[${i}]`;
      const e = this.endpoint(x, p, { role: 'peer' });
      if (e) {
        peers.push(e);
        located.push({ endpoint: e, path: p });
      } else ok = false;
    });
    const rules: Rule[] = [];
    rulesIn?.forEach((x, i) => {
      const r = this.rule(x, `${jsonPathKey(path, 'rules')}[${i}]`);
      if (r) rules.push(r);
      else ok = false;
    });
    return ok ? { peers, rules } : null;
  }

  /** A required, non-empty list field; null (with a problem) otherwise. */
  list(v: Record<string, unknown>, key: string, path: string, shape: string, item: string, hint: string, what = 'policy'): unknown[] | null {
    const p = jsonPathKey(path, key);
    const x = v[key];
    if (x === undefined) {
      this.add(p, x, `Missing ${key} of the ${what}`);
      return null;
    }
    if (!Array.isArray(x)) {
      this.add(p, x, `${q(key)} must be ${shape}, not ${typeName(x)}`);
      return null;
    }
    if (x.length === 0) {
      this.add(p, x, `${q(key)} lists no ${item}: ${hint}`);
      return null;
    }
    return x;
  }

  /**
   * An endpoint: fields, values, exactly one kind, and whether that kind can
   * play its role (target in applied_to, or peer). The role is judged from
   * the fields written, so `{"cidr": "10.0.0.1/8"}` in applied_to is told
   * both that its CIDR is malformed and that a CIDR cannot be a target.
   */
  endpoint(v: unknown, path: string, role: EndpointRole): Endpoint | null {
    if (!isObject(v)) {
      this.add(path, v, `An endpoint must be an object, not ${typeName(v)}`);
      return null;
    }
    const at = (k: string): string => jsonPathKey(path, k);
    const before = this.problems.length;
    this.unknownKeys(v, ENDPOINT_KEYS, path, 'the endpoint');
    const e: { peer?: PeerWord; cidr?: string; dest?: DestWord; tenant?: string; segment?: string } = {};

    if (v['peer'] !== undefined) {
      const peer = this.word(v['peer'], at('peer'), 'peer', 'Peer', PEER_WORDS);
      if (peer) e.peer = peer;
    }
    if (v['dest'] !== undefined) {
      const dest = this.word(v['dest'], at('dest'), 'dest', 'Dest', DEST_WORDS);
      if (dest) e.dest = dest;
    }
    const cidr = v['cidr'];
    if (cidr !== undefined) {
      if (typeof cidr !== 'string') this.add(at('cidr'), cidr, `"cidr" must be a string, not ${typeName(cidr)}`);
      else {
        const r = parseCidr4(cidr);
        if (!r.ok) this.add(at('cidr'), cidr, `Invalid CIDR ${q(cidr)}: ${r.reason}`);
        else if (r.hostBitsSet) this.add(at('cidr'), cidr, `CIDR ${q(cidr)} has host bits set (the network address is ${q(formatCidr(r.cidr))})`);
        else e.cidr = formatCidr(r.cidr);
      }
    }
    for (const [field, v2field] of [
      ['tenant', 'tenant_id'],
      ['segment', 'segment_id'],
    ] as const) {
      if (v[field] !== undefined && v[v2field] !== undefined) {
        this.add(at(v2field), v[v2field], `Give either ${q(field)} or ${q(v2field)}, not both`);
        continue;
      }
      const key = v[field] !== undefined ? field : v2field;
      const name = v[key];
      if (name === undefined) continue;
      const label = field === 'tenant' ? 'tenant' : 'segment';
      if (typeof name !== 'string') this.add(at(key), name, `The ${label} name must be a string, not ${typeName(name)}`);
      else if (!TENANT_SEGMENT_RE.test(name)) this.add(at(key), name, `Invalid ${label} name ${q(name)}: use letters, digits, ".", "_" and "-"`);
      else e[field] = name;
    }
    const segKey = v['segment'] !== undefined ? 'segment' : 'segment_id';
    const tenantGiven = v['tenant'] !== undefined || v['tenant_id'] !== undefined;
    if (v[segKey] !== undefined && !tenantGiven) this.add(at(segKey), v[segKey], 'A segment needs a tenant beside it');

    // Exactly one kind: v2 resolved several by a silent precedence (peer > cidr > tenant), so a
    // typo could widen a rule; here a mixed endpoint is an error.
    const kinds: string[] = ['peer', 'cidr', 'dest'].filter((k) => v[k] !== undefined);
    if (tenantGiven) kinds.push('tenant');
    if (kinds.length > 1) {
      this.add(path, v, `An endpoint sets one of "peer", "cidr", "dest" or "tenant"; this one sets ${kinds.map((k) => q(k)).join(' and ')}`);
    } else if (kinds.length === 0 && v[segKey] === undefined && this.problems.length === before) {
      this.add(path, v, 'An empty endpoint matches nothing: set one of "peer", "cidr", "dest" or "tenant"');
    } else if (kinds.length === 1) {
      this.role(v, e, kinds[0]!, path, role);
    }
    return this.problems.length === before ? e : null;
  }

  /** Role check for an endpoint of one kind (`kind`: the field that makes it; `e`: its valid values). */
  role(v: Record<string, unknown>, e: Endpoint, kind: string, path: string, role: EndpointRole): void {
    const raw = JSON.stringify(v);
    if (role.role === 'peer') {
      if (kind === 'dest') this.add(path, v, `A peer must be {"peer": "any"|"host"|"local"}, a CIDR or a tenant (optionally with a segment), not ${raw}`);
      return;
    }
    if (kind === 'peer' || kind === 'cidr' || e.dest === 'local') {
      this.add(path, v, `A target must be a tenant (optionally with a segment) or {"dest":"host"}, not ${raw}`);
      return;
    }
    const tk = targetKind(e);
    if (tk !== null && role.direction !== null && RENDERABLE[role.direction][tk] === undefined) {
      this.add(path, v, `A ${raw} target works only in ingress policies`);
    }
  }

  /**
   * Every (target, peer) pair must be renderable (reference §3.1). One
   * problem per peer and offending target kind, naming the first target of
   * that kind, so a long applied_to list does not multiply the report.
   */
  combinations(direction: Direction, targets: readonly Located[], peers: readonly Located[]): void {
    const table = RENDERABLE[direction];
    const usable = new Set(Object.values(table).flat());
    for (const peer of peers) {
      const pk = peerKind(peer.endpoint)!;
      if (!usable.has(pk)) {
        this.add(peer.path, peer.endpoint, `Peer ${JSON.stringify(peer.endpoint)} cannot be used in an ${direction} policy: no target kind accepts it`);
        continue;
      }
      const reported = new Set<TargetKind>();
      for (const t of targets) {
        const tk = targetKind(t.endpoint)!;
        const allowed = table[tk] ?? [];
        if (allowed.includes(pk) || reported.has(tk)) continue;
        reported.add(tk);
        this.add(
          peer.path,
          peer.endpoint,
          `Peer ${JSON.stringify(peer.endpoint)} does not combine with the ${KIND_WORDS[tk]} target at ${t.path} (it takes peers: ${allowed.map((k) => KIND_WORDS[k]).join(', ')})`,
        );
      }
    }
  }

  rule(v: unknown, path: string): Rule | null {
    if (!isObject(v)) {
      this.add(path, v, `A rule must be an object, not ${typeName(v)}`);
      return null;
    }
    const at = (k: string): string => jsonPathKey(path, k);
    const before = this.problems.length;
    this.unknownKeys(v, RULE_KEYS, path, 'the rule');
    const r: { protocol?: Protocol; ports?: number[]; port_ranges?: [number, number][]; icmp_type?: number; icmp_code?: number; is_stateful?: boolean } = {};

    let protocol: Protocol | null = null;
    if (v['protocol'] === undefined) this.add(at('protocol'), undefined, `Missing protocol of the rule (one of: ${PROTOCOLS.join(', ')})`);
    else protocol = this.word(v['protocol'], at('protocol'), 'protocol', 'Protocol', PROTOCOLS);
    if (protocol) r.protocol = protocol;
    const carriesPorts = protocol === null || PORT_PROTOCOLS.includes(protocol);

    const ports = v['ports'];
    if (ports !== undefined) {
      if (!Array.isArray(ports)) this.add(at('ports'), ports, `"ports" must be a list of port numbers, not ${typeName(ports)}`);
      else if (!carriesPorts && ports.length > 0) this.add(at('ports'), ports, `Ports apply only to tcp, udp and sctp, not to ${q(protocol)}`);
      else {
        ports.forEach((x, i) => this.port(x, `${at('ports')}[${i}]`));
        r.ports = ports as number[];
      }
    }

    const ranges = v['port_ranges'];
    if (ranges !== undefined) {
      if (!Array.isArray(ranges)) this.add(at('port_ranges'), ranges, `"port_ranges" must be a list of [low, high] pairs, not ${typeName(ranges)}`);
      else if (!carriesPorts && ranges.length > 0) this.add(at('port_ranges'), ranges, `Port ranges apply only to tcp, udp and sctp, not to ${q(protocol)}`);
      else {
        ranges.forEach((x, i) => {
          const p = `${at('port_ranges')}[${i}]`;
          if (!Array.isArray(x) || x.length !== 2) {
            this.add(p, x, `A port range must be a [low, high] pair, not ${q(x)}`);
            return;
          }
          const lo = this.port(x[0], `${p}[0]`);
          const hi = this.port(x[1], `${p}[1]`);
          if (lo && hi && lo > hi) this.add(p, x, `Port range ${q(x)} is reversed: low must not exceed high`);
        });
        r.port_ranges = ranges as [number, number][];
      }
    }

    const isIcmp = protocol === null || protocol === 'icmp';
    const type = v['icmp_type'];
    let typeOk = false;
    if (type !== undefined) {
      if (!isIcmp) this.add(at('icmp_type'), type, `"icmp_type" applies only to protocol icmp, not to ${q(protocol)}`);
      else if (!isInt(type, 0, MAX_ICMP_TYPE)) this.add(at('icmp_type'), type, `ICMP type ${q(type)} must be an integer from 0 to ${MAX_ICMP_TYPE}`);
      else {
        r.icmp_type = type;
        typeOk = true;
      }
    }
    const code = v['icmp_code'];
    if (code !== undefined) {
      if (!isIcmp) this.add(at('icmp_code'), code, `"icmp_code" applies only to protocol icmp, not to ${q(protocol)}`);
      else if (type === undefined) this.add(at('icmp_code'), code, '"icmp_code" needs "icmp_type" beside it');
      else if (!isInt(code, 0, 255)) this.add(at('icmp_code'), code, `ICMP code ${q(code)} must be an integer from 0 to 255`);
      else if (typeOk && !isValidIcmpCode(type as number, code)) {
        this.add(at('icmp_code'), code, `ICMP code ${code} is not defined for type ${q(type)} (allowed: ${describeIcmpCodes(type as number)})`);
      } else r.icmp_code = code;
    }

    const stateful = v['is_stateful'];
    if (stateful !== undefined) {
      if (typeof stateful !== 'boolean') this.add(at('is_stateful'), stateful, `"is_stateful" must be true or false, not ${typeName(stateful)}`);
      else r.is_stateful = stateful;
    }
    return this.problems.length === before ? (r as Rule) : null;
  }

  /** A port number 1..65535; null (with a problem) otherwise. */
  port(v: unknown, path: string): number | null {
    if (isInt(v, 1, MAX_PORT)) return v;
    this.add(path, v, `Port ${q(v)} must be an integer from 1 to ${MAX_PORT}`);
    return null;
  }

  /**
   * Ids and names share one namespace (a CLI reference is either), so within
   * one document no id or name may repeat another policy's id or name.
   */
  duplicates(drafts: readonly PolicyDraft[]): void {
    const seen = new Map<string, { index: number; path: string }>();
    drafts.forEach((d, index) => {
      for (const field of ['id', 'name'] as const) {
        const value = d[field];
        if (!value) continue;
        const path = jsonPathKey(d.path, field);
        const first = seen.get(value);
        if (first === undefined) seen.set(value, { index, path });
        else if (first.index !== index) this.add(path, value, `Duplicate policy ${field} ${q(value)}: also used at ${first.path}`);
      }
    });
  }
}
