/**
 * The VIP driver: the Romana VIPs this node holds, as /32 addresses on one
 * interface, each announced with gratuitous ARP when it comes up.
 *
 * Design (STYLE §1, §2): callers give the desired set; only `apply()`
 * touches the kernel. It reads the interface's addresses back
 * (`ip -j -4 addr show dev IF`), and adds and deletes only the difference.
 * Ownership is marked in the kernel: every VIP is added with the label
 * `<IF>:rv`, and only /32 addresses carrying that label are ever deleted —
 * so a restarted agent with no memory removes its own VIPs and nothing
 * else (the node IP, addresses an operator added).
 *
 * Announcing: `arping -U -S VIP -c 2 -i IF VIP` (Debian package `arping`), started
 * after the add and not awaited (it takes a second between its packets);
 * a missing arping is reported once, the VIP still comes up (neighbours then
 * learn the move when their ARP entries expire).
 *
 * Concurrency rule: one apply at a time (the keeper serialises).
 */
import { spawn } from 'node:child_process';
import { DriverError, type Exec } from '../shims/exec.js';

export const VIP_LABEL_SUFFIX = ':rv';

export interface VipApplyResult {
  added: string[];
  removed: string[];
}

export interface VipDriverOptions {
  /** --vip-interface, or undefined: the interface holding `nodeIp`. */
  interface?: string;
  nodeIp: string | null;
  /** Sends the gratuitous ARP (default: spawn arping, not awaited). */
  announce?: (iface: string, vip: string) => void;
  onAnnounceError?: (err: Error) => void;
}

interface AddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
  label?: string;
}

export class VipDriver {
  private iface: string | null;

  constructor(
    private readonly exec: Exec,
    private readonly o: VipDriverOptions,
  ) {
    this.iface = o.interface ?? null;
  }

  /** The interface VIPs go on (resolved from --node-ip on first use). */
  async interfaceName(): Promise<string> {
    if (this.iface !== null) return this.iface;
    if (this.o.nodeIp === null) throw new DriverError('vips', 'Cannot choose the VIP interface: give --vip-interface or --node-ip', 'ip -j -4 addr show', '');
    const r = await this.exec.run('ip', ['-j', '-4', 'addr', 'show']);
    if (r.code !== 0) throw new DriverError('vips', `ip addr show failed: ${r.stderr.trim()}`, 'ip -j -4 addr show', r.stderr);
    const links = JSON.parse(r.stdout || '[]') as Array<{ ifname?: string; addr_info?: AddrInfo[] }>;
    const link = links.find((l) => l.addr_info?.some((a) => a.local === this.o.nodeIp));
    if (!link?.ifname) throw new DriverError('vips', `No interface holds --node-ip ${this.o.nodeIp}: give --vip-interface`, 'ip -j -4 addr show', '');
    this.iface = link.ifname;
    return this.iface;
  }

  /** The VIPs this agent owns on the interface now (labelled /32s). */
  async owned(): Promise<string[]> {
    const iface = await this.interfaceName();
    const r = await this.exec.run('ip', ['-j', '-4', 'addr', 'show', 'dev', iface]);
    if (r.code !== 0) throw new DriverError('vips', `ip addr show dev ${iface} failed: ${r.stderr.trim()}`, `ip -j -4 addr show dev ${iface}`, r.stderr);
    const links = JSON.parse(r.stdout || '[]') as Array<{ addr_info?: AddrInfo[] }>;
    const label = `${iface}${VIP_LABEL_SUFFIX}`;
    const out: string[] = [];
    for (const l of links) for (const a of l.addr_info ?? []) if (a.local && a.prefixlen === 32 && a.label === label) out.push(a.local);
    return out.sort();
  }

  /** Makes the labelled /32s on the interface exactly `desired`. */
  async apply(desired: ReadonlySet<string>): Promise<VipApplyResult> {
    const iface = await this.interfaceName();
    const have = new Set(await this.owned());
    const removed: string[] = [];
    const added: string[] = [];
    // Removals first: giving an address up must never wait behind bringing others up.
    for (const vip of have) {
      if (desired.has(vip)) continue;
      const r = await this.exec.run('ip', ['addr', 'del', `${vip}/32`, 'dev', iface]);
      if (r.code !== 0 && !/Cannot assign requested address/i.test(r.stderr)) {
        throw new DriverError('vips', `Removing VIP ${vip} from ${iface} failed: ${r.stderr.trim()}`, `ip addr del ${vip}/32 dev ${iface}`, r.stderr);
      }
      removed.push(vip);
    }
    for (const vip of [...desired].sort()) {
      if (have.has(vip)) continue;
      const args = ['addr', 'add', `${vip}/32`, 'dev', iface, 'label', `${iface}${VIP_LABEL_SUFFIX}`];
      const r = await this.exec.run('ip', args);
      if (r.code !== 0 && !/File exists/i.test(r.stderr)) {
        throw new DriverError('vips', `Adding VIP ${vip} to ${iface} failed: ${r.stderr.trim()}`, `ip ${args.join(' ')}`, r.stderr);
      }
      added.push(vip);
      (this.o.announce ?? this.spawnArping)(iface, vip);
    }
    return { added, removed };
  }

  private readonly spawnArping = (iface: string, vip: string): void => {
    // Debian's arping (Habets) keeps the interface's primary address as the sender unless -S names
    // the VIP; only sender == target makes it a gratuitous ARP that overrides neighbours' entries.
    const child = spawn('arping', ['-q', '-U', '-S', vip, '-c', '2', '-i', iface, vip], { stdio: 'ignore' });
    child.once('error', (e) => this.o.onAnnounceError?.(e));
    child.unref();
  };
}
