/**
 * evaluatePacket: an interpreter of the iptables subset the renderer emits,
 * run over a DesiredFirewall and its ipsets. It is how `romana policy
 * simulate` and the property tests judge the *rendered* rules rather than
 * the policy model, so it is deliberately strict: any match syntax outside
 * the subset throws instead of being guessed at, and so does a jump to an
 * undeclared chain or a reference to an undeclared set. The renderer can
 * therefore never emit something the simulator silently mis-evaluates.
 *
 * Subset: `[!] -s|-d ADDR[/N]`, `[!] -i|-o NAME[+]`, `-p tcp|udp|sctp|icmp`,
 * `-m tcp|udp|sctp --dport N[:M]`, `-m multiport --dports L`,
 * `-m icmp --icmp-type T[/C]`, `-m set [!] --match-set NAME src|dst`,
 * `-m conntrack --ctstate S[,S…]`, `-m comment --comment TEXT`,
 * `-j ACCEPT|DROP|RETURN|<owned chain>`.
 *
 * Semantics: a built-in chain is its jumps (in list order, as if at the top
 * of the chain) followed by nothing of ours; falling off it gives ACCEPT,
 * the policy of a node with no other rules. Starting at an owned chain
 * instead, falling off it gives RETURN. Parsed rules and set lookups are
 * cached per DesiredFirewall object. Pure.
 */
import { parseCidr4, parseIPv4, prefixMask } from '../ip.js';
import type { DesiredFirewall } from './types.js';

export type PacketProtocol = 'tcp' | 'udp' | 'sctp' | 'icmp';
export type Verdict = 'ACCEPT' | 'DROP' | 'RETURN';

export interface Packet {
  readonly src: string;
  readonly dst: string;
  readonly protocol: PacketProtocol;
  readonly dport?: number;
  /** ICMP type and code; an ICMP packet without them is an echo request (8/0). */
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly inIface?: string;
  readonly outIface?: string;
  /** A built-in chain, or an owned chain to evaluate on its own. */
  readonly chain: 'FORWARD' | 'INPUT' | 'OUTPUT' | `ROMANA-${string}`;
  /** Conntrack state; default NEW. */
  readonly state?: 'NEW' | 'ESTABLISHED' | 'RELATED';
}

interface ParsedPacket {
  readonly src: number;
  readonly dst: number;
  readonly p: Packet;
}

type Matcher = (pkt: ParsedPacket) => boolean;

interface CompiledRule {
  readonly matchers: readonly Matcher[];
  readonly target: string;
}

interface CompiledFirewall {
  readonly chains: ReadonlyMap<string, readonly CompiledRule[]>;
  /** built-in chain → its jumps as rules. */
  readonly builtins: ReadonlyMap<string, readonly CompiledRule[]>;
}

const BUILTINS = new Set(['INPUT', 'FORWARD', 'OUTPUT']);
const TERMINALS = new Set(['ACCEPT', 'DROP', 'RETURN']);
/** iptables refuses chain loops; anything deeper than this is a renderer bug. */
const MAX_DEPTH = 32;

const compiled = new WeakMap<DesiredFirewall, CompiledFirewall>();

export function evaluatePacket(fw: DesiredFirewall, pkt: Packet): Verdict {
  const c = compileFirewall(fw);
  const src = parseIPv4(pkt.src);
  const dst = parseIPv4(pkt.dst);
  if (src === null || dst === null) throw new Error(`packet addresses must be IPv4: ${JSON.stringify(pkt.src)} → ${JSON.stringify(pkt.dst)}`);
  const pp: ParsedPacket = { src, dst, p: pkt };
  if (BUILTINS.has(pkt.chain)) {
    const v = runRules(c, c.builtins.get(pkt.chain) ?? [], pp, 0);
    return v === 'RETURN' ? 'ACCEPT' : v;
  }
  const rules = c.chains.get(pkt.chain);
  if (!rules) throw new Error(`no chain ${JSON.stringify(pkt.chain)} in the firewall`);
  return runRules(c, rules, pp, 0);
}

