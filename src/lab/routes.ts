/**
 * Reading the lab's route tables back from the kernel (never from what the
 * lab meant to install): each host's tables against its bound, each
 * router's BGP-learned table, and the hop-by-hop path of a packet as the
 * kernels' own lookups (`ip route get`) give it.
 */
import { daemonBlocks, type DaemonBlock } from './daemon_client.js';
import { run } from './netns.js';
import { byPrefix, covers, ownerOf } from './plan.js';
import type { LabPodState, LabState, LabTorState } from './state.js';

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  type?: string;
  protocol?: string;
  scope?: string;
}

async function ipRoutes(ns: string, ...args: string[]): Promise<IpRoute[]> {
  const r = await run('ip', ['-j', '-n', ns, 'route', 'show', ...args]);
  if (r.code !== 0 || r.stdout.trim() === '') return [];
  try {
    return JSON.parse(r.stdout) as IpRoute[];
  } catch {
    return [];
  }
}

const prefix = (dst: string): string => (dst === 'default' ? '0.0.0.0/0' : dst.includes('/') ? dst : `${dst}/32`);
const text = (r: IpRoute): string => `${r.type && r.type !== 'unicast' ? `${r.type} ` : ''}${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`;

export interface HostRoutes {
  host: string;
  /** Romana's table (10), every route: rack-mates' blocks via them, this host's blocks as throw. */
  table10: string[];
  /** Main's routes through a next hop (the default via the ToR). */
  mainVia: string[];
  /** Main's directly attached routes, not counted: the rack subnet and one /32 per local pod (CNI). */
  mainLink: number;
  counted: number;
  /** Hosts in its group + number of groups. */
  bound: number;
}

export const COUNTED = 'counted: all of table 10 + main\'s routes via a next hop; not counted: main\'s directly attached routes (the rack subnet, local pods\' /32s)';

/** Every host's routes that steer traffic to other hosts, against the bound (hosts in its group + groups). */
export async function hostRoutes(st: LabState): Promise<HostRoutes[]> {
  return Promise.all(
    st.hosts.map(async (h) => {
      const [t10, main] = await Promise.all([ipRoutes(h.ns, 'table', '10'), ipRoutes(h.ns, 'table', 'main')]);
      const via = main.filter((r) => r.gateway !== undefined);
      const bound = st.hosts.filter((x) => x.rack === h.rack).length + st.racks.length;
      return { host: h.name, table10: t10.map(text), mainVia: via.map(text), mainLink: main.length - via.length, counted: t10.length + via.length, bound };
    }),
  );
}

export interface RouterRoute {
  dst: string;
  via: string;
  /** What the route stands for: "h1", "rack r2 (aggregate)", "own group (unreachable)". */
  label: string;
}

export interface RouterTable {
  name: string;
  ns: string;
  routes: RouterRoute[];
}

/** Kernel routes BIRD installed in a router (proto bird), labelled by what they lead to. */
async function birdRoutes(st: LabState, ns: string): Promise<RouterRoute[]> {
  const raw = await ipRoutes(ns, 'proto', 'bird');
  return raw
    .map((r) => {
      const dst = prefix(r.dst);
      const via = r.gateway ?? '';
      const tor = st.tors.find((t) => t.groupCidr === dst);
      const sub = st.tors.find((t) => t.subnet === dst);
      let label: string;
      if (r.type === 'unreachable') label = `${tor ? `prefix group of rack ${tor.rack}` : 'aggregate'} (unreachable: what no host announces stops here)`;
      else if (tor) label = `rack ${tor.rack}: its whole prefix group, one route via ${ownerOf(st, via) ?? via}`;
      else if (sub) label = `rack ${sub.rack}'s subnet via ${ownerOf(st, via) ?? via}`;
      else label = ownerOf(st, via) ?? '';
      return { dst, via: r.type === 'unreachable' ? 'unreachable' : via, label };
    })
    .sort((a, b) => byPrefix(a.dst, b.dst));
}

