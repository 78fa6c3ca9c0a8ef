/**
 * Topology validation: every problem of an operator's topology, each with
 * its JSON path, the offending value and a message naming that value
 * (STYLE §6: "errors list every problem with its path").
 *
 * Design: one walk, `normalizeTopology`, both collects problems and builds a
 * normalized model (defaults applied: block_mask, empty tenants → null,
 * names/assignment/routing filled, host entries separated from sub-groups).
 * Carving consumes that model only when the problem list is empty, so the
 * validator and the carver can never disagree about what the input means.
 *
 * Checks that go beyond the original (reference §1.2 lists its gaps): host
 * bits in CIDRs, groups smaller than one block (at any level, for every
 * network the map is carved for), networks no topology uses, duplicate
 * predefined hosts, overlap with the service range, unknown fields (typos
 * like "assigment" would otherwise silently widen placement), an empty map.
 *
 * Name rules: network and host names end up inside store keys
 * (`blocks/<network>/<cidr>`, `hosts/<name>`), so they are restricted to
 * letters, digits, '.', '_' and '-' (Kubernetes node names fit); tenant
 * names follow the original's rule, minus the empty name.
 *
 * Predefined hosts: one host may be written in several topologies (it then
 * lives in each of their networks) as long as it has the same IP there; in
 * one topology it may appear once; one IP belongs to one host name.
 *
 * Pure; no state survives a call.
 */
import type { Problem } from '../errors.js';
import { cidrOverlaps, formatCidr, parseCidr4, parseIPv4, prefixSize, type Cidr4 } from '../ip.js';
import type { HostInput } from './types.js';

export interface ValidateOptions {
  /** The cluster's service range (e.g. "10.96.0.0/12"); pod networks must not overlap it. */
  serviceCidr?: string;
}

export const DEFAULT_BLOCK_MASK = 29;
/** Network and host names (they become parts of store keys). */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const MAX_NAME_LENGTH = 253;
/** Tenant names, as the original (`^[a-zA-Z0-9_-]*$`) but non-empty. */
export const TENANT_RE = /^[a-zA-Z0-9_-]+$/;

export interface NormalizedNetwork {
  readonly name: string;
  readonly cidr: Cidr4;
  readonly blockMask: number;
  readonly tenants: readonly string[] | null;
  /** Index of the first topology that lists this network (-1 when none; then there is a problem). */
  readonly topologyIndex: number;
}

export interface NormalizedGroup {
  readonly name: string;
  readonly assignment: Readonly<Record<string, string>>;
  readonly routing: string;
  /** Written as `"padding": true`: a reserved slot. */
  readonly padding: boolean;
  /** Sub-groups; empty for a leaf. */
  readonly children: readonly NormalizedGroup[];
  readonly hosts: readonly HostInput[];
  /** Where the entry was written, for problems found later (e.g. per-network size checks). */
  readonly jsonPath: string;
}

export interface NormalizedTopology {
  readonly networks: readonly string[];
  readonly map: readonly NormalizedGroup[];
  readonly jsonPath: string;
}

export interface NormalizedInput {
  readonly problems: Problem[];
  /** Only the networks that passed their own checks; complete when `problems` is empty. */
  readonly networks: readonly NormalizedNetwork[];
  readonly topologies: readonly NormalizedTopology[];
}

/** Every problem of `input`; empty means `carveTopology` will succeed. */
export function validateTopology(input: unknown, opts: ValidateOptions = {}): Problem[] {
  return normalizeTopology(input, opts).problems;
}

