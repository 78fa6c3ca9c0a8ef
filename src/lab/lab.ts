/**
 * `romana lab`: a Romana cluster made of network namespaces on this machine
 * (DESIGN §9, issue 6). Everything it makes is named with one prefix
 * (default "rlab"): namespaces `<prefix>-fabric`, `<prefix>-hN`,
 * `<prefix>-hN-pJ`, `<prefix>-torK`; every process it starts is detached, with its PID in
 * `<state>/pids/` and its log in `<state>/logs/`. `down` removes exactly
 * that: processes by PID file (checked against /proc/PID/cmdline) and by
 * namespace (`ip netns pids`), namespaces by name, then the state dir.
 *
 * Layout: a bridge `br0` in `<prefix>-fabric`; host N is `<prefix>-hN` with
 * eth0 = 10.200.0.N/24 on it (every rack shares the bridge: see RACKS
 * below). The daemon runs in the root namespace on 127.0.0.1 and on a unix
 * socket in the state dir; the agents, the CNI plugin and the probe agents
 * reach it through the socket. Nothing is added to the root namespace's
 * interfaces, routes or rules.
 *
 * RACKS: one prefix group per rack (assignment by the host label `rack`).
 * When BIRD 2 is installed (/usr/sbin/bird), every rack gets a ToR
 * namespace `<prefix>-torK` with eth0 = 10.200.0.(200+K)/24 on the bridge,
 * running BIRD (AS 65000; the ToRs are iBGP peers of each other, full
 * mesh). Every host runs BIRD in its namespace (AS 65100+N, eBGP to its
 * rack's ToR, no kernel protocol: the host's tables stay the agent's) and a
 * romana-publisher (also in the host namespace, daemon via the unix socket)
 * that renders `bird/publisher.conf` with `--aggregate blocks` into the
 * file BIRD includes and reloads BIRD through its control socket. The ToRs
 * install what they learn into their own kernel tables, which `lab up`
 * prints and `lab check` checks. Hosts and ToRs still share one L2 subnet,
 * so pod traffic goes host to host and the ToRs are not in its path (the
 * summary says so); per-rack subnets routed by the ToRs are not built yet.
 *
 * Pods: P per host, alternating between the namespaces "blue" and "green",
 * named `hN-pJ`; each runs the probe agent (probe_agent.ts) with TCP 8080,
 * UDP 5353 and a control socket `<state>/probes/<pod>.sock`.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { parse as parseYaml } from 'yaml';
import { NetnsLab, invokeCni, run } from './netns.js';
import { dist } from './paths.js';
import { waitFor } from './poll.js';

export const DEFAULT_STATE_DIR = '/run/romana-lab';
export const DEFAULT_PREFIX = 'rlab';
export const TCP_PORT = 8080;
export const UDP_PORT = 5353;
const NETWORK_CIDR = '10.112.0.0/16';
const STATE_FILE = 'lab.json';

export interface LabOptions {
  hosts: number;
  racks: number;
  podsPerHost: number;
  stateDir: string;
  prefix: string;
  /** Daemon HTTP port on 127.0.0.1 (0: any free one). */
  port: number;
  install: boolean;
}

export interface LabHostState {
  name: string;
  ns: string;
  ip: string;
  rack: string;
  healthSocket: string;
  confDir: string;
  binDir: string;
}

export interface LabPodState {
  name: string;
  namespace: string;
  host: string;
  ns: string;
  ip: string;
  cid: string;
  control: string;
}

export interface LabTorState {
  name: string;
  ns: string;
  ip: string;
  rack: string;
  as: number;
  /** BIRD's control socket (a file: birdc works from the root namespace). */
  ctl: string;
}

export interface LabState {
  prefix: string;
  stateDir: string;
  socket: string;
  url: string;
  racks: string[];
  hosts: LabHostState[];
  pods: LabPodState[];
  fabric: string;
  /** One per rack when BIRD 2 is installed; absent in state files of older labs. */
  tors?: LabTorState[];
  notes: string[];
}

export type Print = (s: string) => void;

/* ------------------------------------------------------------------ system */

/** Binaries the lab runs, and the Debian package of each. */
const REQUIRED: Array<{ bin: string; pkg: string }> = [
  { bin: 'ip', pkg: 'iproute2' },
  { bin: 'iptables', pkg: 'iptables' },
  { bin: 'ipset', pkg: 'ipset' },
  { bin: 'ping', pkg: 'iputils-ping' },
];

function which(bin: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir, bin);
    if (existsSync(p)) return p;
  }
  return null;
}

