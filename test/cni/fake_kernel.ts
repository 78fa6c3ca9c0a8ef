/**
 * A fake `ip`/`nsenter` for in-process CNI tests: a small model of network
 * namespaces (links, veth peers, addresses, routes) that understands
 * exactly the iproute2 commands romana-cni issues and answers them with
 * the same exit codes, JSON and error texts as iproute2 6.1 on this
 * machine (checked by hand against the real commands; the privileged tests
 * run the real ones).
 *
 * Failure injection: `failWhen(pred)` makes the first matching command
 * fail as the kernel would, so tests can break an ADD at any step. Every
 * command is recorded in `calls` (tests assert CHECK issues only reads).
 */
import type { Exec, ExecResult } from '../../src/cni/exec.js';

export interface FakeLink {
  ifindex: number;
  name: string;
  mtu: number;
  up: boolean;
  mac: string;
  /** [namespace key, link name] of the veth peer. */
  peer: [string, string] | null;
  addrs: string[];
}

export interface FakeRoute {
  dst: string;
  gateway?: string;
  dev: string;
  scope?: string;
}

export interface FakeNs {
  links: Map<string, FakeLink>;
  routes: FakeRoute[];
  nextIndex: number;
}

export interface Call {
  file: string;
  args: string[];
  input: string;
  /** The namespace the command ran in. */
  ns: string;
}

export const HOST_NS = 'host';

const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
const fail = (code: number, stderr: string): ExecResult => ({ code, stdout: '', stderr });

/** "/run/netns/x" and "/var/run/netns/x" are one namespace; "x" (ip -n) is that too. */
export function nsKey(pathOrName: string): string {
  const m = /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(pathOrName);
  if (m) return `/var/run/netns/${m[1]}`;
  return pathOrName.includes('/') ? pathOrName : `/var/run/netns/${pathOrName}`;
}

export class FakeKernel {
  readonly namespaces = new Map<string, FakeNs>();
  readonly calls: Call[] = [];
  private macSeq = 0;
  private failures: Array<{ pred: (c: Call, line: string) => boolean; result: ExecResult; once: boolean }> = [];

  constructor() {
    this.addNetns(HOST_NS);
  }

  addNetns(key: string): FakeNs {
    const ns: FakeNs = { links: new Map(), routes: [], nextIndex: 2 };
    ns.links.set('lo', { ifindex: 1, name: 'lo', mtu: 65536, up: false, mac: '00:00:00:00:00:00', peer: null, addrs: [] });
    this.namespaces.set(key === HOST_NS ? key : nsKey(key), ns);
    return ns;
  }

  /** Like `ip netns del`: the namespace's veths die and take their peers with them. */
  deleteNetns(key: string): void {
    const k = nsKey(key);
    const ns = this.namespaces.get(k);
    if (!ns) return;
    for (const l of [...ns.links.values()]) this.removeLink(k, l.name);
    this.namespaces.delete(k);
  }

  ns(key: string): FakeNs {
    const ns = this.namespaces.get(key === HOST_NS ? key : nsKey(key));
    if (!ns) throw new Error(`no namespace ${key}`);
    return ns;
  }

  isNetns = async (path: string): Promise<boolean> => this.namespaces.has(nsKey(path));

  /** The next command (or batch line) matching `pred` fails with `stderr`. */
  failWhen(pred: (c: Call, line: string) => boolean, stderr = 'RTNETLINK answers: Operation not permitted', opts: { once?: boolean } = {}): void {
    this.failures.push({ pred, result: fail(2, stderr), once: opts.once ?? true });
  }

  /** Commands that changed something (everything but show). */
  writes(): Call[] {
    return this.calls.filter((c) => {
      const text = c.args.join(' ') + ' ' + c.input;
      return /\b(add|del|replace|set)\b/.test(text);
    });
  }