function runRules(c: CompiledFirewall, rules: readonly CompiledRule[], pkt: ParsedPacket, depth: number): Verdict {
  if (depth > MAX_DEPTH) throw new Error('chain nesting too deep (a jump loop?)');
  for (const r of rules) {
    let ok = true;
    for (const m of r.matchers) {
      if (!m(pkt)) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (r.target === 'ACCEPT' || r.target === 'DROP') return r.target;
    if (r.target === 'RETURN') return 'RETURN';
    const v = runRules(c, c.chains.get(r.target)!, pkt, depth + 1);
    if (v !== 'RETURN') return v;
  }
  return 'RETURN';
}

function compileFirewall(fw: DesiredFirewall): CompiledFirewall {
  let c = compiled.get(fw);
  if (c) return c;
  const sets = new Map<string, (ip: number) => boolean>();
  for (const s of fw.ipsets) sets.set(s.name, setLookup(s.type, s.members, s.name));
  const chainNames = new Set(fw.chains.map((ch) => ch.name));
  const chains = new Map<string, CompiledRule[]>();
  for (const ch of fw.chains) {
    if (BUILTINS.has(ch.name)) throw new Error(`owned chain named like a built-in: ${ch.name}`);
    chains.set(
      ch.name,
      ch.rules.map((r) => compileRule(r.spec, sets, chainNames, ch.name)),
    );
  }
  const builtins = new Map<string, CompiledRule[]>();
  for (const j of fw.jumps) {
    const rule = compileRule(`${j.match} -j ${j.to}`.trim(), sets, chainNames, j.from);
    const l = builtins.get(j.from);
    if (l) l.push(rule);
    else builtins.set(j.from, [rule]);
  }
  c = { chains, builtins };
  compiled.set(fw, c);
  return c;
}

function setLookup(type: string, members: readonly string[], name: string): (ip: number) => boolean {
  if (type === 'hash:ip') {
    const ips = new Set<number>();
    for (const m of members) {
      const ip = parseIPv4(m);
      if (ip === null) throw new Error(`ipset ${name}: invalid hash:ip member ${JSON.stringify(m)}`);
      ips.add(ip);
    }
    return (ip) => ips.has(ip);
  }
  if (type === 'hash:net') {
    // prefix length → network bases: a lookup per distinct prefix length, as the kernel does.
    const byPrefix = new Map<number, Set<number>>();
    for (const m of members) {
      const r = parseCidr4(m.includes('/') ? m : `${m}/32`);
      if (!r.ok || r.hostBitsSet) throw new Error(`ipset ${name}: invalid hash:net member ${JSON.stringify(m)}`);
      let s = byPrefix.get(r.cidr.prefix);
      if (!s) byPrefix.set(r.cidr.prefix, (s = new Set()));
      s.add(r.cidr.base);
    }
    const entries = [...byPrefix.entries()].map(([p, s]) => [prefixMask(p), s] as const);
    return (ip) => entries.some(([mask, s]) => s.has((ip & mask) >>> 0));
  }
  throw new Error(`ipset ${name}: unsupported type ${type}`);
}

/** Splits a rule spec into words; a double-quoted word may contain spaces (comments). */
export function tokenize(spec: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(spec); m; m = re.exec(spec)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

function compileRule(spec: string, sets: ReadonlyMap<string, (ip: number) => boolean>, chains: ReadonlySet<string>, where: string): CompiledRule {
  const t = tokenize(spec);
  const fail = (why: string): never => {
    throw new Error(`cannot evaluate rule in ${where} ${JSON.stringify(spec)}: ${why}`);
  };
  const matchers: Matcher[] = [];
  let target: string | undefined;
  let proto: string | undefined;
  let i = 0;
  const next = (what: string): string => {
    const w = t[i++];
    if (w === undefined) fail(`missing ${what}`);
    return w!;
  };
  while (i < t.length) {
    let neg = false;
    let w = next('option');
    if (w === '!') {
      neg = true;
      w = next('option after "!"');
    }
    const add = (m: Matcher): void => {
      matchers.push(neg ? (p) => !m(p) : m);
    };
    switch (w) {
      case '-s':
      case '-d': {
        const a = next('address');
        const r = parseCidr4(a.includes('/') ? a : `${a}/32`);
        if (!r.ok || r.hostBitsSet) fail(`bad address ${a}`);
        const { base, prefix } = (r as { cidr: { base: number; prefix: number } }).cidr;
        const mask = prefixMask(prefix);
        add(w === '-s' ? (p) => ((p.src & mask) >>> 0) === base : (p) => ((p.dst & mask) >>> 0) === base);
        break;
      }
      case '-i':
      case '-o': {
        const name = next('interface');
        const which = w === '-i' ? 'inIface' : 'outIface';
        const m: Matcher = name.endsWith('+')
          ? (p) => p.p[which] !== undefined && p.p[which]!.startsWith(name.slice(0, -1))
          : (p) => p.p[which] === name;
        add(m);
        break;
      }
      case '-p': {
        if (neg) fail('negated -p is outside the subset');
        proto = next('protocol');
        if (!['tcp', 'udp', 'sctp', 'icmp'].includes(proto)) fail(`unsupported protocol ${proto}`);
        const want = proto;
        add((p) => p.p.protocol === want);
        break;
      }
      case '-m': {
        if (neg) fail('"!" before -m');
        const mod = next('module');
        i = compileModule(mod, t, i, proto, sets, matchers, fail);
        break;
      }
      case '-j': {
        if (neg) fail('"!" before -j');
        target = next('target');
        if (i !== t.length) fail('options after the target');
        if (!TERMINALS.has(target) && !chains.has(target)) fail(`jump to undeclared chain ${target}`);
        break;
      }
      default:
        fail(`unsupported option ${w}`);
    }
  }
  if (target === undefined) fail('no -j target (rules without one are outside the subset)');
  return { matchers, target: target! };
}

/** Parses one `-m MODULE …options` group starting at t[i]; returns the index after it. */
function compileModule(
  mod: string,
  t: readonly string[],
  start: number,
  proto: string | undefined,
  sets: ReadonlyMap<string, (ip: number) => boolean>,
  matchers: Matcher[],
  fail: (why: string) => never,
): number {
  let i = start;
  const opt = (): { neg: boolean; name: string | undefined } => {
    let neg = false;
    if (t[i] === '!' && t[i + 1]?.startsWith('--')) {
      neg = true;
      i++;
    }
    const name = t[i]?.startsWith('--') ? t[i] : undefined;
    if (name !== undefined) i++;
    return { neg, name };
  };
  const arg = (what: string): string => {
    const w = t[i++];
    if (w === undefined) fail(`missing ${what}`);
    return w!;
  };
  switch (mod) {
    case 'tcp':
    case 'udp':
    case 'sctp': {
      if (proto !== mod) fail(`-m ${mod} without -p ${mod}`);
      const { neg, name } = opt();
      if (neg || name !== '--dport') fail(`-m ${mod} supports only --dport`);
      const [lo, hi] = portRange(arg('port'), fail);
      matchers.push((p) => p.p.dport !== undefined && p.p.dport >= lo && p.p.dport <= hi);
      break;
    }
    case 'multiport': {
      if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') fail('-m multiport needs -p tcp, udp or sctp');
      const { neg, name } = opt();
      if (neg || name !== '--dports') fail('-m multiport supports only --dports');
      const ranges = arg('ports').split(',').map((x) => portRange(x, fail));
      if (ranges.reduce((n, [lo, hi]) => n + (lo === hi ? 1 : 2), 0) > 15) fail('multiport takes at most 15 ports');
      matchers.push((p) => p.p.dport !== undefined && ranges.some(([lo, hi]) => p.p.dport! >= lo && p.p.dport! <= hi));
      break;
    }
    case 'icmp': {
      if (proto !== 'icmp') fail('-m icmp without -p icmp');
      const { neg, name } = opt();
      if (neg || name !== '--icmp-type') fail('-m icmp supports only --icmp-type');
      const m = /^(\d{1,3})(?:\/(\d{1,3}))?$/.exec(arg('icmp type'));
      if (!m) fail('--icmp-type takes TYPE or TYPE/CODE');
      const type = Number(m![1]);
      const code = m![2] === undefined ? undefined : Number(m![2]);
      matchers.push((p) => (p.p.icmpType ?? 8) === type && (code === undefined || (p.p.icmpCode ?? 0) === code));
      break;
    }
    case 'set': {
      const { neg, name } = opt();
      if (name !== '--match-set') fail('-m set supports only --match-set');
      const setName = arg('set name');
      const dir = arg('src|dst');
      if (dir !== 'src' && dir !== 'dst') fail(`--match-set direction must be src or dst, not ${dir}`);
      const lookup = sets.get(setName);
      if (!lookup) fail(`reference to undeclared ipset ${setName}`);
      const m: Matcher = dir === 'src' ? (p) => lookup!(p.src) : (p) => lookup!(p.dst);
      matchers.push(neg ? (p) => !m(p) : m);
      break;
    }
    case 'conntrack': {
      const { neg, name } = opt();
      if (neg || name !== '--ctstate') fail('-m conntrack supports only --ctstate');
      const states = new Set(arg('states').split(','));
      for (const s of states) if (!['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED'].includes(s)) fail(`unknown conntrack state ${s}`);
      matchers.push((p) => states.has(p.p.state ?? 'NEW'));
      break;
    }
    case 'comment': {
      const { neg, name } = opt();
      if (neg || name !== '--comment') fail('-m comment supports only --comment');
      arg('comment');
      break;
    }
    default:
      fail(`unsupported match module ${mod}`);
  }
  if (t[i]?.startsWith('--')) fail(`unsupported option ${t[i]} for -m ${mod}`);
  return i;
}

function portRange(text: string, fail: (why: string) => never): [number, number] {
  const m = /^(\d{1,5})(?::(\d{1,5}))?$/.exec(text);
  if (!m) fail(`bad port ${text}`);
  const lo = Number(m![1]);
  const hi = m![2] === undefined ? lo : Number(m![2]);
  if (lo > hi || hi > 65535) fail(`bad port range ${text}`);
  return [lo, hi];
}
