/**
 * DNS in the lab: the cluster romana-dns serves, written by `lab up` as a
 * `--snapshot` (the `kubectl get -o yaml` shape) from the lab's pods, and
 * the lookups `lab check` makes from inside pods with dig.
 *
 * The snapshot: the namespaces blue and green, every pod, and two services
 * whose endpoints are lab pods —
 *   blue/web   headless, endpoints = blue pods with hostname = pod name, so
 *              `web.blue.svc.<domain>` answers every blue pod and
 *              `<pod>.web.blue.svc.<domain>` one pod (a StatefulSet's names)
 *   green/db   ClusterIP 10.96.0.20, endpoints = green pods: answers carry
 *              the cluster IP and (Romana's extension) the pods' IPs
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { run } from './netns.js';
import { byPrefix } from './plan.js';
import { TCP_PORT, type LabPodState, type LabState } from './state.js';

export const DB_CLUSTER_IP = '10.96.0.20';

export interface DnsQuery {
  /** The name asked (A). */
  name: string;
  /** What it must answer, sorted. */
  want: string[];
  what: string;
}

export function snapshotItems(st: LabState): unknown[] {
  const pods = (ns: string): LabPodState[] => st.pods.filter((p) => p.namespace === ns);
  const port = { name: 'http', port: TCP_PORT, protocol: 'TCP' };
  return [
    ...['blue', 'green'].map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
    ...st.pods.map((p) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: p.namespace, name: p.name }, spec: { nodeName: p.host }, status: { podIP: p.ip } })),
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'blue', name: 'web' }, spec: { clusterIP: 'None', ports: [port] } },
    {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { namespace: 'blue', name: 'web' },
      subsets: [{ addresses: pods('blue').map((p) => ({ ip: p.ip, hostname: p.name })), ports: [port] }],
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'green', name: 'db' }, spec: { type: 'ClusterIP', clusterIP: DB_CLUSTER_IP, ports: [port] } },
    { apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: 'green', name: 'db' }, subsets: [{ addresses: pods('green').map((p) => ({ ip: p.ip })), ports: [port] }] },
  ];
}

export function writeSnapshot(st: LabState): void {
  mkdirSync(path.dirname(st.dns.snapshot), { recursive: true });
  writeFileSync(st.dns.snapshot, `# romana lab: the cluster romana-dns serves (written by romana lab up)\n${stringify({ apiVersion: 'v1', kind: 'List', items: snapshotItems(st) })}`);
}

/** The names `lab check` resolves, with the answers they must give. */
export function dnsQueries(st: LabState): DnsQuery[] {
  const d = st.dns.domain;
  const ips = (ns: string): string[] => st.pods.filter((p) => p.namespace === ns).map((p) => p.ip);
  const q: DnsQuery[] = [];
  if (ips('blue').length > 0) q.push({ name: `web.blue.svc.${d}`, want: ips('blue').sort(byPrefix), what: 'headless service blue/web: every blue pod' });
  q.push({ name: `db.green.svc.${d}`, want: [DB_CLUSTER_IP, ...ips('green')].sort(byPrefix), what: 'service green/db: its cluster IP and its endpoints' });
  const pod = st.pods.find((p) => p.namespace === 'blue');
  if (pod) q.push({ name: `${pod.name}.web.blue.svc.${d}`, want: [pod.ip], what: `pod ${pod.name} by name: its hostname under blue/web` });
  return q;
}

export function digArgs(st: LabState, name: string): string[] {
  return [`@${st.dns.ip}`, ...(st.dns.port === 53 ? [] : ['-p', String(st.dns.port)]), '+short', '+time=1', '+tries=2', name, 'A'];
}

/** Asks romana-dns from inside a pod's namespace (the query crosses the pod's host, its ToR and the spine segment). */
export async function resolveFrom(st: LabState, pod: LabPodState, name: string): Promise<{ ok: boolean; answers: string[]; error?: string }> {
  const r = await run('ip', ['netns', 'exec', pod.ns, 'dig', ...digArgs(st, name)], { timeoutMs: 10_000 });
  const answers = r.stdout.split('\n').map((l) => l.trim()).filter((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l)).sort(byPrefix);
  if (r.code !== 0) return { ok: false, answers, error: (r.stdout + r.stderr).trim().split('\n').pop() ?? `dig exit ${r.code}` };
  return { ok: true, answers };
}