/** Appends `key` to a JSON path: `.key` for identifiers, `["a/b"]` otherwise. */
export function jsonPathKey(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** Bits a list of `n` siblings takes from the parent's prefix: ceil(log2 n), 0 for n <= 1. */
export function carveBits(n: number): number {
  let bits = 0;
  while (2 ** bits < n) bits++;
  return bits;
}

const TOP_KEYS = ['networks', 'topologies'];
const NETWORK_KEYS = ['name', 'cidr', 'block_mask', 'tenants'];
const TOPOLOGY_KEYS = ['networks', 'map'];
const GROUP_KEYS = ['name', 'assignment', 'groups', 'hosts', 'routing', 'padding', 'cidr'];
const HOST_KEYS = ['name', 'ip'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function q(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(JSON.stringify(v) ?? v);
}

/** A network's fields as far as they passed their checks (null: missing or invalid). */
interface NetworkDraft {
  name: string | null;
  /** Parsed CIDR (host bits cleared); `cidrValid` is false when the text had host bits set. */
  cidr: Cidr4 | null;
  cidrValid: boolean;
  blockMask: number | null;
  tenants: string[] | null;
}

interface HostSeen {
  readonly name: string;
  readonly ip: string;
  readonly path: string;
  readonly topologyIndex: number;
}

class Walker {
  readonly problems: Problem[] = [];
  private readonly hostsByName = new Map<string, HostSeen[]>();
  private readonly hostsByIp = new Map<number, HostSeen>();

  add(path: string, value: unknown, message: string): void {
    this.problems.push({ path, value, message });
  }

  unknownKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string, what: string): void {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) {
        this.add(jsonPathKey(path, k), obj[k], `Unknown field ${q(k)} in ${what} (allowed: ${allowed.join(', ')})`);
      }
    }
  }

  /** A required array field; null (with a problem) when missing or not an array. */
  array(obj: Record<string, unknown>, key: string, path: string, what: string): unknown[] | null {
    const p = jsonPathKey(path, key);
    const v = obj[key];
    if (v === undefined) {
      this.add(p, v, `Missing ${q(key)} in ${what}`);
      return null;
    }
    if (!Array.isArray(v)) {
      this.add(p, v, `${q(key)} must be a list, not ${typeName(v)}`);
      return null;
    }
    return v;
  }

  name(v: unknown, path: string, what: string): string | null {
    if (v === undefined) {
      this.add(path, v, `Missing name of the ${what}`);
      return null;
    }
    if (typeof v !== 'string') {
      this.add(path, v, `The ${what} name must be a string, not ${typeName(v)}`);
      return null;
    }
    if (v.length > MAX_NAME_LENGTH || !NAME_RE.test(v)) {
      this.add(
        path,
        v,
        `Invalid ${what} name ${q(v)}: use letters, digits, ".", "_" and "-", starting with a letter or digit, at most ${MAX_NAME_LENGTH} characters`,
      );
      return null;
    }
    return v;
  }

  network(v: unknown, path: string): NetworkDraft {
    const out: NetworkDraft = { name: null, cidr: null, cidrValid: true, blockMask: null, tenants: null };
    if (!isObject(v)) {
      this.add(path, v, `A network must be an object, not ${typeName(v)}`);
      return out;
    }
    this.unknownKeys(v, NETWORK_KEYS, path, 'a network');
    out.name = this.name(v['name'], jsonPathKey(path, 'name'), 'network');

    const cidrPath = jsonPathKey(path, 'cidr');
    const cidrText = v['cidr'];
    if (cidrText === undefined) {
      this.add(cidrPath, cidrText, `Missing "cidr" in network ${q(out.name ?? '?')}`);
    } else if (typeof cidrText !== 'string') {
      this.add(cidrPath, cidrText, `The network CIDR must be a string, not ${typeName(cidrText)}`);
    } else {
      const r = parseCidr4(cidrText);
      if (!r.ok) this.add(cidrPath, cidrText, `Invalid CIDR ${q(cidrText)}: ${r.reason}`);
      else {
        // Kept even with host bits set, so that block_mask and overlaps are still checked.
        out.cidr = r.cidr;
        if (r.hostBitsSet) {
          out.cidrValid = false;
          this.add(cidrPath, cidrText, `CIDR ${q(cidrText)} has host bits set (the network address is ${q(formatCidr(r.cidr))})`);
        }
      }
    }

    const maskPath = jsonPathKey(path, 'block_mask');
    const mask = v['block_mask'];
    if (mask === undefined) {
      // Default (reference §1.2): /29, or the whole network when it is smaller than a /29.
      if (out.cidr) out.blockMask = Math.max(DEFAULT_BLOCK_MASK, out.cidr.prefix);
    } else if (typeof mask !== 'number' || !Number.isInteger(mask)) {
      this.add(maskPath, mask, `block_mask ${q(mask)} must be an integer prefix length`);
    } else if (out.cidr) {
      if (mask < out.cidr.prefix || mask > 32) {
        this.add(maskPath, mask, `block_mask ${mask} is out of range for ${q(formatCidr(out.cidr))}: it must be between ${out.cidr.prefix} and 32`);
      } else {
        out.blockMask = mask;
      }
    } else if (mask < 0 || mask > 32) {
      this.add(maskPath, mask, `block_mask ${mask} is out of range: it must be between the network prefix and 32`);
    }

    const tenants = v['tenants'];
    const tenantsPath = jsonPathKey(path, 'tenants');
    if (tenants !== undefined) {
      if (!Array.isArray(tenants)) {
        this.add(tenantsPath, tenants, `"tenants" must be a list of tenant names, not ${typeName(tenants)}`);
      } else {
        const good: string[] = [];
        tenants.forEach((t, i) => {
          const p = `${tenantsPath}[${i}]`;
          if (typeof t !== 'string') this.add(p, t, `A tenant name must be a string, not ${typeName(t)}`);
          else if (!TENANT_RE.test(t)) this.add(p, t, `Invalid tenant name ${q(t)}: use letters, digits, "_" and "-"`);
          else if (good.includes(t)) this.add(p, t, `Tenant ${q(t)} is listed twice`);
          else good.push(t);
        });
        out.tenants = good.length > 0 ? good : null;
      }
    }
    return out;
  }

  /**
   * A `groups` or `map` list of sub-groups. Returns the normalized groups and
   * the host entries when the list is (original variant) a host list.
   */
  groupList(list: unknown[], path: string, topologyIndex: number, isMap: boolean): { groups: NormalizedGroup[]; hosts: HostInput[] } {
    const groups: NormalizedGroup[] = [];
    const hosts: HostInput[] = [];
    const hostEntries = list.filter((e) => isObject(e) && 'ip' in e).length;
    const isHostList = hostEntries > 0;
    if (isMap && isHostList) {
      this.add(path, undefined, 'The map lists hosts (entries with "ip"); hosts belong inside a group');
    } else if (isHostList && hostEntries !== list.length) {
      this.add(
        path,
        undefined,
        `The list mixes ${hostEntries} host entries (with "ip") and ${list.length - hostEntries} sub-groups; a group has either hosts or sub-groups`,
      );
    }
    const names = new Map<string, string>();
    list.forEach((entry, i) => {
      const p = `${path}[${i}]`;
      if (isObject(entry) && 'ip' in entry) {
        const h = this.host(entry, p, topologyIndex);
        if (h) hosts.push(h);
        return;
      }
      const g = this.group(entry, p, topologyIndex);
      // Checked on the raw entry, so that a sibling with other problems still counts.
      const name = isObject(entry) ? entry['name'] : undefined;
      if (typeof name === 'string' && name !== '') {
        const first = names.get(name);
        if (first !== undefined) this.add(jsonPathKey(p, 'name'), name, `Group name ${q(name)} is already used by its sibling ${first}`);
        else names.set(name, p);
      }
      if (g) groups.push(g);
    });
    return { groups, hosts };
  }

  group(v: unknown, path: string, topologyIndex: number): NormalizedGroup | null {
    if (!isObject(v)) {
      this.add(path, v, `A group must be an object, not ${typeName(v)}`);
      return null;
    }
    this.unknownKeys(v, GROUP_KEYS, path, 'a group');
    let ok = true;

    let name = '';
    if (v['name'] !== undefined) {
      if (typeof v['name'] === 'string') name = v['name'];
      else {
        this.add(jsonPathKey(path, 'name'), v['name'], `The group name must be a string, not ${typeName(v['name'])}`);
        ok = false;
      }
    }
    let routing = '';
    if (v['routing'] !== undefined) {
      if (typeof v['routing'] === 'string') routing = v['routing'];
      else {
        this.add(jsonPathKey(path, 'routing'), v['routing'], `"routing" must be a string, not ${typeName(v['routing'])}`);
        ok = false;
      }
    }
    let padding = false;
    if (v['padding'] !== undefined) {
      if (typeof v['padding'] === 'boolean') padding = v['padding'];
      else {
        this.add(jsonPathKey(path, 'padding'), v['padding'], `"padding" must be true or false, not ${q(v['padding'])}`);
        ok = false;
      }
    }

    const assignment: Record<string, string> = {};
    const a = v['assignment'];
    const aPath = jsonPathKey(path, 'assignment');
    if (a !== undefined) {
      if (!isObject(a)) {
        this.add(aPath, a, `"assignment" must be an object of label: value, not ${typeName(a)}`);
        ok = false;
      } else {
        for (const [k, val] of Object.entries(a)) {
          const kp = jsonPathKey(aPath, k);
          if (k === '') {
            this.add(kp, val, 'An assignment label name must not be empty');
            ok = false;
          } else if (typeof val !== 'string') {
            this.add(kp, val, `The assignment value of label ${q(k)} must be a string, not ${typeName(val)} (${q(val)})`);
            ok = false;
          } else {
            Object.defineProperty(assignment, k, { value: val, enumerable: true, writable: true, configurable: true });
          }
        }
      }
    }

    let children: NormalizedGroup[] = [];
    const hosts: HostInput[] = [];
    const sub = v['groups'];
    const subPath = jsonPathKey(path, 'groups');
    if (sub !== undefined) {
      if (!Array.isArray(sub)) {
        this.add(subPath, sub, `"groups" must be a list, not ${typeName(sub)}`);
        ok = false;
      } else {
        const r = this.groupList(sub, subPath, topologyIndex, false);
        children = r.groups;
        hosts.push(...r.hosts);
      }
    }
    const hl = v['hosts'];
    const hostsPath = jsonPathKey(path, 'hosts');
    if (hl !== undefined) {
      if (!Array.isArray(hl)) {
        this.add(hostsPath, hl, `"hosts" must be a list, not ${typeName(hl)}`);
        ok = false;
      } else {
        hl.forEach((h, i) => {
          const n = this.host(h, `${hostsPath}[${i}]`, topologyIndex);
          if (n) hosts.push(n);
        });
        // Both lists non-empty is ambiguous; "hosts": [..] with "groups": [] is a leaf either way.
        if (hl.length > 0 && Array.isArray(sub) && sub.length > 0) {
          this.add(path, undefined, 'A group has either "hosts" or sub-"groups", not both');
          ok = false;
        }
      }
    }

    if (padding) {
      const extras = ['groups', 'hosts', 'assignment'].filter((k) => {
        const x = v[k];
        return Array.isArray(x) ? x.length > 0 : isObject(x) ? Object.keys(x).length > 0 : x !== undefined;
      });
      if (extras.length > 0) {
        this.add(path, undefined, `A padding entry is a reserved slot: it cannot have ${extras.map((k) => q(k)).join(', ')}`);
        ok = false;
      }
    }
    if (!ok) return null;
    return { name, assignment, routing, padding, children, hosts, jsonPath: path };
  }

  host(v: unknown, path: string, topologyIndex: number): HostInput | null {
    if (!isObject(v)) {
      this.add(path, v, `A host must be an object with "name" and "ip", not ${typeName(v)}`);
      return null;
    }
    this.unknownKeys(v, HOST_KEYS, path, 'a host');
    const name = this.name(v['name'], jsonPathKey(path, 'name'), 'host');
    const ipPath = jsonPathKey(path, 'ip');
    const ipText = v['ip'];
    let ip: number | null = null;
    if (ipText === undefined) this.add(ipPath, ipText, `Missing "ip" of host ${q(name ?? '?')}`);
    else if (typeof ipText !== 'string' || (ip = parseIPv4(ipText)) === null) {
      this.add(ipPath, ipText, `Invalid host IP ${q(ipText)}: expected a dotted-quad IPv4 address`);
    }
    if (name === null || ip === null || typeof ipText !== 'string') return null;

    const seen: HostSeen = { name, ip: ipText, path, topologyIndex };
    const sameName = this.hostsByName.get(name) ?? [];
    for (const other of sameName) {
      if (other.topologyIndex === topologyIndex) {
        this.add(jsonPathKey(path, 'name'), name, `Host name ${q(name)} is already defined at ${other.path}`);
        return null;
      }
      if (other.ip !== ipText) {
        this.add(ipPath, ipText, `Host ${q(name)} has IP ${q(ipText)} here but ${q(other.ip)} at ${other.path}`);
        return null;
      }
    }
    const ipOwner = this.hostsByIp.get(ip);
    if (ipOwner && ipOwner.name !== name) {
      this.add(ipPath, ipText, `Host IP ${q(ipText)} is already used by host ${q(ipOwner.name)} at ${ipOwner.path}`);
      return null;
    }
    sameName.push(seen);
    this.hostsByName.set(name, sameName);
    if (!ipOwner) this.hostsByIp.set(ip, seen);
    return { name, ip: ipText };
  }

  /**
   * Reports the topmost groups that get less than one block when `map` is
   * carved in `net` (their descendants are smaller still, so they are not
   * listed again).
   */
  sizes(list: readonly NormalizedGroup[], base: number, prefix: number, net: NormalizedNetwork): void {
    const bits = carveBits(list.length);
    const childPrefix = prefix + bits;
    list.forEach((g, i) => {
      if (childPrefix > net.blockMask) {
        // Past /32 there is no CIDR to name, only the prefix length it would need.
        const value = childPrefix <= 32 ? formatCidr({ base: base + i * prefixSize(childPrefix), prefix: childPrefix }) : `/${childPrefix}`;
        const label = g.name !== '' ? `Group ${q(g.name)}` : 'This group';
        const what = childPrefix <= 32 ? q(value) : `a ${value}`;
        this.add(g.jsonPath, value, `${label} would get ${what} in network ${q(net.name)}, smaller than one /${net.blockMask} block`);
        return;
      }
      this.sizes(g.children, base + i * prefixSize(childPrefix), childPrefix, net);
    });
  }
}

