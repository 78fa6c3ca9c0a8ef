/**
 * Pods as kubelet makes them: the listener's endpoint record first, then
 * CNI ADD with the binary and conflist the host's agent installed, run
 * inside the host's namespace; then a probe agent (probe_agent.ts) inside
 * the pod, answering TCP 8080 and UDP 5353 and taking probes on a control
 * socket `<state>/probes/<pod>.sock`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { must } from './daemon_client.js';
import { invokeCni, type NetnsLab } from './netns.js';
import { dist } from './paths.js';
import { TCP_PORT, UDP_PORT, type LabHostState, type LabPodState, type LabState } from './state.js';
import { mustBeAlive, spawnInNs } from './system.js';

type CniResult = Awaited<ReturnType<typeof invokeCni>>;

/** Pod namespaces (tenants), alternating per pod on a host: pJ is in POD_NAMESPACES[(J-1) % 2]. */
export const POD_NAMESPACES = ['blue', 'green'];

export async function createNamespaces(st: LabState): Promise<void> {
  for (const n of POD_NAMESPACES) await must(st.socket, 'PUT', `/tenants/${n}`, { labels: { 'kubernetes.io/metadata.name': n } });
}

/** Where a host's CNI binary and conflist are (what its agent installed). */
export interface CniHost {
  name: string;
  ns: string;
  confDir: string;
  binDir: string;
}

/**
 * CNI ADD as kubelet runs it: the conflist and binary the host's agent
 * installed, run inside the host's namespace for the pod's namespace
 * `podNs`. Throws with the plugin's output when it fails.
 */
export async function cniAdd(lab: NetnsLab, h: CniHost, podNs: string, cid: string, namespace: string, name: string): Promise<{ ip: string; json: CniResult['json'] }> {
  const conflist = JSON.parse(readFileSync(path.join(h.confDir, '10-romana.conflist'), 'utf8'));
  const add = await invokeCni(
    lab,
    h.ns,
    {
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: cid,
      CNI_NETNS: lab.path(podNs),
      CNI_IFNAME: 'eth0',
      CNI_PATH: h.binDir,
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${name}`,
    },
    conflist,
    { entry: path.join(h.binDir, 'romana') },
  );
  if (add.code !== 0) throw new Error(`CNI ADD of ${namespace}/${name} on ${h.name} failed (${add.code}): ${add.stdout} ${add.stderr}`);
  return { ip: String(add.json.ips[0].address).split('/')[0]!, json: add.json };
}

export async function addPod(lab: NetnsLab, st: LabState, h: LabHostState, j: number): Promise<LabPodState> {
  const name = `${h.name}-p${j}`;
  const namespace = POD_NAMESPACES[(j - 1) % POD_NAMESPACES.length]!;
  await must(st.socket, 'PUT', `/endpoints/${namespace}/${name}`, {
    labels: { app: 'demo', pod: name },
    ports: [
      { name: 'serve-tcp', containerPort: TCP_PORT, protocol: 'TCP' },
      { name: 'serve-udp', containerPort: UDP_PORT, protocol: 'UDP' },
    ],
  });
  const ns = await lab.add(name);
  const cid = `${st.prefix}${name.replace(/-/g, '')}`.padEnd(64, '0');
  const { ip } = await cniAdd(lab, h, ns, cid, namespace, name);
  const control = path.join(st.stateDir, 'probes', `${name}.sock`);
  spawnInNs(st.stateDir, `probe-${name}`, ns, process.execPath, [dist('src/lab/probe_agent.js'), '--tcp', String(TCP_PORT), '--udp', String(UDP_PORT), '--control', control]);
  return { name, namespace, host: h.name, ns, ip, cid, control };
}

export function probeReady(st: LabState, p: LabPodState): boolean {
  mustBeAlive(st.stateDir, `probe-${p.name}`, `the probe agent of ${p.name}`);
  return existsSync(p.control);
}