  exec: Exec = async (file, args, input = '') => {
    let ns = HOST_NS;
    let rest = [...args];
    if (file === 'nsenter') {
      const netArg = rest.shift() ?? '';
      const path = netArg.replace(/^--net=/, '');
      if (!this.namespaces.has(nsKey(path))) return fail(1, `nsenter: cannot open ${path}: No such file or directory`);
      ns = nsKey(path);
      if (rest.shift() !== 'ip') return fail(127, 'nsenter: only ip is faked');
    } else if (file !== 'ip') {
      return fail(127, `cannot run ${file}: not faked`);
    }
    let json = false;
    let batch = false;
    for (;;) {
      if (rest[0] === '-n') {
        const name = rest[1]!;
        if (!this.namespaces.has(nsKey(name))) return fail(255, `Cannot open network namespace "${name}": No such file or directory`);
        ns = nsKey(name);
        rest = rest.slice(2);
      } else if (rest[0] === '-j') {
        json = true;
        rest = rest.slice(1);
      } else if (rest[0] === '-batch' && rest[1] === '-') {
        batch = true;
        rest = rest.slice(2);
      } else break;
    }
    const call: Call = { file, args: [...args], input, ns };
    this.calls.push(call);
    const lines = batch ? input.split('\n').filter((l) => l.trim() !== '') : [rest.join(' ')];
    let stdout = '';
    for (let i = 0; i < lines.length; i++) {
      const injected = this.failures.find((f) => f.pred(call, lines[i]!));
      let r: ExecResult;
      if (injected) {
        if (injected.once) this.failures.splice(this.failures.indexOf(injected), 1);
        r = injected.result;
      } else r = this.run(ns, lines[i]!.split(/\s+/), json);
      if (r.code !== 0) {
        return { code: batch ? 1 : r.code, stdout, stderr: r.stderr + (batch ? `\nCommand failed -:${i + 1}\n` : '') };
      }
      stdout += r.stdout;
    }
    return ok(stdout);
  };

  /** Like `ip link del`: a veth takes its peer along. */
  deleteLink(key: string, name: string): void {
    this.removeLink(key === HOST_NS ? key : nsKey(key), name);
  }

  private removeLink(nsk: string, name: string): void {
    const ns = this.namespaces.get(nsk)!;
    const l = ns.links.get(name);
    if (!l) return;
    ns.links.delete(name);
    ns.routes = ns.routes.filter((r) => r.dev !== name);
    if (l.peer) {
      const [pk, pn] = l.peer;
      const pns = this.namespaces.get(pk);
      if (pns?.links.get(pn)?.peer) {
        pns.links.get(pn)!.peer = null;
        this.removeLink(pk, pn);
      }
    }
  }

  private linkJson(ns: FakeNs, l: FakeLink, withAddrs: boolean): Record<string, unknown> {
    const flags = l.name === 'lo' ? ['LOOPBACK'] : ['BROADCAST', 'MULTICAST'];
    if (l.up) flags.push('UP', 'LOWER_UP');
    const o: Record<string, unknown> = { ifindex: l.ifindex };
    const peer = l.peer ? this.namespaces.get(l.peer[0])?.links.get(l.peer[1]) : undefined;
    if (peer) o.link_index = peer.ifindex;
    Object.assign(o, { ifname: l.name, flags, mtu: l.mtu, address: l.mac });
    if (withAddrs) {
      o.addr_info = l.addrs.map((a) => {
        const [local, len] = a.split('/');
        return { family: 'inet', local, prefixlen: Number(len), scope: 'global', label: l.name };
      });
    }
    void ns;
    return o;
  }