function hasUsableLeaf(list: readonly NormalizedGroup[]): boolean {
  return list.some((g) => !g.padding && (g.children.length === 0 || hasUsableLeaf(g.children)));
}

/** Validation and normalization in one walk (see the module header). */
export function normalizeTopology(input: unknown, opts: ValidateOptions = {}): NormalizedInput {
  const w = new Walker();
  const networks: NormalizedNetwork[] = [];
  const topologies: NormalizedTopology[] = [];
  if (!isObject(input)) {
    w.add('$', input, `The topology must be a JSON object with "networks" and "topologies", not ${typeName(input)}`);
    return { problems: w.problems, networks, topologies };
  }
  w.unknownKeys(input, TOP_KEYS, '$', 'the topology');

  // ---- networks ----
  interface NetDraft extends NetworkDraft {
    path: string;
  }
  const drafts: NetDraft[] = [];
  const netList = w.array(input, 'networks', '$', 'the topology');
  if (netList && netList.length === 0) w.add('$.networks', netList, 'At least one network is required');
  netList?.forEach((n, i) => {
    const path = `$.networks[${i}]`;
    drafts.push({ ...w.network(n, path), path });
  });
  const byName = new Map<string, NetDraft>();
  for (const d of drafts) {
    if (d.name === null) continue;
    const first = byName.get(d.name);
    if (first) w.add(`${d.path}.name`, d.name, `Network name ${q(d.name)} is already used by ${first.path}`);
    else byName.set(d.name, d);
  }
  for (let j = 0; j < drafts.length; j++) {
    const b = drafts[j]!;
    if (!b.cidr) continue;
    for (let i = 0; i < j; i++) {
      const a = drafts[i]!;
      if (!a.cidr) continue;
      if (cidrOverlaps(a.cidr, b.cidr)) {
        w.add(
          `${b.path}.cidr`,
          formatCidr(b.cidr),
          `CIDR ${q(formatCidr(b.cidr))} of network ${q(b.name ?? '?')} overlaps CIDR ${q(formatCidr(a.cidr))} of network ${q(a.name ?? '?')} (${a.path})`,
        );
      }
    }
  }
  if (opts.serviceCidr !== undefined) {
    const r = parseCidr4(opts.serviceCidr);
    if (!r.ok) w.add('serviceCidr', opts.serviceCidr, `Invalid service CIDR ${q(opts.serviceCidr)}: ${r.reason}`);
    else {
      for (const d of drafts) {
        if (d.cidr && cidrOverlaps(d.cidr, r.cidr)) {
          w.add(
            `${d.path}.cidr`,
            formatCidr(d.cidr),
            `CIDR ${q(formatCidr(d.cidr))} of network ${q(d.name ?? '?')} overlaps the service range ${q(opts.serviceCidr)}`,
          );
        }
      }
    }
  }

  // ---- topologies ----
  const usedBy = new Map<string, { path: string; topologyIndex: number }>();
  const topoList = w.array(input, 'topologies', '$', 'the topology');
  if (topoList && topoList.length === 0) w.add('$.topologies', topoList, 'At least one topology is required');
  topoList?.forEach((t, ti) => {
    const path = `$.topologies[${ti}]`;
    if (!isObject(t)) {
      w.add(path, t, `A topology must be an object with "networks" and "map", not ${typeName(t)}`);
      return;
    }
    w.unknownKeys(t, TOPOLOGY_KEYS, path, 'a topology');
    const names: string[] = [];
    const refs = w.array(t, 'networks', path, 'a topology');
    if (refs && refs.length === 0) w.add(`${path}.networks`, refs, 'A topology must list at least one network');
    refs?.forEach((r, k) => {
      const rp = `${path}.networks[${k}]`;
      if (typeof r !== 'string') {
        w.add(rp, r, `A network reference must be a network name, not ${typeName(r)}`);
        return;
      }
      if (!byName.has(r)) {
        w.add(rp, r, `Network ${q(r)} is not defined in "networks"`);
        return;
      }
      const first = usedBy.get(r);
      if (first) {
        w.add(rp, r, `Network ${q(r)} is already used by ${first.path}; a network belongs to one topology, once`);
        return;
      }
      usedBy.set(r, { path: rp, topologyIndex: ti });
      names.push(r);
    });
    const mapPath = `${path}.map`;
    const map = w.array(t, 'map', path, 'a topology');
    if (!map) return;
    if (map.length === 0) {
      w.add(mapPath, map, 'The map must have at least one group (one entry: the whole network is one group)');
      return;
    }
    const before = w.problems.length;
    const { groups } = w.groupList(map, mapPath, ti, true);
    if (w.problems.length === before && !hasUsableLeaf(groups)) {
      w.add(mapPath, undefined, 'Every group of the map is padding: no host could ever be placed');
    }
    topologies.push({ networks: names, map: groups, jsonPath: path });
  });

  for (const d of drafts) {
    if (d.name !== null && byName.get(d.name) === d && !usedBy.has(d.name)) {
      w.add(`${d.path}.name`, d.name, `Network ${q(d.name)} is not used by any topology`);
    }
    if (d.name !== null && d.cidr && d.cidrValid && d.blockMask !== null && byName.get(d.name) === d) {
      networks.push({ name: d.name, cidr: d.cidr, blockMask: d.blockMask, tenants: d.tenants, topologyIndex: usedBy.get(d.name)?.topologyIndex ?? -1 });
    }
  }

  // ---- group sizes, per network the map is carved for ----
  const netByName = new Map(networks.map((n) => [n.name, n]));
  for (const t of topologies) {
    for (const n of t.networks) {
      const net = netByName.get(n);
      if (net) w.sizes(t.map, net.cidr.base, net.cidr.prefix, net);
    }
  }
  return { problems: w.problems, networks, topologies };
}
