/**
 * The kernel side of an attachment, through iproute2: a veth pair whose
 * host end is in the plugin's own network namespace and whose pod end is
 * CNI_IFNAME in CNI_NETNS (the recipe of machine-notes §3):
 *
 *   pod:  <ip>/32 on ifname; 169.254.1.1 dev ifname scope link;
 *         default via 169.254.1.1 dev ifname
 *   host: 169.254.1.1/32 on the veth (proxy ARP without an address fails
 *         on this kernel); <ip>/32 dev veth scope link
 *
 * Design:
 * - Writes are idempotent (`addr replace`, `route replace`, `link set`),
 *   so a retried ADD converges instead of failing on "File exists".
 * - Each side is programmed by one `ip -batch` (one process, or two with
 *   nsenter), the batch ending in `link show` so the MAC comes back in the
 *   same call: an ADD costs three or four process starts.
 * - The pod side runs `ip -n NAME` when CNI_NETNS is a named namespace
 *   (/var/run/netns/NAME), else `nsenter --net=PATH ip` (runtimes such as
 *   containerd pass /var/run/netns/cni-…, others /proc/PID/ns/net).
 * - Reads (`ip -j`) return null for a missing device and throw for
 *   anything else; a namespace that cannot be entered is code 3.
 *
 * Concurrency rule: stateless; each call is one or two processes.
 */
import { CniError, CNI_CODE } from './errors.js';
import type { Exec, ExecResult } from './exec.js';
import { GATEWAY } from './naming.js';

export interface AddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  scope?: string;
}

/** The fields of `ip -j addr show` the plugin uses. */
export interface LinkInfo {
  ifindex: number;
  /** Index of the veth peer (in the peer's namespace). */
  link_index?: number;
  ifname: string;
  flags: string[];
  mtu: number;
  address: string;
  addr_info?: AddrInfo[];
}

/** The fields of `ip -j route show dev X` the plugin uses. */
export interface RouteInfo {
  dst: string;
  gateway?: string;
  scope?: string;
}

const NAMED_NETNS_RE = /^\/(?:var\/)?run\/netns\/([^/]+)$/;
const MISSING_DEVICE_RE = /does not exist|Cannot find device/;
const NETNS_UNUSABLE_RE = /Cannot open network namespace|nsenter: (cannot open|reassociate)|Invalid "netns" value/;

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
}

/** The last JSON array `ip -j` printed (a batch prints one per `show`). */
function lastJson<T>(stdout: string): T[] {
  const lines = stdout.split('\n').filter((l) => l.trim().startsWith('['));
  if (lines.length === 0) return [];
  return JSON.parse(lines[lines.length - 1]!) as T[];
}

export class Net {
  constructor(private readonly exec: Exec) {}

  /** `ip` in the plugin's namespace. */
  private host(args: readonly string[], input?: string): Promise<ExecResult> {
    return this.exec('ip', args, input);
  }

  /** `ip` inside the pod's namespace. */
  private pod(netns: string, args: readonly string[], input?: string): Promise<ExecResult> {
    const m = NAMED_NETNS_RE.exec(netns);
    if (m) return this.exec('ip', ['-n', m[1]!, ...args], input);
    return this.exec('nsenter', [`--net=${netns}`, 'ip', ...args], input);
  }

  private podFailure(netns: string, what: string, r: ExecResult): CniError {
    if (NETNS_UNUSABLE_RE.test(r.stderr)) {
      return new CniError(CNI_CODE.UNKNOWN_CONTAINER, `Network namespace "${netns}" cannot be entered: ${firstLine(r.stderr)}`, r.stderr.trim());
    }
    return new CniError(CNI_CODE.IO_FAILURE, `${what} failed: ${firstLine(r.stderr)}`, r.stderr.trim());
  }

  async hostLink(name: string): Promise<LinkInfo | null> {
    const r = await this.host(['-j', 'addr', 'show', 'dev', name]);
    if (r.code !== 0) {
      if (MISSING_DEVICE_RE.test(r.stderr)) return null;
      throw new CniError(CNI_CODE.IO_FAILURE, `Reading interface "${name}" failed: ${firstLine(r.stderr)}`, r.stderr.trim());
    }
    return lastJson<LinkInfo>(r.stdout)[0] ?? null;
  }

  async podLink(netns: string, ifname: string): Promise<LinkInfo | null> {
    const r = await this.pod(netns, ['-j', 'addr', 'show', 'dev', ifname]);
    if (r.code !== 0) {
      if (MISSING_DEVICE_RE.test(r.stderr)) return null;
      throw this.podFailure(netns, `Reading interface "${ifname}" in "${netns}"`, r);
    }
    return lastJson<LinkInfo>(r.stdout)[0] ?? null;
  }

