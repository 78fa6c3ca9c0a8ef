/**
 * Starting the lab's processes (detached, see system.ts) and waiting until
 * each one is useful: the daemon in the root namespace (loopback + unix
 * socket), BIRD in every router and host namespace, a romana-publisher and
 * a romana-agent in every host namespace, romana-dns in its namespace.
 * Every wait polls, and fails at once with the log tail when the process
 * it waits for has exited.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PUBLISHER_TEMPLATE, hostBirdConf, spineBirdConf, torBirdConf } from './bird_conf.js';
import { unixRequest } from './daemon_client.js';
import { run } from './netns.js';
import { dist } from './paths.js';
import { waitFor } from './poll.js';
import type { LabHostState, LabState } from './state.js';
import { BIRD, BIRDC, logTail, mustBeAlive, spawnDetached, spawnInNs } from './system.js';

const birdDir = (st: LabState): string => path.join(st.stateDir, 'bird');

export function startDaemon(st: LabState, port: number, topologyFile: string): void {
  spawnDetached(st.stateDir, 'daemon', process.execPath, [
    dist('src/daemon/main.js'),
    '--host', '127.0.0.1',
    '--port', String(port),
    '--data-dir', path.join(st.stateDir, 'daemon-data'),
    '--socket', st.socket,
    '--initial-network', topologyFile,
    '--log-level', 'info',
  ]);
}

/** Waits for GET /readyz on the daemon's socket; returns its HTTP URL (from its "listening on" log line). */
export async function daemonReady(st: LabState, port: number): Promise<string> {
  await waitFor(
    'the daemon to answer GET /readyz on its socket',
    async () => {
      mustBeAlive(st.stateDir, 'daemon', 'the daemon');
      if (!existsSync(st.socket)) return false;
      return (await unixRequest(st.socket, 'GET', '/readyz', undefined, 2000)).status === 200;
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  for (const line of logTail(st.stateDir, 'daemon', 1 << 20).split('\n')) {
    try {
      const o = JSON.parse(line) as { msg?: string; url?: string };
      if (typeof o.msg === 'string' && o.msg.startsWith('listening on ') && typeof o.url === 'string' && o.url.startsWith('http')) return o.url;
    } catch {
      // not JSON
    }
  }
  return `http://127.0.0.1:${port}`;
}

async function startBird(st: LabState, name: string, ns: string, conf: string, ctl: string): Promise<void> {
  spawnInNs(st.stateDir, `bird-${name}`, ns, BIRD, ['-f', '-c', conf, '-s', ctl, '-P', path.join(birdDir(st), `${name}.pid`)]);
  await waitFor(
    `BIRD of ${name} to answer on ${ctl}`,
    async () => {
      mustBeAlive(st.stateDir, `bird-${name}`, `BIRD of ${name}`);
      const r = await run(BIRDC, ['-s', ctl, 'show', 'status']);
      return r.code === 0 && /Daemon is up and running/.test(r.stdout);
    },
    { timeoutMs: 15_000, intervalMs: 50 },
  );
}

/** BIRD on the spine, every ToR and every host (the ToRs need their rack's prefix group: after the daemon placed the hosts). */
export async function startRouters(st: LabState): Promise<void> {
  const dir = birdDir(st);
  mkdirSync(dir, { recursive: true });
  const spineConf = path.join(dir, 'spine.conf');
  writeFileSync(spineConf, spineBirdConf(st.spine, st.tors));
  await startBird(st, 'spine', st.spine.ns, spineConf, st.spine.ctl);
  for (const t of st.tors) {
    const conf = path.join(dir, `${t.name}.conf`);
    writeFileSync(conf, torBirdConf(t, st.hosts.filter((h) => h.rack === t.rack), st.spine));
    await startBird(st, t.name, t.ns, conf, t.ctl);
  }
  for (const h of st.hosts) {
    const inc = path.join(dir, `${h.name}.d`);
    mkdirSync(inc, { recursive: true });
    const conf = path.join(dir, `${h.name}.conf`);
    writeFileSync(conf, hostBirdConf(h, inc));
    await startBird(st, h.name, h.ns, conf, hostCtl(st, h));
  }
  writeFileSync(path.join(dir, 'publisher.conf'), PUBLISHER_TEMPLATE);
}

export const hostCtl = (st: LabState, h: LabHostState): string => path.join(birdDir(st), `${h.name}.ctl`);

/** A route publisher per host, in its namespace: follows the daemon, renders the host's blocks for its BIRD, reloads it. */
export function startPublishers(st: LabState): void {
  const dir = birdDir(st);
  for (const h of st.hosts) {
    spawnInNs(st.stateDir, `publisher-${h.name}`, h.ns, process.execPath, [
      dist('publisher/main.js'), 'run',
      '--daemon', `unix:${st.socket}`,
      '--node', h.name,
      '--node-ip', h.ip,
      '--node-subnet', h.subnet,
      '--template', path.join(dir, 'publisher.conf'),
      '--config', path.join(dir, `${h.name}.d`, 'published-routes.conf'),
      '--bird-socket', hostCtl(st, h),
      '--local-as', String(h.as),
      '--neighbor-ip', h.gateway,
      '--neighbor-as', String(st.tors.find((t) => t.rack === h.rack)!.as),
      '--aggregate', 'blocks',
      '--debounce-ms', '100',
      '--health-port=-1',
      '--log-level', 'info',
    ]);
  }
}

/** One agent per host, inside its namespace; resolves when every one is ready with its CNI files installed. */
export async function startAgents(st: LabState): Promise<void> {
  for (const h of st.hosts) {
    spawnInNs(st.stateDir, `agent-${h.name}`, h.ns, process.execPath, [
      dist('src/agent/main.js'),
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
          mustBeAlive(st.stateDir, `agent-${h.name}`, `romana-agent of ${h.name}`);
          if (!existsSync(h.healthSocket)) return false;
          if ((await unixRequest(h.healthSocket, 'GET', '/readyz', undefined, 2000)).status !== 200) return false;
          return existsSync(path.join(h.confDir, '10-romana.conflist')) && existsSync(path.join(h.binDir, 'romana'));
        },
        { timeoutMs: 30_000, intervalMs: 50 },
      ),
    ),
  );
}

/**
 * romana-dns in its own namespace on the spine segment, serving the
 * snapshot the lab wrote (dns.ts). No upstreams (an empty resolv.conf):
 * names outside the cluster domain are not forwarded anywhere.
 */
export async function startDns(st: LabState): Promise<void> {
  const resolv = path.join(path.dirname(st.dns.snapshot), 'resolv.conf');
  writeFileSync(resolv, '# romana lab: no upstream resolvers\n');
  spawnInNs(st.stateDir, 'dns', st.dns.ns, process.execPath, [
    dist('dns/main.js'),
    '--listen', st.dns.ip,
    '--port', String(st.dns.port),
    '--domain', st.dns.domain,
    '--snapshot', st.dns.snapshot,
    '--resolv-conf', resolv,
    '--health-port', '0',
    '--log-level', 'info',
  ]);
  await waitFor(
    `romana-dns to answer on ${st.dns.ip}:${st.dns.port}`,
    async () => {
      mustBeAlive(st.stateDir, 'dns', 'romana-dns');
      const r = await run('ip', ['netns', 'exec', st.dns.ns, 'dig', `@${st.dns.ip}`, '-p', String(st.dns.port), '+short', '+time=1', '+tries=1', `dns-version.${st.dns.domain}`, 'TXT']);
      return r.code === 0 && r.stdout.includes('1.1.0');
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}