  private run(nsk: string, w: string[], json: boolean): ExecResult {
    const ns = this.namespaces.get(nsk)!;
    const noDev = (d: string): ExecResult => fail(1, `Device "${d}" does not exist.`);
    const cannotFind = (d: string): ExecResult => fail(1, `Cannot find device "${d}"`);
    const [obj, verb] = w;
    if ((obj === 'addr' || obj === 'link') && verb === 'show' && w[2] === 'dev') {
      const l = ns.links.get(w[3]!);
      if (!l) return noDev(w[3]!);
      return ok((json ? JSON.stringify([this.linkJson(ns, l, obj === 'addr')]) : l.name) + '\n');
    }
    if (obj === 'route' && verb === 'show' && w[2] === 'dev') {
      if (!ns.links.has(w[3]!)) return cannotFind(w[3]!);
      const routes = ns.routes
        .filter((r) => r.dev === w[3])
        .map((r) => ({ dst: r.dst, ...(r.gateway ? { gateway: r.gateway } : {}), ...(r.scope ? { scope: r.scope } : {}), flags: [] }));
      return ok(JSON.stringify(routes) + '\n');
    }
    if (obj === 'link' && verb === 'add') {
      // link add H mtu M type veth peer name P mtu M netns PATH
      const h = w[2]!;
      const mtu = Number(w[4]);
      const peerName = w[9]!;
      const target = w[13]!;
      const tk = nsKey(target);
      if (!this.namespaces.has(tk)) return fail(255, `Error: argument "${target}" is wrong: Invalid "netns" value\n`);
      const tns = this.namespaces.get(tk)!;
      if (ns.links.has(h) || tns.links.has(peerName)) return fail(2, 'RTNETLINK answers: File exists\n');
      const a: FakeLink = { ifindex: ns.nextIndex++, name: h, mtu, up: false, mac: this.mac(), peer: [tk, peerName], addrs: [] };
      const b: FakeLink = { ifindex: tns.nextIndex++, name: peerName, mtu, up: false, mac: this.mac(), peer: [nsk, h], addrs: [] };
      ns.links.set(h, a);
      tns.links.set(peerName, b);
      return ok();
    }
    if (obj === 'link' && verb === 'set') {
      const l = ns.links.get(w[2]!);
      if (!l) return cannotFind(w[2]!);
      for (let i = 3; i < w.length; i++) {
        if (w[i] === 'up') l.up = true;
        else if (w[i] === 'mtu') l.mtu = Number(w[++i]);
      }
      return ok();
    }
    if (obj === 'link' && verb === 'del' && w[2] === 'dev') {
      if (!ns.links.has(w[3]!)) return cannotFind(w[3]!);
      this.removeLink(nsk, w[3]!);
      return ok();
    }
    if (obj === 'addr' && verb === 'replace' && w[3] === 'dev') {
      const l = ns.links.get(w[4]!);
      if (!l) return cannotFind(w[4]!);
      if (!l.addrs.includes(w[2]!)) l.addrs.push(w[2]!);
      return ok();
    }
    if (obj === 'route' && verb === 'replace') {
      // route replace DST [via GW] dev X [scope link]
      let dst = w[2]!;
      if (dst.endsWith('/32')) dst = dst.slice(0, -3);
      let i = 3;
      let gateway: string | undefined;
      if (w[i] === 'via') {
        gateway = w[i + 1];
        i += 2;
      }
      if (w[i] !== 'dev') return fail(1, 'Error: unsupported route in fake');
      const dev = w[i + 1]!;
      const l = ns.links.get(dev);
      if (!l) return cannotFind(dev);
      if (!l.up) return fail(2, 'Error: Nexthop device is not up.');
      if (gateway && !ns.routes.some((r) => r.dst === gateway && r.dev === dev)) return fail(2, 'Error: Nexthop has invalid gateway.');
      const scope = w[i + 2] === 'scope' ? w[i + 3] : undefined;
      ns.routes = ns.routes.filter((r) => r.dst !== dst);
      ns.routes.push({ dst, dev, ...(gateway ? { gateway } : {}), ...(scope ? { scope } : {}) });
      return ok();
    }
    return fail(255, `Object/command "${w.join(' ')}" is unknown to the fake, try "ip help".`);
  }

  private mac(): string {
    const n = ++this.macSeq;
    return `02:00:00:00:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
  }
}