/** Missing packages ("iproute2 (for ip)"), after installing them with apt-get when asked to. */
export async function ensurePackages(install: boolean, print: Print): Promise<string[]> {
  let missing = REQUIRED.filter((r) => which(r.bin) === null);
  if (missing.length > 0 && install) {
    const pkgs = [...new Set(missing.map((m) => m.pkg))];
    print(`installing ${pkgs.join(' ')} (apt-get)\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update', '-q'], { env });
    const r = await run('apt-get', ['install', '-y', '-q', ...pkgs], { env });
    if (r.code !== 0) print(`apt-get install failed (${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}\n`);
    missing = REQUIRED.filter((m) => which(m.bin) === null);
  }
  return missing.map((m) => `${m.pkg} (for ${m.bin})`);
}

function builtFiles(): string[] {
  const files = [dist('src/daemon/main.js'), dist('src/agent/main.js'), dist('romana-cni.cjs'), dist('src/lab/probe_agent.js')];
  if (birdAvailable()) files.push(dist('publisher/main.js'));
  return files.filter((f) => !existsSync(f));
}

/* ----------------------------------------------------------------- helpers */

/** HTTP over a unix socket with a JSON body; never throws for a status. */
export function unixRequest(socketPath: string, method: string, urlPath: string, body?: unknown, timeoutMs = 30_000): Promise<{ status: number; text: string; json: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { socketPath, method, path: urlPath, timeout: timeoutMs, headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let json: any;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath} on ${socketPath}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

async function must(socketPath: string, method: string, urlPath: string, body?: unknown): Promise<any> {
  const r = await unixRequest(socketPath, method, urlPath, body);
  if (r.status >= 300) throw new Error(`${method} ${urlPath}: ${r.status} ${r.text}`);
  return r.json;
}

/** A process started detached (it outlives the CLI), its PID in pids/NAME.pid, stdout+stderr in logs/NAME.log. */
function spawnDetached(stateDir: string, name: string, file: string, args: string[]): number {
  const logFile = path.join(stateDir, 'logs', `${name}.log`);
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(file, args, { detached: true, stdio: ['ignore', fd, fd], cwd: stateDir });
    if (child.pid === undefined) throw new Error(`cannot start ${file}`);
    child.unref();
    writeFileSync(path.join(stateDir, 'pids', `${name}.pid`), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

function logTail(stateDir: string, name: string, chars = 2000): string {
  try {
    return readFileSync(path.join(stateDir, 'logs', `${name}.log`), 'utf8').slice(-chars);
  } catch {
    return '(no log)';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Free TCP port on 127.0.0.1, or false when `port` is taken. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export function readState(stateDir: string): LabState | null {
  try {
    return JSON.parse(readFileSync(path.join(stateDir, STATE_FILE), 'utf8')) as LabState;
  } catch {
    return null;
  }
}

function saveState(st: LabState): void {
  writeFileSync(path.join(st.stateDir, STATE_FILE), JSON.stringify(st, null, 2) + '\n');
}

/** Namespaces whose name starts with `<prefix>-`. */
export async function labNamespaces(prefix: string): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`${prefix}-`));
}

/** Hosts split into racks in order: h1..hk in r1, and so on. */
export function rackOf(i: number, hosts: number, racks: number): number {
  return Math.floor(((i - 1) * racks) / hosts) + 1;
}

export function labTopology(racks: number): unknown {
  return {
    networks: [{ name: 'romana-network', cidr: NETWORK_CIDR, block_mask: 29 }],
    topologies: [
      {
        networks: ['romana-network'],
        map: Array.from({ length: racks }, (_, r) => ({ name: `rack-${r + 1}`, assignment: { rack: `r${r + 1}` }, groups: [] })),
      },
    ],
  };
}

/* ---------------------------------------------------------------------- up */

export class LabError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'LabError';
  }
}

/* ----------------------------------------------------------------- BIRD/BGP */

const BIRD = '/usr/sbin/bird';
const BIRDC = '/usr/sbin/birdc';
const TOR_AS = 65000;
const HOST_SUBNET = '10.200.0.0/24';
const hostAs = (i: number): number => 65100 + i;

export function birdAvailable(): boolean {
  return existsSync(BIRD) && existsSync(BIRDC);
}

/** Our own publisher template: this host's (merged) blocks as statics, exported over eBGP to the ToR. */
const PUBLISHER_TEMPLATE = `# romana lab: written by romana lab up. Rendered by romana-publisher into
# the file this host's BIRD includes; --neighbor-ip/--neighbor-as name the ToR.
protocol static romana_routes {
    ipv4;
{{- range .Networks }}
    route {{ . }} unreachable;
{{- end }}
}

protocol bgp tor {
    local as {{ .LocalAS }};
    neighbor {{ .NeighborIP }} as {{ .NeighborAS }};
    hold time 9;
    connect retry time 1;
    connect delay time 1;
    ipv4 {
        import none;
        export where proto = "romana_routes";
    };
}
`;

/** The host's BIRD: no kernel protocol (nothing goes into the host's tables), the publisher's file included. */
function hostBirdConf(h: LabHostState, includeDir: string): string {
  return [`# romana lab: BIRD of ${h.name}`, 'log stderr all;', `router id ${h.ip};`, 'protocol device { scan time 10; }', `include "${includeDir}/*.conf";`, ''].join('\n');
}

/** A ToR: eBGP to its rack's hosts (import only), iBGP to the other ToRs, everything learned into its kernel. */
function torBirdConf(t: LabTorState, hosts: Array<{ h: LabHostState; as: number }>, others: LabTorState[]): string {
  const timers = 'hold time 9; connect retry time 1; connect delay time 1;';
  return [
    `# romana lab: BIRD of ToR ${t.name} (rack ${t.rack})`,
    'log stderr all;',
    `router id ${t.ip};`,
    'protocol device { scan time 10; }',
    'protocol kernel { ipv4 { import none; export all; }; }',
    ...hosts.map(({ h, as }) => `protocol bgp ${h.name} { local ${t.ip} as ${t.as}; neighbor ${h.ip} as ${as}; ${timers} ipv4 { import all; export none; }; }`),
    ...others.map((o) => `protocol bgp ${o.name} { local ${t.ip} as ${t.as}; neighbor ${o.ip} as ${o.as}; direct; ${timers} ipv4 { import all; export all; }; }`),
    '',
  ].join('\n');
}

async function startBird(stateDir: string, name: string, ns: string, conf: string, ctl: string): Promise<void> {
  spawnDetached(stateDir, `bird-${name}`, 'ip', ['netns', 'exec', ns, BIRD, '-f', '-c', conf, '-s', ctl, '-P', path.join(stateDir, 'bird', `${name}.pid`)]);
  await waitFor(
    `BIRD of ${name} to answer on ${ctl}`,
    async () => {
      if (!alive(pidOf(stateDir, `bird-${name}`) ?? -1)) throw new Error(`BIRD of ${name} exited: ${logTail(stateDir, `bird-${name}`)}`);
      const r = await run(BIRDC, ['-s', ctl, 'show', 'status']);
      return r.code === 0 && /Daemon is up and running/.test(r.stdout);
    },
    { timeoutMs: 15_000, intervalMs: 50 },
  );
}

function ip4(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** `outer` (a.b.c.d/len, or an address) contains `inner`. */
export function covers(outer: string, inner: string): boolean {
  const [oa, ol] = outer.split('/');
  const [ia, il] = inner.split('/');
  const olen = Number(ol ?? 32);
  const ilen = Number(il ?? 32);
  if (ilen < olen) return false;
  const size = 2 ** (32 - olen);
  return Math.floor(ip4(oa!) / size) === Math.floor(ip4(ia!) / size);
}

export interface TorRoutes {
  tor: LabTorState;
  /** Kernel routes BIRD installed (proto bird): prefix and next hop. */
  routes: Array<{ dst: string; via: string }>;
  /** Blocks of the rack's hosts that no learned route covers with that host as next hop. */
  missing: string[];
}

/** Every ToR's BGP-learned routes (its kernel table, proto bird) against the blocks of its rack's hosts. */
export async function torRoutes(st: LabState): Promise<TorRoutes[]> {
  const tors = st.tors ?? [];
  if (tors.length === 0) return [];
  const blocks = (await must(st.socket, 'GET', '/blocks')).blocks as Array<{ cidr: string; host: string }>;
  return Promise.all(
    tors.map(async (tor) => {
      const r = await run('ip', ['-j', '-n', tor.ns, 'route', 'show', 'proto', 'bird']);
      let parsed: Array<{ dst: string; gateway?: string }> = [];
      try {
        parsed = r.stdout.trim() === '' ? [] : (JSON.parse(r.stdout) as Array<{ dst: string; gateway?: string }>);
      } catch {
        parsed = [];
      }
      const routes = parsed.map((x) => ({ dst: x.dst.includes('/') ? x.dst : `${x.dst}/32`, via: x.gateway ?? '' })).sort((a, b) => ip4(a.dst.split('/')[0]!) - ip4(b.dst.split('/')[0]!));
      const missing: string[] = [];
      for (const h of st.hosts.filter((x) => x.rack === tor.rack)) {
        for (const b of blocks.filter((x) => x.host === h.name)) {
          if (!routes.some((x) => x.via === h.ip && covers(x.dst, b.cidr))) missing.push(`${b.cidr} of ${h.name}`);
        }
      }
      return { tor, routes, missing };
    }),
  );
}

export async function labUp(o: LabOptions, print: Print): Promise<LabState> {
  if (process.getuid?.() !== 0) throw new LabError('romana lab needs root (it creates network namespaces): run it with sudo', 2);
  if (o.hosts < 1 || o.hosts > 50) throw new LabError(`--hosts must be 1-50, not ${o.hosts}`, 2);
  if (o.racks < 1 || o.racks > o.hosts) throw new LabError(`--racks must be 1-${o.hosts} (at most one rack per host), not ${o.racks}`, 2);
  if (o.podsPerHost < 0 || o.podsPerHost > 20) throw new LabError(`--pods-per-host must be 0-20, not ${o.podsPerHost}`, 2);
  if (!/^[a-z][a-z0-9]{1,7}$/.test(o.prefix)) throw new LabError(`--prefix must be 2-8 lowercase letters/digits, not ${JSON.stringify(o.prefix)}`, 2);
  const missing = await ensurePackages(o.install, print);
  if (missing.length > 0) throw new LabError(`missing system packages: ${missing.join(', ')}; install them (apt-get install ${missing.map((m) => m.split(' ')[0]).join(' ')}) or run romana lab up --install`, 2);
  const unbuilt = builtFiles();
  if (unbuilt.length > 0) throw new LabError(`not built: ${unbuilt.join(', ')}; run npm run build (npm run lab builds and starts the lab)`, 2);
  if (readState(o.stateDir) !== null || (await labNamespaces(o.prefix)).length > 0) {
    throw new LabError(`a lab is already up (state in ${o.stateDir}, or ${o.prefix}- namespaces exist): romana lab down${o.stateDir === DEFAULT_STATE_DIR ? '' : ` --state-dir ${o.stateDir}`} first`, 2);
  }
  const t0 = performance.now();
  const stateDir = o.stateDir;
  for (const d of ['pids', 'logs', 'probes', 'hosts']) mkdirSync(path.join(stateDir, d), { recursive: true });
  const port = o.port === 9600 && !(await portFree(9600)) ? 0 : o.port;
  const st: LabState = {
    prefix: o.prefix,
    stateDir,
    socket: path.join(stateDir, 'daemon.sock'),
    url: '',
    racks: Array.from({ length: o.racks }, (_, r) => `r${r + 1}`),
    hosts: [],
    pods: [],
    fabric: `${o.prefix}-fabric`,
    notes: [],
  };
  if (port !== o.port) st.notes.push('port 9600 is taken: the daemon listens on another port (below)');
  const bgp = birdAvailable();
  if (bgp) {
    st.tors = [];
    st.notes.push(`hosts and ToRs share one L2 subnet (${HOST_SUBNET}): pod traffic goes host to host, the ToRs learn every block over BGP but are not in its path (per-rack subnets routed by the ToRs are not built yet)`);
  } else {
    st.notes.push(`BIRD 2 is not installed (${BIRD}; apt-get install bird2): no ToRs, no BGP, and the racks share one bridge`);
  }
  saveState(st);

  // The daemon, in the root namespace: loopback + unix socket only.
  const topoFile = path.join(stateDir, 'topology.json');
  writeFileSync(topoFile, JSON.stringify(labTopology(o.racks), null, 2));
  spawnDetached(stateDir, 'daemon', process.execPath, [
    dist('src/daemon/main.js'),
    '--host', '127.0.0.1',
    '--port', String(port),
    '--data-dir', path.join(stateDir, 'daemon-data'),
    '--socket', st.socket,
    '--initial-network', topoFile,
    '--log-level', 'info',
  ]);

  // Namespaces: a fabric with one bridge, hosts on it.
  const lab = new NetnsLab(o.prefix, { fixedPrefix: true, cleanupOnExit: false });
  await lab.add('fabric');
  await lab.ip(st.fabric, 'link', 'add', 'br0', 'type', 'bridge');
  await lab.ip(st.fabric, 'link', 'set', 'br0', 'up');
  for (let i = 1; i <= o.hosts; i++) {
    const name = `h${i}`;
    const ns = await lab.add(name);
    await lab.ip(ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `${name}-port`, 'netns', st.fabric);
    await lab.ip(st.fabric, 'link', 'set', `${name}-port`, 'master', 'br0', 'up');
    const ip = `10.200.0.${i}`;
    await lab.ip(ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
    await lab.ip(ns, 'link', 'set', 'eth0', 'up');
    const dir = path.join(stateDir, 'hosts', name);
    mkdirSync(dir, { recursive: true });
    st.hosts.push({ name, ns, ip, rack: `r${rackOf(i, o.hosts, o.racks)}`, healthSocket: path.join(dir, 'agent.sock'), confDir: path.join(dir, 'net.d'), binDir: path.join(dir, 'bin') });
  }
  saveState(st);

  // ToRs on the bridge, BIRD in every ToR and host (publishers follow once the daemon is up).
  const birdDir = path.join(stateDir, 'bird');
  if (st.tors) {
    mkdirSync(birdDir, { recursive: true });
    for (let k = 1; k <= o.racks; k++) {
      const name = `tor${k}`;
      const ns = await lab.add(name);
      await lab.ip(ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `${name}-port`, 'netns', st.fabric);
      await lab.ip(st.fabric, 'link', 'set', `${name}-port`, 'master', 'br0', 'up');
      const ip = `10.200.0.${200 + k}`;
      await lab.ip(ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
      await lab.ip(ns, 'link', 'set', 'eth0', 'up');
      st.tors.push({ name, ns, ip, rack: `r${k}`, as: TOR_AS, ctl: path.join(birdDir, `${name}.ctl`) });
    }
    saveState(st);
    for (const t of st.tors) {
      const conf = path.join(birdDir, `${t.name}.conf`);
      const peers = st.hosts.flatMap((h, i) => (h.rack === t.rack ? [{ h, as: hostAs(i + 1) }] : []));
      writeFileSync(conf, torBirdConf(t, peers, st.tors.filter((x) => x !== t)));
      await startBird(stateDir, t.name, t.ns, conf, t.ctl);
    }
    for (const h of st.hosts) {
      const inc = path.join(birdDir, `${h.name}.d`);
      mkdirSync(inc, { recursive: true });
      const conf = path.join(birdDir, `${h.name}.conf`);
      writeFileSync(conf, hostBirdConf(h, inc));
      await startBird(stateDir, h.name, h.ns, conf, path.join(birdDir, `${h.name}.ctl`));
    }
    writeFileSync(path.join(birdDir, 'publisher.conf'), PUBLISHER_TEMPLATE);
  }

  await waitFor(
    'the daemon to answer GET /readyz on its socket',
    async () => {
      if (!alive(pidOf(stateDir, 'daemon') ?? -1)) throw new Error(`the daemon exited: ${logTail(stateDir, 'daemon')}`);
      if (!existsSync(st.socket)) return false;
      return (await unixRequest(st.socket, 'GET', '/readyz', undefined, 2000)).status === 200;
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  st.url = daemonUrl(stateDir) ?? `http://127.0.0.1:${port}`;
  for (const h of st.hosts) await must(st.socket, 'POST', '/hosts', { name: h.name, ip: h.ip, tags: { rack: h.rack } });
  saveState(st);

  // A route publisher per host, in its namespace: follows the daemon, feeds the host's BIRD.
  if (st.tors) {
    for (const [i, h] of st.hosts.entries()) {
      const tor = st.tors.find((t) => t.rack === h.rack)!;
      spawnDetached(stateDir, `publisher-${h.name}`, 'ip', [
        'netns', 'exec', h.ns, process.execPath, dist('publisher/main.js'), 'run',
        '--daemon', `unix:${st.socket}`,
        '--node', h.name,
        '--node-ip', h.ip,
        '--node-subnet', HOST_SUBNET,
        '--template', path.join(birdDir, 'publisher.conf'),
        '--config', path.join(birdDir, `${h.name}.d`, 'published-routes.conf'),
        '--bird-socket', path.join(birdDir, `${h.name}.ctl`),
        '--local-as', String(hostAs(i + 1)),
        '--neighbor-ip', tor.ip,
        '--neighbor-as', String(tor.as),
        '--aggregate', 'blocks',
        '--debounce-ms', '100',
        '--health-port=-1',
        '--log-level', 'info',
      ]);
    }
  }

  // One agent per host, inside its namespace.
  for (const h of st.hosts) {
    spawnDetached(stateDir, `agent-${h.name}`, 'ip', [
      'netns', 'exec', h.ns, process.execPath, dist('src/agent/main.js'),
      '--node-name', h.name,
      '--node-ip', h.ip,
      '--daemon', `unix:${st.socket}`,
      '--health-port', '0',
      '--health-socket', h.healthSocket,
      '--cni-bin-dir', h.binDir,
      '--cni-conf-dir', h.confDir,
      '--cni-source', dist('romana-cni.cjs'),
      '--log-level', 'info',
    ]);
  }
  await Promise.all(
    st.hosts.map((h) =>
      waitFor(
        `romana-agent of ${h.name} to be ready with its CNI files installed`,
        async () => {
          if (!alive(pidOf(stateDir, `agent-${h.name}`) ?? -1)) throw new Error(`romana-agent of ${h.name} exited: ${logTail(stateDir, `agent-${h.name}`)}`);
          if (!existsSync(h.healthSocket)) return false;
          if ((await unixRequest(h.healthSocket, 'GET', '/readyz', undefined, 2000)).status !== 200) return false;
          return existsSync(path.join(h.confDir, '10-romana.conflist')) && existsSync(path.join(h.binDir, 'romana'));
        },
        { timeoutMs: 30_000, intervalMs: 50 },
      ),
    ),
  );

  // Pods through the CNI plugin the agents installed, as kubelet would.
  const namespaces = ['blue', 'green'];
  for (const n of namespaces) await must(st.socket, 'PUT', `/tenants/${n}`, { labels: { 'kubernetes.io/metadata.name': n } });
  // Host by host, not in parallel: each host's blocks then come out of its group's pool
  // next to each other and aggregate (the IPAM hands out the lowest free slot of the group).
  for (const h of st.hosts) {
    for (let j = 1; j <= o.podsPerHost; j++) st.pods.push(await addPod(lab, st, h, j, namespaces[(j - 1) % namespaces.length]!));
  }
  st.pods.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  saveState(st);
  await Promise.all(st.pods.map((p) => waitFor(`the probe agent of pod ${p.name}`, () => probeReady(st, p), { timeoutMs: 30_000, intervalMs: 50 })));
  if (st.tors) {
    let last: TorRoutes[] = [];
    let died: string | null = null;
    await waitFor(
      "every ToR to learn the blocks of its rack's hosts over BGP",
      async () => {
        for (const name of [...st.hosts.flatMap((h) => [`publisher-${h.name}`, `bird-${h.name}`]), ...(st.tors ?? []).map((t) => `bird-${t.name}`)]) {
          if (!alive(pidOf(stateDir, name) ?? -1)) died = `${name} exited: ${logTail(stateDir, name)}`;
        }
        if (died !== null) return true; // no point waiting: fails below
        last = await torRoutes(st);
        return last.every((t) => t.missing.length === 0);
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    ).catch((e: Error) => {
      throw new Error(`${e.message}; not learned: ${last.map((t) => `${t.tor.name}: ${t.missing.join(', ') || 'none'}`).join('; ')}`);
    });
    if (died !== null) throw new Error(died);
  }
  print(`lab up in ${((performance.now() - t0) / 1000).toFixed(1)} s (state and logs in ${stateDir})\n\n`);
  return st;
}

async function addPod(lab: NetnsLab, st: LabState, h: LabHostState, j: number, namespace: string): Promise<LabPodState> {
  const name = `${h.name}-p${j}`;
  await must(st.socket, 'PUT', `/endpoints/${namespace}/${name}`, {
    labels: { app: 'demo', pod: name },
    ports: [
      { name: 'serve-tcp', containerPort: TCP_PORT, protocol: 'TCP' },
      { name: 'serve-udp', containerPort: UDP_PORT, protocol: 'UDP' },
    ],
  });
  const ns = await lab.add(name);
  const cid = `${st.prefix}${name.replace(/-/g, '')}`.padEnd(64, '0');
  const conflist = JSON.parse(readFileSync(path.join(h.confDir, '10-romana.conflist'), 'utf8'));
  const add = await invokeCni(
    lab,
    h.ns,
    {
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: cid,
      CNI_NETNS: lab.path(ns),
      CNI_IFNAME: 'eth0',
      CNI_PATH: h.binDir,
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${name}`,
    },
    conflist,
    { entry: path.join(h.binDir, 'romana') },
  );
  if (add.code !== 0) throw new Error(`CNI ADD of ${namespace}/${name} on ${h.name} failed (${add.code}): ${add.stdout} ${add.stderr}`);
  const ip = String(add.json.ips[0].address).split('/')[0]!;
  const control = path.join(st.stateDir, 'probes', `${name}.sock`);
  spawnDetached(st.stateDir, `probe-${name}`, 'ip', ['netns', 'exec', ns, process.execPath, dist('src/lab/probe_agent.js'), '--tcp', String(TCP_PORT), '--udp', String(UDP_PORT), '--control', control]);
  return { name, namespace, host: h.name, ns, ip, cid, control };
}

function pidOf(stateDir: string, name: string): number | null {
  try {
    const n = Number(readFileSync(path.join(stateDir, 'pids', `${name}.pid`), 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** The daemon's URL from its "listening on" log line. */
function daemonUrl(stateDir: string): string | null {
  for (const line of logTail(stateDir, 'daemon', 1 << 20).split('\n')) {
    try {
      const o = JSON.parse(line) as { msg?: string; url?: string };
      if (typeof o.msg === 'string' && o.msg.startsWith('listening on ') && typeof o.url === 'string' && o.url.startsWith('http')) return o.url;
    } catch {
      // not JSON
    }
  }
  return null;
}

async function probeReady(st: LabState, p: LabPodState): Promise<boolean> {
  if (!alive(pidOf(st.stateDir, `probe-${p.name}`) ?? -1)) throw new Error(`the probe agent of ${p.name} exited: ${logTail(st.stateDir, `probe-${p.name}`)}`);
  return existsSync(p.control);
}

/* ------------------------------------------------------------------ probes */

export type Proto = 'tcp' | 'udp' | 'icmp';

/** Sends probes through one pod's control socket, all on one connection. */
async function probeFrom(control: string, probes: Array<{ op: Proto; host: string; port?: number; timeoutMs: number }>): Promise<Array<{ ok: boolean; peer?: string; error?: string }>> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(control);
    const results: Array<{ ok: boolean; peer?: string; error?: string }> = new Array(probes.length);
    let left = probes.length;
    const guard = setTimeout(() => {
      conn.destroy();
      reject(new Error(`the probe agent at ${control} did not answer`));
    }, Math.max(0, ...probes.map((p) => p.timeoutMs)) + 10_000);
    conn.once('error', (e) => {
      clearTimeout(guard);
      reject(new Error(`probe agent at ${control}: ${e.message}`));
    });
    readline.createInterface({ input: conn }).on('line', (line) => {
      const o = JSON.parse(line) as { id: number; ok: boolean; peer?: string; error?: string };
      results[o.id] = { ok: o.ok, ...(o.peer ? { peer: o.peer } : {}), ...(o.error ? { error: o.error } : {}) };
      if (--left === 0) {
        clearTimeout(guard);
        conn.end();
        resolve(results);
      }
    });
    if (probes.length === 0) {
      clearTimeout(guard);
      conn.end();
      resolve([]);
      return;
    }
    conn.on('connect', () => probes.forEach((p, id) => conn.write(JSON.stringify({ id, ...p }) + '\n')));
  });
}

export interface Matrix {
  pods: string[];
  /** cell[from][to] for every protocol: true = reached (and the receiver saw the sender's own address). */
  cells: Record<string, Record<string, Record<Proto, boolean>>>;
  problems: string[];
}

/** Every pod pair, TCP 8080, UDP 5353 and ICMP, real packets from inside the pods' namespaces. */
export async function probeMatrix(st: LabState, protos: Proto[] = ['tcp', 'udp', 'icmp']): Promise<Matrix> {
  const cells: Matrix['cells'] = {};
  const problems: string[] = [];
  await Promise.all(
    st.pods.map(async (from) => {
      const targets = st.pods.filter((p) => p !== from);
      const probes = targets.flatMap((to) => protos.map((op) => ({ op, host: to.ip, ...(op === 'icmp' ? {} : { port: op === 'tcp' ? TCP_PORT : UDP_PORT }), timeoutMs: 1000 })));
      const res = await probeFrom(from.control, probes);
      cells[from.name] = {};
      targets.forEach((to, t) => {
        const cell = {} as Record<Proto, boolean>;
        protos.forEach((op, k) => {
          const r = res[t * protos.length + k]!;
          cell[op] = r.ok;
          if (r.ok && r.peer !== undefined && r.peer !== from.ip) problems.push(`${from.name} -> ${to.name} ${op}: the receiver saw ${r.peer}, not ${from.ip} (NAT?)`);
        });
        cells[from.name]![to.name] = cell;
      });
    }),
  );
  return { pods: st.pods.map((p) => p.name), cells, problems };
}

/** Rows from, columns to; "ok" all protocols pass, "--" all dropped, else the letters that pass (t, u, i). */
export function renderMatrix(st: LabState, m: Matrix): string {
  const w = Math.max(4, ...m.pods.map((p) => p.length)) + 1;
  const nsOf = new Map(st.pods.map((p) => [p.name, p.namespace]));
  const head = 'from \\ to'.padEnd(w + 7) + m.pods.map((p) => p.padStart(w)).join('') + '\n';
  const rows = m.pods.map((from) => {
    const cells = m.pods.map((to) => {
      if (from === to) return '.'.padStart(w);
      const c = m.cells[from]?.[to];
      if (!c) return '?'.padStart(w);
      const vals = Object.entries(c);
      const txt = vals.every(([, v]) => v) ? 'ok' : vals.every(([, v]) => !v) ? '--' : vals.filter(([, v]) => v).map(([k]) => k[0]).join('');
      return txt.padStart(w);
    });
    return `${from.padEnd(w)}${`(${nsOf.get(from) ?? ''})`.padEnd(7)}${cells.join('')}\n`;
  });
  return head + rows.join('') + '  ok = TCP 8080, UDP 5353 and ICMP pass; -- = all dropped; else the ones that pass (t/u/i)\n';
}

/* ------------------------------------------------------------------ routes */

export interface HostRoutes {
  host: string;
  routes: string[];
  bound: number;
}

/** Table 10 of every host, and its bound: hosts in its group + number of groups. */
export async function hostRoutes(st: LabState): Promise<HostRoutes[]> {
  return Promise.all(
    st.hosts.map(async (h) => {
      const r = await run('ip', ['-n', h.ns, 'route', 'show', 'table', '10']);
      const routes = r.stdout.split('\n').filter((l) => l.trim() !== '');
      const bound = st.hosts.filter((x) => x.rack === h.rack).length + st.racks.length;
      return { host: h.name, routes, bound };
    }),
  );
}

/* ----------------------------------------------------------------- summary */

export async function renderSummary(st: LabState, m: Matrix): Promise<string> {
  const lines: string[] = [];
  const hosts = (await must(st.socket, 'GET', '/hosts')).hosts as Array<{ name: string; ip: string; tags: Record<string, string>; groups: Array<{ group_name: string; cidr: string }> }>;
  const blocks = (await must(st.socket, 'GET', '/blocks')).blocks as Array<{ cidr: string; host: string; tenant: string; allocated_ip_count: number }>;
  lines.push('Hosts (namespace, address, rack label, prefix group):');
  for (const h of st.hosts) {
    const rec = hosts.find((x) => x.name === h.name);
    const groups = (rec?.groups ?? []).map((g) => `${g.group_name} ${g.cidr}`).join(', ');
    lines.push(`  ${h.name.padEnd(4)} ${h.ns.padEnd(12)} ${h.ip.padEnd(11)} rack=${h.rack}  ${groups}`);
  }
  lines.push('', 'Blocks (host, block, tenant, addresses used):');
  for (const b of [...blocks].sort((a, b) => a.host.localeCompare(b.host, 'en', { numeric: true }) || a.cidr.localeCompare(b.cidr))) {
    lines.push(`  ${b.host.padEnd(4)} ${b.cidr.padEnd(16)} ${b.tenant.padEnd(8)} ${b.allocated_ip_count}`);
  }
  lines.push('', 'Pods:');
  for (const p of st.pods) lines.push(`  ${p.name.padEnd(7)} ${`${p.namespace}`.padEnd(6)} ${p.ip.padEnd(14)} on ${p.host}  (netns ${p.ns})`);
  lines.push('', 'Routes (ip -n <host> route show table 10; bound = hosts in its group + groups):');
  for (const r of await hostRoutes(st)) {
    lines.push(`  ${r.host}: ${r.routes.length} route(s), bound ${r.bound}`);
    for (const l of r.routes) lines.push(`    ${l}`);
  }
  const tors = await torRoutes(st);
  if (tors.length === 0) {
    lines.push('', "ToRs' BGP-learned routes: none (no ToRs in this lab: BIRD 2 is not installed)");
  } else {
    const byIp = new Map(st.hosts.map((h) => [h.ip, h]));
    lines.push('', `ToRs' BGP-learned routes (ip -n <tor> route show proto bird; eBGP from the rack's hosts, iBGP between ToRs, AS ${TOR_AS}):`);
    for (const t of tors) {
      const rackHosts = st.hosts.filter((h) => h.rack === t.tor.rack).map((h) => h.name);
      lines.push(`  ${t.tor.name} ${t.tor.ns} ${t.tor.ip} rack=${t.tor.rack} peers ${rackHosts.join(' ')}: ${t.routes.length} route(s)`);
      for (const r of t.routes) {
        const h = byIp.get(r.via);
        lines.push(`    ${r.dst.padEnd(16)} via ${r.via.padEnd(11)} ${h ? `${h.name}${h.rack === t.tor.rack ? '' : ` (rack ${h.rack}, via iBGP)`}` : ''}`.trimEnd());
      }
    }
  }
  lines.push('', 'Pod-to-pod reachability (real packets):', renderMatrix(st, m).trimEnd());
  if (st.notes.length > 0) lines.push('', ...st.notes.map((n) => `Note: ${n}`));
  const port = new URL(st.url).port;
  const r = port === '9600' ? '' : ` -p ${port}`;
  const sd = st.stateDir === DEFAULT_STATE_DIR ? '' : ` --state-dir ${st.stateDir}`;
  const h1 = st.hosts[0]!;
  const p1 = st.pods[0];
  lines.push(
    '',
    'Explore:',
    `  romana${r} host list                      # or: node dist/src/cli/main.js${r} host list`,
    `  romana${r} topology show`,
    `  ip netns list | grep ^${st.prefix}-`,
    `  ip -n ${h1.ns} route show table 10`,
    `  ip netns exec ${h1.ns} iptables-save | grep ROMANA`,
    ...(st.tors && st.tors.length > 0 ? [`  birdc -s ${st.tors[0]!.ctl} show route        # or: show protocols`] : []),
    ...(p1 ? [`  ip netns exec ${p1.ns} ping -c1 ${st.pods[st.pods.length - 1]!.ip}`] : []),
    `  romana lab check${sd}        # every pod pair + route bounds, exit 0 when all good`,
    `  romana lab policy FILE${sd}  # a NetworkPolicy (YAML/JSON) or a Romana policy, then the new matrix`,
    `  romana lab down${sd}`,
    `  logs: ${path.join(st.stateDir, 'logs')}/`,
  );
  return lines.join('\n') + '\n';
}

/* ------------------------------------------------------------------- check */

export async function labCheck(st: LabState, print: Print): Promise<boolean> {
  const m = await probeMatrix(st);
  print(renderMatrix(st, m));
  let ok = true;
  for (const from of m.pods) {
    for (const to of m.pods) {
      if (from === to) continue;
      const c = m.cells[from]?.[to];
      const failed = c ? Object.entries(c).filter(([, v]) => !v).map(([k]) => k) : ['all'];
      if (failed.length > 0) {
        ok = false;
        print(`FAIL ${from} -> ${to}: ${failed.join(', ')} dropped\n`);
      }
    }
  }
  for (const p of m.problems) {
    ok = false;
    print(`FAIL ${p}\n`);
  }
  for (const r of await hostRoutes(st)) {
    const good = r.routes.length <= r.bound;
    if (!good) ok = false;
    print(`${good ? 'ok  ' : 'FAIL'} ${r.host}: ${r.routes.length} route(s) in table 10, bound ${r.bound}\n`);
  }
  const tors = await torRoutes(st);
  for (const t of tors) {
    const good = t.missing.length === 0;
    if (!good) ok = false;
    const hosts = st.hosts.filter((h) => h.rack === t.tor.rack).map((h) => h.name);
    print(good ? `ok   ${t.tor.name}: learned every block of ${hosts.join(' ')} over BGP (${t.routes.length} route(s))\n` : `FAIL ${t.tor.name}: has not learned ${t.missing.join(', ')}\n`);
  }
  const torText = tors.length > 0 ? '; every ToR learned its rack\'s blocks' : '';
  print(ok ? `lab check: all ${m.pods.length} pods reach each other (TCP, UDP, ICMP); route tables within bounds${torText}\n` : 'lab check: FAILED\n');
  return ok;
}

/* ------------------------------------------------------------------ policy */

/** Applies every document of FILE; returns what was done, one line each. */
export async function applyPolicyFile(st: LabState, text: string): Promise<string[]> {
  let docs: unknown[];
  try {
    docs = text.trimStart().startsWith('{') || text.trimStart().startsWith('[') ? [JSON.parse(text)] : parseAllYaml(text);
  } catch (e) {
    throw new LabError(`cannot parse the policy file: ${(e as Error).message}`, 2);
  }
  const done: string[] = [];
  for (const doc0 of docs) {
    const items = Array.isArray(doc0) ? doc0 : isObj(doc0) && doc0.kind === 'List' && Array.isArray(doc0.items) ? doc0.items : [doc0];
    for (const doc of items) {
      if (doc === null || doc === undefined) continue;
      if (isObj(doc) && doc.kind === 'NetworkPolicy') {
        const meta = (isObj(doc.metadata) ? doc.metadata : {}) as { name?: string; namespace?: string };
        if (!meta.name) throw new LabError('a NetworkPolicy without metadata.name', 2);
        const ns = meta.namespace ?? 'default';
        const body = { ...doc, metadata: { ...meta, namespace: ns } };
        const r = await unixRequest(st.socket, 'PUT', `/k8s/networkpolicies/${encodeURIComponent(ns)}/${encodeURIComponent(meta.name)}`, body);
        if (r.status >= 300) throw new LabError(`PUT /k8s/networkpolicies/${ns}/${meta.name}: ${r.status} ${r.text}`);
        done.push(`NetworkPolicy ${ns}/${meta.name}: ${r.status === 201 ? 'created' : 'updated'}`);
      } else {
        const r = await unixRequest(st.socket, 'POST', '/policies', doc);
        if (r.status >= 300) throw new LabError(`POST /policies: ${r.status} ${r.text}`);
        const results = (r.json?.results ?? []) as Array<{ outcome: string; policy: { name?: string; id?: string } }>;
        for (const x of results) done.push(`Romana policy ${x.policy.name ?? x.policy.id}: ${x.outcome}`);
      }
    }
  }
  // Every agent has applied everything the daemon holds now (the CNI plugin's own barrier).
  await Promise.all(st.hosts.map((h) => must(h.healthSocket, 'POST', '/sync?timeout_ms=20000')));
  return done;
}

function parseAllYaml(text: string): unknown[] {
  // yaml's parseAllDocuments would keep errors per document; plain split keeps this small.
  return text
    .split(/^---\s*$/m)
    .filter((d) => d.trim() !== '')
    .map((d) => parseYaml(d) as unknown);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/* -------------------------------------------------------------------- down */

/**
 * Removes what `lab up` made: processes by PID file (only when
 * /proc/PID/cmdline still names our programs), every process inside a
 * `<prefix>-` namespace, those namespaces, the state dir. Idempotent.
 */
export async function labDown(stateDir: string, prefix: string, print: Print): Promise<{ killed: number; namespaces: number }> {
  const st = readState(stateDir);
  const pfx = st?.prefix ?? prefix;
  const pids = new Set<number>();
  const pidDir = path.join(stateDir, 'pids');
  if (existsSync(pidDir)) {
    for (const f of readdirSync(pidDir)) {
      const pid = pidOf(stateDir, f.replace(/\.pid$/, ''));
      if (pid !== null && ours(pid, stateDir)) pids.add(pid);
    }
  }
  const namespaces = await labNamespaces(pfx);
  for (const ns of namespaces) {
    const r = await run('ip', ['netns', 'pids', ns]);
    for (const l of r.stdout.split('\n')) if (/^\d+$/.test(l.trim())) pids.add(Number(l.trim()));
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await waitFor(`processes ${[...pids].join(' ')} to exit`, () => [...pids].every((p) => !alive(p) || zombie(p)), { timeoutMs: 10_000, intervalMs: 20 });
  for (const ns of namespaces.reverse()) {
    const r = await run('ip', ['netns', 'del', ns]);
    if (r.code !== 0 && (await labNamespaces(pfx)).includes(ns)) print(`warning: ip netns del ${ns}: ${r.stderr.trim()}\n`);
  }
  rmSync(stateDir, { recursive: true, force: true });
  return { killed: pids.size, namespaces: namespaces.length };
}

function procCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** A PID from our files still runs one of our programs (not a recycled PID). */
function ours(pid: number, stateDir: string): boolean {
  const cmd = procCmdline(pid);
  return cmd.includes(stateDir);
}

function zombie(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

/* ------------------------------------------------------------------ status */

export async function labStatus(stateDir: string, prefix: string): Promise<{ up: boolean; text: string }> {
  const st = readState(stateDir);
  const namespaces = await labNamespaces(st?.prefix ?? prefix);
  if (!st) {
    return { up: false, text: `no lab in ${stateDir}${namespaces.length > 0 ? `; but ${namespaces.length} ${prefix}- namespaces exist (romana lab down removes them)` : ''}\n` };
  }
  const lines = [`lab in ${stateDir}: ${st.hosts.length} hosts, ${st.racks.length} rack(s), ${st.pods.length} pods; daemon ${st.url} (unix:${st.socket})`];
  let up = true;
  for (const f of existsSync(path.join(stateDir, 'pids')) ? readdirSync(path.join(stateDir, 'pids')).sort() : []) {
    const name = f.replace(/\.pid$/, '');
    const pid = pidOf(stateDir, name);
    const running = pid !== null && alive(pid) && !zombie(pid) && ours(pid, stateDir);
    if (!running) up = false;
    lines.push(`  ${name.padEnd(16)} pid ${String(pid).padEnd(8)} ${running ? 'running' : 'NOT RUNNING'}`);
  }
  const want = 1 + st.hosts.length + st.pods.length + (st.tors?.length ?? 0);
  if (namespaces.length !== want) up = false;
  lines.push(`  namespaces: ${namespaces.length} of ${want} (${st.prefix}-*)`);
  return { up, text: lines.join('\n') + '\n' };
}