  async hostRoutes(dev: string): Promise<RouteInfo[]> {
    const r = await this.host(['-j', 'route', 'show', 'dev', dev]);
    if (r.code !== 0) {
      if (MISSING_DEVICE_RE.test(r.stderr)) return [];
      throw new CniError(CNI_CODE.IO_FAILURE, `Reading routes of "${dev}" failed: ${firstLine(r.stderr)}`, r.stderr.trim());
    }
    return lastJson<RouteInfo>(r.stdout);
  }

  async podRoutes(netns: string, ifname: string): Promise<RouteInfo[]> {
    const r = await this.pod(netns, ['-j', 'route', 'show', 'dev', ifname]);
    if (r.code !== 0) {
      if (MISSING_DEVICE_RE.test(r.stderr)) return [];
      throw this.podFailure(netns, `Reading routes of "${ifname}" in "${netns}"`, r);
    }
    return lastJson<RouteInfo>(r.stdout);
  }

  /** Creates the pair with the pod end already named and placed in `netns`. */
  async createVeth(hostName: string, ifname: string, netns: string, mtu: number): Promise<void> {
    const m = String(mtu);
    const r = await this.host(['link', 'add', hostName, 'mtu', m, 'type', 'veth', 'peer', 'name', ifname, 'mtu', m, 'netns', netns]);
    if (r.code === 0) return;
    if (/File exists/.test(r.stderr)) {
      throw new CniError(
        CNI_CODE.IO_FAILURE,
        `Creating veth "${hostName}" to "${ifname}" in "${netns}" failed: an interface of that name already exists on one side`,
        r.stderr.trim(),
      );
    }
    if (NETNS_UNUSABLE_RE.test(r.stderr) || /Invalid argument/.test(r.stderr)) {
      throw new CniError(CNI_CODE.UNKNOWN_CONTAINER, `Network namespace "${netns}" cannot be used: ${firstLine(r.stderr)}`, r.stderr.trim());
    }
    throw new CniError(CNI_CODE.IO_FAILURE, `Creating veth "${hostName}" failed: ${firstLine(r.stderr)}`, r.stderr.trim());
  }

  /** Address, link-local gateway route and default route in the pod; returns the interface. */
  async configurePod(netns: string, ifname: string, ip: string, mtu: number): Promise<LinkInfo> {
    const batch = [
      'link set lo up',
      `link set ${ifname} mtu ${mtu} up`,
      `addr replace ${ip}/32 dev ${ifname}`,
      `route replace ${GATEWAY} dev ${ifname} scope link`,
      `route replace default via ${GATEWAY} dev ${ifname}`,
      `link show dev ${ifname}`,
    ];
    const r = await this.pod(netns, ['-j', '-batch', '-'], batch.join('\n') + '\n');
    if (r.code !== 0) throw this.podFailure(netns, `Configuring "${ifname}" in "${netns}"`, r);
    const link = lastJson<LinkInfo>(r.stdout)[0];
    if (!link) throw new CniError(CNI_CODE.IO_FAILURE, `Configuring "${ifname}" in "${netns}" printed no interface`, r.stdout);
    return link;
  }

  /** Gateway address and the pod's /32 route on the host end; returns the interface. */
  async configureHost(veth: string, ip: string, mtu: number): Promise<LinkInfo> {
    const batch = [
      `link set ${veth} mtu ${mtu} up`,
      `addr replace ${GATEWAY}/32 dev ${veth}`,
      `route replace ${ip}/32 dev ${veth} scope link`,
      `link show dev ${veth}`,
    ];
    const r = await this.host(['-j', '-batch', '-'], batch.join('\n') + '\n');
    if (r.code !== 0) throw new CniError(CNI_CODE.IO_FAILURE, `Configuring "${veth}" failed: ${firstLine(r.stderr)}`, r.stderr.trim());
    const link = lastJson<LinkInfo>(r.stdout)[0];
    if (!link) throw new CniError(CNI_CODE.IO_FAILURE, `Configuring "${veth}" printed no interface`, r.stdout);
    return link;
  }

  /** Deletes a host interface (a veth takes its peer, addresses and routes with it); false if it was not there. */
  async deleteLink(name: string): Promise<boolean> {
    const r = await this.host(['link', 'del', 'dev', name]);
    if (r.code === 0) return true;
    if (MISSING_DEVICE_RE.test(r.stderr)) return false;
    throw new CniError(CNI_CODE.IO_FAILURE, `Deleting "${name}" failed: ${firstLine(r.stderr)}`, r.stderr.trim());
  }
}

/** True when `pod` is the veth peer of `host` (each names the other's index). */
export function arePeers(host: LinkInfo, pod: LinkInfo): boolean {
  return host.link_index === pod.ifindex && pod.link_index === host.ifindex;
}

export function hasAddress(link: LinkInfo, ip: string, prefixlen: number): boolean {
  return (link.addr_info ?? []).some((a) => a.family === 'inet' && a.local === ip && a.prefixlen === prefixlen);
}

export function isUp(link: LinkInfo): boolean {
  return link.flags.includes('UP');
}
