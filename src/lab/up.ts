/**
 * `romana lab up`: builds the plan (plan.ts) in order — daemon, namespaces
 * and segments, hosts registered with their rack label (the daemon places
 * each in its rack's prefix group), BIRD on the spine, ToRs and hosts,
 * publishers, agents, pods through the CNI plugin, romana-dns — waiting at
 * each step until what it started is useful, and saving the state after
 * each step so that `lab down` can remove a half-built lab.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { daemonHosts, must } from './daemon_client.js';
import { writeSnapshot } from './dns.js';
import { writeExamples } from './examples.js';
import { buildFabric } from './fabric.js';
import { labNamespaces } from './down.js';
import { NetnsLab } from './netns.js';
import { MAX_HOSTS, labTopology, planLab } from './plan.js';
import { addPod, createNamespaces, probeReady } from './pods.js';
import { waitFor } from './poll.js';
import { daemonReady, startAgents, startDaemon, startDns, startPublishers, startRouters } from './processes.js';
import { torChecks, type TorCheck } from './routes.js';
import { DEFAULT_STATE_DIR, LabError, readState, saveState, type LabState, type Print } from './state.js';
import { ensurePackages, mustBeAlive, portFree, unbuiltFiles } from './system.js';

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

async function preflight(o: LabOptions, print: Print): Promise<void> {
  if (process.getuid?.() !== 0) throw new LabError('romana lab needs root (it creates network namespaces): run it with sudo', 2);
  if (o.hosts < 1 || o.hosts > MAX_HOSTS) throw new LabError(`--hosts must be 1-${MAX_HOSTS}, not ${o.hosts}`, 2);
  if (o.racks < 1 || o.racks > o.hosts) throw new LabError(`--racks must be 1-${o.hosts} (at most one rack per host), not ${o.racks}`, 2);
  if (o.podsPerHost < 0 || o.podsPerHost > 20) throw new LabError(`--pods-per-host must be 0-20, not ${o.podsPerHost}`, 2);
  if (!/^[a-z][a-z0-9]{1,7}$/.test(o.prefix)) throw new LabError(`--prefix must be 2-8 lowercase letters/digits, not ${JSON.stringify(o.prefix)}`, 2);
  const missing = await ensurePackages(o.install, print);
  if (missing.length > 0) throw new LabError(`missing system packages: ${missing.join(', ')}; install them (apt-get install ${[...new Set(missing.map((m) => m.split(' ')[0]))].join(' ')}) or run romana lab up --install`, 2);
  const unbuilt = unbuiltFiles();
  if (unbuilt.length > 0) throw new LabError(`not built: ${unbuilt.join(', ')}; run npm run build (npm run lab builds and starts the lab)`, 2);
  if (readState(o.stateDir) !== null || (await labNamespaces(o.prefix)).length > 0) {
    throw new LabError(`a lab is already up (state in ${o.stateDir}, or ${o.prefix}- namespaces exist): romana lab down${o.stateDir === DEFAULT_STATE_DIR ? '' : ` --state-dir ${o.stateDir}`} first`, 2);
  }
}

export async function labUp(o: LabOptions, print: Print): Promise<LabState> {
  await preflight(o, print);
  const t0 = performance.now();
  for (const d of ['pids', 'logs', 'probes', 'hosts', 'dns']) mkdirSync(path.join(o.stateDir, d), { recursive: true });
  const port = o.port === 9600 && !(await portFree(9600)) ? 0 : o.port;
  const st = planLab(o);
  for (const h of st.hosts) mkdirSync(path.dirname(h.healthSocket), { recursive: true });
  if (port !== o.port) st.notes.push('port 9600 is taken: the daemon listens on another port (below)');
  saveState(st);

  const topoFile = path.join(o.stateDir, 'topology.json');
  writeFileSync(topoFile, JSON.stringify(labTopology(o.racks), null, 2));
  startDaemon(st, port, topoFile);
  const lab = new NetnsLab(o.prefix, { fixedPrefix: true, cleanupOnExit: false });
  await buildFabric(lab, st);

  st.url = await daemonReady(st, port);
  for (const h of st.hosts) await must(st.socket, 'POST', '/hosts', { name: h.name, ip: h.ip, tags: { rack: h.rack } });
  // The ToRs filter and aggregate by their rack's prefix group: as the daemon carved it.
  const placed = await daemonHosts(st.socket);
  for (const t of st.tors) {
    const member = placed.find((x) => st.hosts.some((h) => h.name === x.name && h.rack === t.rack));
    const cidr = member?.groups.at(-1)?.cidr;
    if (!cidr) throw new Error(`the daemon put no host of rack ${t.rack} in a prefix group: ${JSON.stringify(member)}`);
    t.groupCidr = cidr;
  }
  saveState(st);

  await startRouters(st);
  startPublishers(st);
  await startAgents(st);

  await createNamespaces(st);
  // Host by host, not in parallel: each host's blocks then come out of its group's pool
  // next to each other and aggregate (the IPAM hands out the lowest free slot of the group).
  for (const h of st.hosts) for (let j = 1; j <= o.podsPerHost; j++) st.pods.push(await addPod(lab, st, h, j));
  st.pods.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  saveState(st);
  await Promise.all(st.pods.map((p) => waitFor(`the probe agent of pod ${p.name}`, () => probeReady(st, p), { timeoutMs: 30_000, intervalMs: 50 })));

  await routingConverged(st);
  writeSnapshot(st);
  await startDns(st);
  writeExamples(o.stateDir);
  print(`lab up in ${((performance.now() - t0) / 1000).toFixed(1)} s (state and logs in ${o.stateDir})\n\n`);
  return st;
}

/** Every ToR learned its hosts' blocks and the other racks' aggregates (BGP sessions up, publishers rendered). */
async function routingConverged(st: LabState): Promise<void> {
  let last: TorCheck[] = [];
  await waitFor(
    "every ToR to learn its rack's blocks and the other racks' aggregates over BGP",
    async () => {
      for (const h of st.hosts) {
        mustBeAlive(st.stateDir, `publisher-${h.name}`, `romana-publisher of ${h.name}`);
        mustBeAlive(st.stateDir, `bird-${h.name}`, `BIRD of ${h.name}`);
      }
      for (const r of [...st.tors, st.spine]) mustBeAlive(st.stateDir, `bird-${r.name}`, `BIRD of ${r.name}`);
      last = (await torChecks(st)).checks;
      return last.every((c) => c.missing.length === 0 && c.unaggregated.length === 0);
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  ).catch((e: Error) => {
    throw new Error(`${e.message}; ${last.map((c) => `${c.tor.name}: not learned ${c.missing.join(', ') || 'none'}; ${c.unaggregated.join('; ') || 'aggregates ok'}`).join('; ')}`);
  });
}
