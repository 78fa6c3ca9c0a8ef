/**
 * Builds the lab's namespaces and L2 segments from the plan (plan.ts):
 * `<prefix>-fabric` holds one bridge per rack (`rack1`, …) and one for the
 * spine (`spine`) — separate bridges, so separate broadcast domains; every
 * other namespace reaches them through a veth whose far end is a port of
 * one bridge. Both ends of every veth are created directly inside lab
 * namespaces: nothing ever appears in the root namespace.
 *
 *   host hN   eth0 → rackK        10.200.K.N/24, default via its ToR
 *   ToR K     eth0 → rackK        10.200.K.254/24 (the rack's gateway)
 *             eth1 → spine        10.200.0.(10+K)/24, forwarding on
 *   spine     eth0 → spine        10.200.0.1/24, forwarding on
 *   dns       eth0 → spine        10.200.0.53/24, default via the spine
 *
 * Routes between racks are not configured here: BGP puts them on the ToRs
 * and the spine (bird_conf.ts), the agents on the hosts.
 */
import type { NetnsLab } from './netns.js';
import type { LabState } from './state.js';

/** Names inside the fabric namespace. */
export const rackBridge = (rack: string): string => `rack${rack.replace(/^r/, '')}`;
export const SPINE_BRIDGE = 'spine';

async function bridge(lab: NetnsLab, fabric: string, name: string): Promise<void> {
  await lab.ip(fabric, 'link', 'add', name, 'type', 'bridge');
  await lab.ip(fabric, 'link', 'set', name, 'up');
}

/** A veth from `ns` (named `dev`, with `cidr`) to a port `port` of bridge `br` in the fabric. */
async function attach(lab: NetnsLab, fabric: string, ns: string, dev: string, port: string, br: string, cidr: string): Promise<void> {
  await lab.ip(ns, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', port, 'netns', fabric);
  await lab.ip(fabric, 'link', 'set', port, 'master', br, 'up');
  await lab.ip(ns, 'addr', 'add', cidr, 'dev', dev);
  await lab.ip(ns, 'link', 'set', dev, 'up');
}

const len = (subnet: string): string => subnet.split('/')[1]!;

async function forwarding(lab: NetnsLab, ns: string): Promise<void> {
  await lab.mustExec(ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
}

/** Every namespace, bridge, veth, address and static route of the plan (not the pods). */
export async function buildFabric(lab: NetnsLab, st: LabState): Promise<void> {
  const short = (ns: string): string => ns.slice(st.prefix.length + 1);
  await lab.add(short(st.fabric));
  await bridge(lab, st.fabric, SPINE_BRIDGE);
  for (const t of st.tors) await bridge(lab, st.fabric, rackBridge(t.rack));

  await lab.add(short(st.spine.ns));
  await attach(lab, st.fabric, st.spine.ns, 'eth0', 'spine-port', SPINE_BRIDGE, `${st.spine.ip}/${len(st.spine.subnet)}`);
  await forwarding(lab, st.spine.ns);

  for (const t of st.tors) {
    await lab.add(short(t.ns));
    await attach(lab, st.fabric, t.ns, 'eth0', `${t.name}-rack`, rackBridge(t.rack), `${t.ip}/${len(t.subnet)}`);
    await attach(lab, st.fabric, t.ns, 'eth1', `${t.name}-spine`, SPINE_BRIDGE, `${t.spineIp}/${len(st.spine.subnet)}`);
    await forwarding(lab, t.ns);
  }

  for (const h of st.hosts) {
    await lab.add(short(h.ns));
    await attach(lab, st.fabric, h.ns, 'eth0', `${h.name}-port`, rackBridge(h.rack), `${h.ip}/${len(h.subnet)}`);
    // Other racks are behind the ToR: one default route, which is also why
    // the agent leaves their hosts' blocks to it (reached through a gateway).
    await lab.ip(h.ns, 'route', 'add', 'default', 'via', h.gateway, 'dev', 'eth0');
  }

  await lab.add(short(st.dns.ns));
  await attach(lab, st.fabric, st.dns.ns, 'eth0', 'dns-port', SPINE_BRIDGE, `${st.dns.ip}/${len(st.spine.subnet)}`);
  await lab.ip(st.dns.ns, 'route', 'add', 'default', 'via', st.spine.ip, 'dev', 'eth0');
}

/** Namespaces a complete lab has (for status). */
export function expectedNamespaces(st: LabState): string[] {
  return [st.fabric, st.spine.ns, st.dns.ns, ...st.tors.map((t) => t.ns), ...st.hosts.map((h) => h.ns), ...st.pods.map((p) => p.ns)];
}
