/**
 * The lab cluster (DESIGN §9): three hosts h1..h3, each a network namespace
 * with eth0 on a bridge in a "fabric" namespace (10.200.0.N/24), a daemon
 * on the embedded store in the root namespace reached by the hosts only
 * through its unix socket (--socket), a romana-agent per host running inside
 * the host's namespace, and pods made by calling the CNI plugin the agent
 * installed, with the conflist the agent wrote — what kubelet would do.
 *
 * Every pod and host runs a probe agent (probe_agent.ts) through which the
 * tests send TCP, UDP and ICMP probes from inside that namespace.
 *
 * Isolation: every namespace has this run's unique prefix; every ip,
 * iptables, ipset command runs inside one of them; the root namespace only
 * hosts the daemon's loopback listener and unix socket. cleanup() kills
 * every process by PID and deletes every namespace by name.
 */
import { mkdirSync, existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupDaemons, http as daemonHttp, startDaemon, tempDir, type DaemonProcess } from '../helpers/daemon.js';
import { NetnsLab, type NsProcess } from '../../src/lab/netns.js';
import { waitFor } from '../../src/lab/poll.js';
import { cniAdd } from '../../src/lab/pods.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const AGENT_MAIN = path.join(REPO, 'dist/src/agent/main.js');
const CNI_BUNDLE = path.join(REPO, 'dist/romana-cni.cjs');
export const PROBE_AGENT = path.join(REPO, 'src/lab/probe_agent.ts');

export const TCP_PORT = 8080;
export const UDP_PORT = 5353;
/** A second TCP port no policy names (a rule with ports must not open it). */
export const OTHER_TCP_PORT = 9090;

export interface ProbeResult {
  ok: boolean;
  peer?: string;
  ref?: number;
  error?: string;
}

/** Talks to one probe agent over its stdin/stdout. */
export class Prober {
  private seq = 0;
  private readonly pending = new Map<number, (r: ProbeResult) => void>();

  constructor(readonly proc: NsProcess) {
    proc.onLine((line) => {
      let o: { id?: number } & ProbeResult;
      try {
        o = JSON.parse(line) as { id?: number } & ProbeResult;
      } catch {
        return;
      }
      if (o.id !== undefined) {
        this.pending.get(o.id)?.(o);
        this.pending.delete(o.id);
      }
    });
  }

  send(probe: { op: string; host?: string; port?: number; ref?: number; timeoutMs?: number }): Promise<ProbeResult> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      // The agent answers every probe within its timeout; this only catches a dead agent.
      const guard = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`probe agent in ${this.proc.ns} did not answer ${JSON.stringify(probe)} (exit ${this.proc.exitCode()}): ${this.proc.stderr().slice(-500)}`));
      }, (probe.timeoutMs ?? 300) + 5000);
      this.pending.set(id, (r) => {
        clearTimeout(guard);
        resolve(r);
      });
      this.proc.send(JSON.stringify({ id, ...probe }));
    });
  }
}

export interface LabHost {
  name: string;
  ns: string;
  ip: string;
  dir: string;
  binDir: string;
  confDir: string;
  healthSocket: string;
  agent: NsProcess | null;
  probe: Prober;
}

export interface LabPod {
  name: string;
  namespace: string;
  host: LabHost;
  ns: string;
  cid: string;
  ip: string;
  labels: Record<string, string>;
  probe: Prober;
  /** The ADD result, for DEL/CHECK. */
  result: any;
}

