/**
 * In-memory stand-ins for the daemon and the agent (the DaemonApi and
 * AgentApi the plugin is given), plus a harness that runs one CNI
 * invocation in-process against them and the fake kernel.
 *
 * The fake daemon keeps the semantics the plugin relies on: allocation
 * idempotent by name and only on registered hosts, release by name
 * answering "not found" as null, endpoint records keyed ns/pod — and can
 * play an older daemon without endpoint routes (`endpoints: false`).
 */
import { RomanaError } from '../../src/core/errors.js';
import type { CniConfig } from '../../src/cni/config.js';
import { UNSUPPORTED, type AddressInfo, type AgentApi, type DaemonApi, type EndpointInfo, type EndpointPatch } from '../../src/cni/daemon_client.js';
import { runCni, type CniDeps } from '../../src/cni/plugin.js';
import { FakeKernel } from './fake_kernel.js';

export class FakeDaemon implements DaemonApi {
  readonly hosts = new Set<string>(['node-a']);
  readonly addresses = new Map<string, AddressInfo>();
  readonly endpoints = new Map<string, EndpointInfo>();
  readonly log: string[] = [];
  endpointsSupported = true;
  reachable = true;
  isReady = true;
  /** Throws this from the named method once. */
  private failures = new Map<string, Error>();
  private next = 2;
  closed = 0;

  failNext(method: keyof DaemonApi, e: Error): void {
    this.failures.set(method, e);
  }

  private enter(method: string, detail = ''): void {
    this.log.push(`${method}${detail ? ` ${detail}` : ''}`);
    if (!this.reachable) throw new RomanaError('DAEMON_UNREACHABLE', `Cannot reach the romana daemon at unix:/fake (${method}): connect ECONNREFUSED`);
    const f = this.failures.get(method);
    if (f) {
      this.failures.delete(method);
      throw f;
    }
  }

  /** Writes only: what CHECK must never do. */
  writes(): string[] {
    return this.log.filter((l) => /^(allocate|release|putEndpoint|deleteEndpoint)/.test(l));
  }

  async allocate(req: { name: string; host: string; tenant: string; segment: string }): Promise<string> {
    this.enter('allocate', `${req.name} ${req.tenant}/${req.segment}`);
    const had = this.addresses.get(req.name);
    if (had) return had.ip;
    if (!this.hosts.has(req.host)) throw new RomanaError('HOST_NOT_FOUND', `Host "${req.host}" is not registered: cannot allocate "${req.name}"`);
    const ip = `10.112.0.${this.next++}`;
    this.addresses.set(req.name, { name: req.name, ip, host: req.host, tenant: req.tenant, segment: req.segment });
    return ip;
  }

  async getAddress(name: string): Promise<AddressInfo | null> {
    this.enter('getAddress', name);
    return this.addresses.get(name) ?? null;
  }

  async release(name: string): Promise<AddressInfo | null> {
    this.enter('release', name);
    const a = this.addresses.get(name) ?? null;
    this.addresses.delete(name);
    return a;
  }

  async listAddresses(host: string): Promise<AddressInfo[]> {
    this.enter('listAddresses', host);
    return [...this.addresses.values()].filter((a) => a.host === host);
  }

  async getEndpoint(namespace: string, pod: string): Promise<EndpointInfo | null | typeof UNSUPPORTED> {
    this.enter('getEndpoint', `${namespace}/${pod}`);
    if (!this.endpointsSupported) return UNSUPPORTED;
    return this.endpoints.get(`${namespace}/${pod}`) ?? null;
  }

  /** Merges like the daemon: present fields replace, null clears ip/node. */
  async putEndpoint(namespace: string, pod: string, patch: EndpointPatch): Promise<void | typeof UNSUPPORTED> {
    this.enter('putEndpoint', `${namespace}/${pod} ${JSON.stringify(patch)}`);
    if (!this.endpointsSupported) return UNSUPPORTED;
    const key = `${namespace}/${pod}`;
    const cur = this.endpoints.get(key) ?? { labels: {}, ip: null, node: null, ports: [] };
    this.endpoints.set(key, { ...cur, ...structuredClone(patch) });
  }

  /** A record as the listener would have written it (labels, ports; no ip yet). */
  listenerWrote(namespace: string, pod: string, labels: Record<string, string>, ports: unknown[] = []): void {
    this.endpoints.set(`${namespace}/${pod}`, { labels, ip: null, node: null, ports });
  }

  async deleteEndpoint(namespace: string, pod: string): Promise<void | typeof UNSUPPORTED> {
    this.enter('deleteEndpoint', `${namespace}/${pod}`);
    if (!this.endpointsSupported) return UNSUPPORTED;
    this.endpoints.delete(`${namespace}/${pod}`);
  }

  async ready(): Promise<void> {
    this.enter('ready');
    if (!this.isReady) throw new RomanaError('NOT_READY', 'Not ready: no topology loaded');
  }

  close(): void {
    this.closed++;
  }
}

export class FakeAgent implements AgentApi {
  syncs = 0;
  fail: Error | null = null;
  isReady = true;
  /** What the daemon held when each sync ran (the pod must already be registered). */
  onSync: (() => void) | null = null;

  async sync(): Promise<void> {
    this.syncs++;
    this.onSync?.();
    if (this.fail) throw this.fail;
  }

  async ready(): Promise<void> {
    if (!this.isReady) throw new Error('GET /readyz: HTTP 503');
  }

  close(): void {}
}

export interface Invocation {
  code: number;
  stdout: string;
  stderr: string;
  /** Parsed stdout ({} when empty). */
  json: any;
}

export interface Harness {
  kernel: FakeKernel;
  daemon: FakeDaemon;
  agent: FakeAgent;
  files: Map<string, string>;
  /** The config each invocation saw (the plugin builds clients from it). */
  configs: CniConfig[];
  run(env: Record<string, string>, config: unknown): Promise<Invocation>;
}

export function harness(opts: { withAgent?: boolean } = {}): Harness {
  const kernel = new FakeKernel();
  const daemon = new FakeDaemon();
  const agent = new FakeAgent();
  const files = new Map<string, string>();
  const configs: CniConfig[] = [];
  let clock = Date.parse('2026-11-26T12:00:00Z');
  const deps: CniDeps = {
    exec: kernel.exec,
    hostname: () => 'node-a',
    readFile: async (p) => {
      const t = files.get(p);
      if (t === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      return t;
    },
    appendFile: (p, t) => files.set(p, (files.get(p) ?? '') + t),
    isNetns: kernel.isNetns,
    daemon: (cfg) => {
      configs.push(cfg);
      return daemon;
    },
    agent: (cfg) => (cfg.agent === null || opts.withAgent === false ? null : agent),
    now: () => (clock += 1),
  };
  return {
    kernel,
    daemon,
    agent,
    files,
    configs,
    async run(env, config) {
      let stdout = '';
      let stderr = '';
      const code = await runCni(
        {
          env,
          stdin: typeof config === 'string' ? config : JSON.stringify(config),
          stdout: (s) => (stdout += s),
          stderr: (s) => (stderr += s),
        },
        deps,
      );
      return { code, stdout, stderr, json: stdout.trim() === '' ? {} : JSON.parse(stdout) };
    },
  };
}
