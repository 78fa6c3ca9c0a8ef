/**
 * `--snapshot cluster.yaml`: a static cluster in the shape `kubectl get … -o
 * yaml` (or `-o json`) prints — a `List` of items, or several documents
 * separated by `---`, or both — holding Namespaces, Services, Endpoints,
 * EndpointSlices and Pods. Other kinds are ignored.
 *
 * Design: documents are parsed one at a time and reduced at once to the
 * fields DNS needs (cluster.ts), so a file with 150k pods never has all its
 * YAML trees alive together. EndpointSlices win over Endpoints for a service
 * that has both (kube-proxy and CoreDNS read slices today).
 *
 * Concurrency rule: pure given the text; `loadSnapshotFile` reads one file.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { ClusterState, EndpointSubset, ServiceInfo, ServicePort } from './cluster.js';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function ports(list: unknown): ServicePort[] {
  return arr(list).map((p) => {
    const o = obj(p);
    return { name: str(o['name']) ?? '', protocol: (str(o['protocol']) ?? 'TCP').toLowerCase(), port: Number(o['port'] ?? 0) };
  }).filter((p) => p.port > 0 && p.port < 65536);
}

class Collector {
  readonly namespaces = new Set<string>();
  readonly services: ServiceInfo[] = [];
  readonly endpoints = new Map<string, EndpointSubset[]>();
  readonly slices = new Map<string, EndpointSubset[]>();
  podCount = 0;

  add(item: unknown): void {
    const o = obj(item);
    const kind = str(o['kind']);
    if (kind === 'List' || (kind?.endsWith('List') ?? false)) {
      for (const i of arr(o['items'])) this.add(i);
      return;
    }
    const meta = obj(o['metadata']);
    const ns = str(meta['namespace']) ?? 'default';
    const name = str(meta['name']);
    if (!name) return;
    const spec = obj(o['spec']);
    switch (kind) {
      case 'Namespace':
        this.namespaces.add(name);
        break;
      case 'Service': {
        const type = (str(spec['type']) ?? 'ClusterIP') as ServiceInfo['type'];
        const ips = arr(spec['clusterIPs']).map(str).filter((x): x is string => !!x);
        if (ips.length === 0 && str(spec['clusterIP'])) ips.push(str(spec['clusterIP'])!);
        this.services.push({
          namespace: ns, name, type,
          clusterIPs: type === 'ExternalName' ? [] : ips.filter((ip) => ip !== 'None'),
          externalIPs: arr(spec['externalIPs']).map(str).filter((x): x is string => !!x),
          ...(str(spec['externalName']) ? { externalName: str(spec['externalName'])!.replace(/\.$/, '') } : {}),
          ports: ports(spec['ports']),
          publishNotReadyAddresses: spec['publishNotReadyAddresses'] === true,
        });
        this.namespaces.add(ns);
        break;
      }
      case 'Endpoints': {
        const subsets: EndpointSubset[] = arr(o['subsets']).map((s) => {
          const so = obj(s);
          const addr = (ready: boolean) => (a: unknown) => {
            const ao = obj(a);
            return { ip: str(ao['ip']) ?? '', ready, ...(str(ao['hostname']) ? { hostname: str(ao['hostname'])! } : {}) };
          };
          return {
            addresses: [...arr(so['addresses']).map(addr(true)), ...arr(so['notReadyAddresses']).map(addr(false))].filter((a) => a.ip),
            ports: ports(so['ports']),
          };
        });
        this.endpoints.set(`${ns}/${name}`, subsets);
        break;
      }
      case 'EndpointSlice': {
        const svc = str(obj(meta['labels'])['kubernetes.io/service-name']);
        if (!svc) break;
        const addresses = arr(o['endpoints']).flatMap((e) => {
          const eo = obj(e);
          const ready = obj(eo['conditions'])['ready'] !== false;
          const hostname = str(eo['hostname']);
          return arr(eo['addresses']).map(str).filter((x): x is string => !!x).map((ip) => ({ ip, ready, ...(hostname ? { hostname } : {}) }));
        });
        const key = `${ns}/${svc}`;
        const list = this.slices.get(key) ?? [];
        list.push({ addresses, ports: ports(o['ports']) });
        this.slices.set(key, list);
        break;
      }
      case 'Pod':
        this.podCount++;
        this.namespaces.add(ns);
        break;
      default:
        break;
    }
  }

  state(): ClusterState {
    const endpoints = new Map(this.endpoints);
    for (const [k, v] of this.slices) endpoints.set(k, v);
    return { namespaces: [...this.namespaces].sort(), services: this.services, endpoints, podCount: this.podCount };
  }
}

/** Splits a multi-document YAML stream on `---` lines without parsing it as a whole. */
function* documents(text: string): Generator<string> {
  const re = /^---[ \t]*(?:#.*)?$/gm;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    yield text.slice(last, m.index);
    last = m.index + m[0].length;
  }
  yield text.slice(last);
}

export function parseSnapshot(text: string): ClusterState {
  const c = new Collector();
  if (/^\s*[{[]/.test(text)) {
    c.add(JSON.parse(text));
    return c.state();
  }
  for (const doc of documents(text)) {
    if (doc.trim() === '') continue;
    c.add(YAML.parse(doc));
  }
  return c.state();
}

export function loadSnapshotFile(path: string): ClusterState {
  return parseSnapshot(readFileSync(path, 'utf8'));
}