/** HTTP over a unix socket (the agents' health sockets). */
export function unixHttp(socketPath: string, method: string, urlPath: string, timeoutMs = 10_000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: urlPath, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export class LabCluster {
  readonly lab = new NetnsLab('rl');
  readonly hosts: LabHost[] = [];
  readonly pods: LabPod[] = [];
  fabric = '';
  daemon!: DaemonProcess;
  socket = '';
  private dir = '';
  private tenants = new Set<string>();
  private podSeq = 0;

  /** Namespaces, bridge, daemon, host registrations, probe agents in the hosts. No agents yet. */
  async build(hostCount = 3): Promise<void> {
    const { lab } = this;
    this.dir = tempDir('romana-lab-');
    this.socket = path.join(this.dir, 'daemon.sock');
    this.fabric = await lab.add('fabric');
    await lab.ip(this.fabric, 'link', 'add', 'br0', 'type', 'bridge');
    await lab.ip(this.fabric, 'link', 'set', 'br0', 'up');
    const daemonStarted = startDaemon(['--socket', this.socket]);
    for (let i = 1; i <= hostCount; i++) {
      const name = `h${i}`;
      const ns = await lab.add(name);
      // Both ends are created directly inside the namespaces: nothing ever appears in the root namespace.
      await lab.ip(ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `${name}-port`, 'netns', this.fabric);
      await lab.ip(this.fabric, 'link', 'set', `${name}-port`, 'master', 'br0', 'up');
      const ip = `10.200.0.${i}`;
      await lab.ip(ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
      await lab.ip(ns, 'link', 'set', 'eth0', 'up');
      const dir = path.join(this.dir, name);
      mkdirSync(dir, { recursive: true });
      const probe = new Prober(this.startProbeAgent(ns));
      this.hosts.push({ name, ns, ip, dir, binDir: path.join(dir, 'bin'), confDir: path.join(dir, 'net.d'), healthSocket: path.join(dir, 'agent.sock'), agent: null, probe });
    }
    this.daemon = await daemonStarted;
    for (const h of this.hosts) {
      const r = await daemonHttp(this.daemon.url(), 'POST', '/hosts', { body: { name: h.name, ip: h.ip } });
      if (r.status !== 201) throw new Error(`registering ${h.name} failed: ${r.status} ${r.text}`);
    }
    await Promise.all(this.hosts.map((h) => h.probe.proc.waitForLine(/"ready":true/, 30_000)));
  }

  private startProbeAgent(ns: string): NsProcess {
    return this.lab.spawn(ns, process.execPath, ['--import', 'tsx', PROBE_AGENT, '--tcp', String(TCP_PORT), '--tcp', String(OTHER_TCP_PORT), '--udp', String(UDP_PORT)]);
  }

  host(name: string): LabHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** Starts romana-agent inside the host's namespace; resolves once /readyz answers 200 and the CNI files are installed. */
  async startAgent(h: LabHost, timeoutMs = 30_000): Promise<void> {
    if (!existsSync(AGENT_MAIN)) throw new Error(`${AGENT_MAIN} is missing: build first (npx tsc -p tsconfig.json)`);
    const args = [
      AGENT_MAIN,
      '--node-name', h.name,
      '--node-ip', h.ip,
      '--daemon', `unix:${this.socket}`,
      '--health-port', '0',
      '--health-socket', h.healthSocket,
      '--cni-bin-dir', h.binDir,
      '--cni-conf-dir', h.confDir,
      '--cni-source', CNI_BUNDLE,
      '--log-level', 'info',
    ];
    h.agent = this.lab.spawn(h.ns, process.execPath, args);
    const agent = h.agent;
    await waitFor(
      `romana-agent of ${h.name} to be ready (GET /readyz on ${h.healthSocket})`,
      async () => {
        if (agent.exitCode() !== undefined) throw new Error(`romana-agent of ${h.name} exited (${agent.exitCode()}): ${agent.stderr().slice(-3000)}`);
        if (!existsSync(h.healthSocket)) return false;
        const r = await unixHttp(h.healthSocket, 'GET', '/readyz', 2000);
        return r.status === 200;
      },
      { timeoutMs, intervalMs: 50 },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nagent stderr (last 3000 chars):\n${agent.stderr().slice(-3000)}`);
    });
    await waitFor(`the CNI conflist in ${h.confDir}`, () => existsSync(path.join(h.confDir, '10-romana.conflist')) && existsSync(path.join(h.binDir, 'romana')), {
      timeoutMs,
      intervalMs: 50,
    });
  }

  /** SIGTERM to the agent's PID; resolves with its exit code. */
  async stopAgent(h: LabHost): Promise<number | string> {
    const a = h.agent;
    if (!a) return 'not running';
    a.kill('SIGTERM');
    const code = await Promise.race([a.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 15_000))]);
    if (code === 'timeout') {
      a.kill('SIGKILL');
      await a.exited;
    }
    h.agent = null;
    return code;
  }

  /** The namespace as the listener would register it: a tenant with its metadata.name label. */
  private async ensureNamespace(namespace: string): Promise<void> {
    if (this.tenants.has(namespace)) return;
    const r = await daemonHttp(this.daemon.url(), 'PUT', `/tenants/${namespace}`, { body: { labels: { 'kubernetes.io/metadata.name': namespace } } });
    if (r.status >= 300) throw new Error(`PUT /tenants/${namespace}: ${r.status} ${r.text}`);
    this.tenants.add(namespace);
  }

  /**
   * A pod as kubelet makes one: the listener's record (labels, ports) first,
   * then CNI ADD with the installed binary and conflist inside the host's
   * namespace, then a probe agent inside the pod.
   */
  async addPod(hostName: string, namespace: string, name: string, labels: Record<string, string>): Promise<LabPod> {
    const h = this.host(hostName);
    await this.ensureNamespace(namespace);
    const ep = await daemonHttp(this.daemon.url(), 'PUT', `/endpoints/${namespace}/${name}`, {
      body: {
        labels,
        ports: [
          { name: 'serve-tcp', containerPort: TCP_PORT, protocol: 'TCP' },
          { name: 'serve-udp', containerPort: UDP_PORT, protocol: 'UDP' },
        ],
      },
    });
    if (ep.status >= 300) throw new Error(`PUT /endpoints/${namespace}/${name}: ${ep.status} ${ep.text}`);
    const ns = await this.lab.add(`p${++this.podSeq}`);
    const cid = `${this.lab.prefix}${this.podSeq.toString().padStart(4, '0')}${'0'.repeat(40)}`;
    const add = await cniAdd(this.lab, h, ns, cid, namespace, name);
    const ip = add.ip;
    const probe = new Prober(this.startProbeAgent(ns));
    await probe.proc.waitForLine(/"ready":true/, 30_000);
    const pod: LabPod = { name, namespace, host: h, ns, cid, ip, labels, probe, result: add.json };
    this.pods.push(pod);
    return pod;
  }

  pod(name: string): LabPod {
    const p = this.pods.find((x) => x.name === name);
    if (!p) throw new Error(`no pod ${name}`);
    return p;
  }

  /** Runs a command inside a host's namespace, throwing on failure. */
  sh(h: LabHost, file: string, ...args: string[]): Promise<string> {
    return this.lab.mustExec(h.ns, file, args);
  }

  /** iptables-save of the filter table without counters, the lines that matter for comparisons. */
  async filterRules(h: LabHost): Promise<string[]> {
    const out = await this.sh(h, 'iptables-save', '-t', 'filter');
    return out
      .split('\n')
      .filter((l) => l.startsWith('-A') || (l.startsWith(':') && !/^:(INPUT|FORWARD|OUTPUT) /.test(l)))
      .map((l) => l.replace(/ \[\d+:\d+\]$/, ''));
  }

  async ipsetNames(h: LabHost): Promise<string[]> {
    return (await this.sh(h, 'ipset', 'list', '-n')).split('\n').filter((l) => l !== '').sort();
  }

  async cleanup(): Promise<void> {
    for (const h of this.hosts) if (h.agent) h.agent.kill('SIGKILL');
    await this.lab.cleanup();
    await cleanupDaemons();
  }
}