export async function routerTables(st: LabState): Promise<RouterTable[]> {
  return Promise.all([...st.tors, st.spine].map(async (r) => ({ name: r.name, ns: r.ns, routes: await birdRoutes(st, r.ns) })));
}

export interface TorCheck {
  tor: LabTorState;
  /** Blocks of the rack's hosts that no route covers with that host as next hop. */
  missing: string[];
  /** Other racks not reached through exactly their aggregate (or reached through anything finer). */
  unaggregated: string[];
}

/**
 * Each ToR learned every block of its rack's hosts from that host, and
 * reaches every other rack through that rack's aggregate only (no other
 * rack's block appears in its table).
 */
export function checkTors(st: LabState, tables: RouterTable[], blocks: DaemonBlock[]): TorCheck[] {
  return st.tors.map((tor) => {
    const routes = tables.find((t) => t.name === tor.name)?.routes ?? [];
    const missing: string[] = [];
    for (const h of st.hosts.filter((x) => x.rack === tor.rack)) {
      for (const b of blocks.filter((x) => x.host === h.name)) if (!routes.some((r) => r.via === h.ip && covers(r.dst, b.cidr))) missing.push(`${b.cidr} of ${h.name}`);
    }
    const unaggregated: string[] = [];
    for (const o of st.tors.filter((x) => x !== tor)) {
      const inside = routes.filter((r) => covers(o.groupCidr, r.dst));
      if (!(inside.length === 1 && inside[0]!.dst === o.groupCidr && inside[0]!.via === st.spine.ip)) {
        unaggregated.push(`rack ${o.rack}: ${inside.length === 0 ? 'no route' : inside.map((r) => `${r.dst} via ${r.via}`).join(', ')} (want ${o.groupCidr} via the spine ${st.spine.ip})`);
      }
    }
    return { tor, missing, unaggregated };
  });
}

export async function torChecks(st: LabState): Promise<{ tables: RouterTable[]; checks: TorCheck[] }> {
  const [tables, blocks] = await Promise.all([routerTables(st), daemonBlocks(st.socket)]);
  return { tables, checks: checkTors(st, tables, blocks) };
}

/** A pod in the first rack and one in the last, when the lab has two racks or more. */
export function crossRackPair(st: LabState): [LabPodState, LabPodState] | null {
  const rackOf = (p: LabPodState): string => st.hosts.find((h) => h.name === p.host)!.rack;
  const a = st.pods.find((p) => rackOf(p) === st.racks[0]);
  const b = [...st.pods].reverse().find((p) => rackOf(p) !== st.racks[0]);
  return a && b ? [a, b] : null;
}

/**
 * The machines a packet from `from` to `dst` crosses, by asking each
 * namespace's kernel for its route (`ip route get`, policy rules and table
 * 10 included) and following the next hop to the namespace that owns it.
 */
export async function tracePath(st: LabState, from: LabPodState, dst: string): Promise<string[]> {
  const nsOf = new Map<string, string>([...st.hosts.map((h) => [h.name, h.ns] as const), ...st.tors.map((t) => [t.name, t.ns] as const), [st.spine.name, st.spine.ns], ['dns', st.dns.ns]]);
  const hops = [from.name, from.host];
  let at = from.host;
  for (let i = 0; i < 8; i++) {
    const r = await run('ip', ['-j', '-n', nsOf.get(at)!, 'route', 'get', dst]);
    let gw: string | undefined;
    try {
      gw = (JSON.parse(r.stdout) as IpRoute[])[0]?.gateway;
    } catch {
      return [...hops, '?'];
    }
    if (gw === undefined) {
      const pod = st.pods.find((p) => p.ip === dst);
      const last = pod?.name ?? ownerOf(st, dst) ?? dst;
      return pod && pod.host !== at ? [...hops, '?'] : [...hops, last];
    }
    const next = ownerOf(st, gw);
    if (next === null) return [...hops, gw];
    hops.push(next);
    at = next;
  }
  return [...hops, '…'];
}
