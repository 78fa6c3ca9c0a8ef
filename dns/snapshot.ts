/**
 * `--snapshot cluster.yaml`: a static cluster in the shape `kubectl get … -o
 * yaml` (or `-o json`) prints — a `List` of items, or several documents
 * separated by `---`, or both — holding Namespaces, Services, Endpoints,
 * EndpointSlices and Pods. Other kinds are ignored.
 *
 * Design: the file is read in chunks and cut into units — one document, or
 * one entry of a document's top-level `items:` sequence (what `kubectl get
 * -o yaml` prints, one List holding every object) — so neither the file
 * nor more than one object's YAML tree is ever alive at once. Each unit is
 * read by yaml_subset.ts (a few µs) or, for shapes that reader leaves out,
 * by the `yaml` package (~100+ µs), and reduced at once to the fields DNS
 * needs (cluster.ts). A Pod is not parsed at all: its name and namespace
 * lines are read off the text (`podFields`), since a kubectl pod is mostly
 * spec, status and managedFields that DNS never reads. Every string kept goes through `keep`, which copies
 * it: V8 substrings can be views into their parent, and one 13-octet IP
 * kept from a document used to keep the whole file text alive (26 MB at
 * 150k pods). EndpointSlices win over Endpoints for a service that has
 * both (kube-proxy and CoreDNS read slices today).
 *
 * Concurrency rule: pure given the text; `loadSnapshotFile` reads one file
 * synchronously (it runs once, before the server listens).
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import YAML from 'yaml';
import { arr, obj, str, type Obj } from './json_values.js';
import type { ClusterState, EndpointSubset, ServiceInfo, ServicePort } from './cluster.js';
import { parseYamlSubset } from './yaml_subset.js';


class Collector {
  /** Copies of every string kept, by value: one copy per distinct string (namespaces, protocols and endpoint IPs repeat). */
  private readonly strings = new Map<string, string>();
  readonly namespaces = new Set<string>();
  readonly services: ServiceInfo[] = [];
  readonly endpoints = new Map<string, EndpointSubset[]>();
  readonly slices = new Map<string, EndpointSubset[]>();
  podCount = 0;

  /**
   * A copy of `v` that shares no memory with the text it was cut from. V8
   * makes views (sliced or cons strings) only of 13 characters or more, so
   * shorter strings are copies already; a longer one is re-decoded from
   * its UTF-8 octets into a fresh flat string. (A concatenation-and-slice
   * copy is cheaper to make but keeps a slice object per string: +5 MB.)
   */
  private keep(v: string): string {
    if (v.length < 13) return v;
    let k = this.strings.get(v);
    if (k === undefined) {
      k = Buffer.from(v, 'utf8').toString('utf8');
      this.strings.set(k, k);
    }
    return k;
  }

  private ports(list: unknown): ServicePort[] {
    return arr(list).map((p) => {
      const o = obj(p);
      return { name: this.keep(str(o['name']) ?? ''), protocol: this.keep((str(o['protocol']) ?? 'TCP').toLowerCase()), port: Number(o['port'] ?? 0) };
    }).filter((p) => p.port > 0 && p.port < 65536);
  }

  /** A pod read by `podFields`: counted when it has a name, as `add` counts one. */
  addPod(namespace: unknown, name: unknown): void {
    if (!str(name)) return;
    const ns = str(namespace) ?? 'default';
    this.podCount++;
    if (!this.namespaces.has(ns)) this.namespaces.add(this.keep(ns));
  }

  add(item: unknown): void {
    const o = obj(item);
    const kind = str(o['kind']);
    if (kind === 'List' || (kind?.endsWith('List') ?? false)) {
      for (const i of arr(o['items'])) this.add(i);
      return;
    }
    const meta = obj(o['metadata']);
    const rawNs = str(meta['namespace']) ?? 'default';
    const rawName = str(meta['name']);
    if (!rawName) return;
    if (kind === 'Pod') {
      // Counted, and its namespace exists; nothing else of a pod is kept.
      this.podCount++;
      if (!this.namespaces.has(rawNs)) this.namespaces.add(this.keep(rawNs));
      return;
    }
    const ns = this.keep(rawNs);
    const name = this.keep(rawName);
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
          namespace: ns, name, type: this.keep(type) as ServiceInfo['type'],
          clusterIPs: type === 'ExternalName' ? [] : ips.filter((ip) => ip !== 'None').map((ip) => this.keep(ip)),
          externalIPs: arr(spec['externalIPs']).map(str).filter((x): x is string => !!x).map((ip) => this.keep(ip)),
          ...(str(spec['externalName']) ? { externalName: this.keep(str(spec['externalName'])!.replace(/\.$/, '')) } : {}),
          ports: this.ports(spec['ports']),
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
            return { ip: this.keep(str(ao['ip']) ?? ''), ready, ...(str(ao['hostname']) ? { hostname: this.keep(str(ao['hostname'])!) } : {}) };
          };
          return {
            addresses: [...arr(so['addresses']).map(addr(true)), ...arr(so['notReadyAddresses']).map(addr(false))].filter((a) => a.ip),
            ports: this.ports(so['ports']),
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
          const host = hostname ? this.keep(hostname) : undefined;
          return arr(eo['addresses']).map(str).filter((x): x is string => !!x).map((ip) => ({ ip: this.keep(ip), ready, ...(host ? { hostname: host } : {}) }));
        });
        const key = `${ns}/${svc}`;
        const list = this.slices.get(key) ?? [];
        list.push({ addresses, ports: this.ports(o['ports']) });
        this.slices.set(key, list);
        break;
      }
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

const SEPARATOR = /^---(?:[ \t\r]|$)/;
const ITEMS = /^items:[ \t]*(?:#.*)?\r?$/;

/**
 * Cuts YAML lines into units (see the header): documents split on `---`;
 * inside a document, each column-0 `- ` entry of a column-0 `items:` key is
 * a unit of its own, and the document without that key is one more unit,
 * after its items. (An `items:` whose entries are indented, or empty, stays
 * in the document.) A unit is `[text, isItem]`.
 */
function* units(lines: Iterable<string>): Generator<[string, boolean]> {
  let doc: string[] = [];
  let item: string[] | undefined;
  /** After an `items:` line: the lines seen before its first entry (blank or comments), or undefined when not in items. */
  let pending: string[] | undefined;
  let streaming = false;
  for (const line of lines) {
    if (SEPARATOR.test(line)) {
      if (item) yield [item.join('\n'), true];
      if (pending) doc.push(...pending);
      yield [doc.join('\n'), false];
      doc = [];
      item = undefined;
      pending = undefined;
      streaming = false;
      continue;
    }
    if (streaming) {
      if (line.startsWith('- ') || line === '-') {
        if (item) yield [item.join('\n'), true];
        item = [line];
        continue;
      }
      if (line === '' || line[0] === ' ' || line[0] === '#' || line[0] === '\r') {
        item!.push(line);
        continue;
      }
      yield [item!.join('\n'), true];
      item = undefined;
      streaming = false;
    } else if (pending) {
      if (line.startsWith('- ') || line === '-') {
        streaming = true;
        pending = undefined;
        item = [line];
        continue;
      }
      if (line.trim() === '' || line.trimStart()[0] === '#') {
        pending.push(line);
        continue;
      }
      doc.push(...pending, line);
      pending = undefined;
      continue;
    }
    if (ITEMS.test(line)) {
      pending = [line];
      continue;
    }
    doc.push(line);
  }
  if (item) yield [item.join('\n'), true];
  if (pending) doc.push(...pending);
  yield [doc.join('\n'), false];
}

function parseUnit(text: string): unknown {
  const fast = parseYamlSubset(text);
  return fast !== undefined ? fast : YAML.parse(text);
}

/** One `key: value` line read alone, as an object, or undefined. */
function keyLine(content: string): Obj | undefined {
  const v = parseYamlSubset(content);
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

/**
 * A Pod unit's metadata.name and metadata.namespace, read off its lines
 * without parsing the pod; undefined when the unit is not a Pod, or not in
 * a shape this reads (then it is parsed whole). All DNS needs of a pod is
 * that it exists in its namespace, and a kubectl pod is mostly spec,
 * status and managedFields: those lines are skipped, not parsed. Lines at
 * the unit's top indentation are its keys (`kind:`, `metadata:`; kubectl
 * prints kind first); `metadata:` is either one flow line or a block
 * whose direct children include `name:` and `namespace:`.
 */
function podFields(text: string, isItem: boolean): { namespace: unknown; name: unknown } | undefined {
  let top = 0;
  let isPod = false;
  let meta: { namespace: unknown; name: unknown } | undefined;
  let inMeta = false;
  let child = -1;
  for (let pos = 0, first = true; pos <= text.length; first = false) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let line = text.slice(pos, end);
    pos = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.includes('\t')) return undefined;
    let indent = 0;
    if (first && isItem) {
      // "- key: v": the item's first key, at the indentation of those that follow.
      const m = /^- +/.exec(line);
      if (!m) return undefined;
      indent = top = m[0].length;
    } else {
      while (line.charCodeAt(indent) === 32) indent++;
    }
    const content = line.slice(indent);
    if (content === '' || content[0] === '#') continue;
    if (indent < top) return undefined;
    if (indent > top) {
      if (inMeta) {
        if (child < 0) child = indent;
        if (indent === child && (content.startsWith('name:') || content.startsWith('namespace:'))) {
          const v = keyLine(content);
          // An empty value may continue on the next line ("name:\n  x"): leave that to the full parse.
          if (!v || Object.values(v)[0] === null) return undefined;
          if ('name' in v) meta!.name = v['name'];
          else meta!.namespace = v['namespace'];
        }
      }
      continue;
    }
    inMeta = false;
    if (isPod && meta) return meta; // past metadata, and a Pod: the rest (spec, status) is not needed
    if (content.startsWith('kind:')) {
      if (keyLine(content)?.['kind'] !== 'Pod') return undefined;
      isPod = true;
    } else if (content.startsWith('metadata:')) {
      if (meta) return undefined;
      const rest = content.slice('metadata:'.length).trim();
      if (rest === '' || rest[0] === '#') {
        meta = { namespace: undefined, name: undefined };
        inMeta = true;
      } else {
        const md = keyLine(content)?.['metadata'];
        if (md === null || typeof md !== 'object' || Array.isArray(md)) return undefined;
        meta = { namespace: (md as Obj)['namespace'], name: (md as Obj)['name'] };
      }
    }
  }
  return isPod && meta ? meta : undefined;
}

function collectYaml(lines: Iterable<string>): ClusterState {
  const c = new Collector();
  for (const [text, isItem] of units(lines)) {
    if (text.trim() === '') continue;
    const pod = podFields(text, isItem);
    if (pod) {
      c.addPod(pod.namespace, pod.name);
      continue;
    }
    const v = parseUnit(text);
    // An item unit is a one-entry sequence ("- apiVersion: …").
    c.add(isItem ? arr(v)[0] : v);
  }
  return c.state();
}

export function parseSnapshot(text: string): ClusterState {
  if (/^\s*[{[]/.test(text)) {
    const c = new Collector();
    c.add(JSON.parse(text));
    return c.state();
  }
  return collectYaml(text.split('\n'));
}

const CHUNK = 1 << 20;

/** The file's lines, read 1 MiB at a time (a line never splits a UTF-8 sequence: it ends at a newline octet). */
function* fileLines(fd: number, first: Buffer, firstLen: number): Generator<string> {
  const buf = Buffer.allocUnsafeSlow(CHUNK);
  let data = first.subarray(0, firstLen);
  for (;;) {
    const last = data.lastIndexOf(10);
    let carry = data;
    if (last >= 0) {
      yield* data.toString('utf8', 0, last).split('\n');
      carry = data.subarray(last + 1);
    }
    // The next read reuses `buf`, which `carry` may point into.
    if (carry.buffer === buf.buffer) carry = Buffer.from(carry);
    const n = readSync(fd, buf, 0, CHUNK, null);
    if (n === 0) {
      if (carry.length > 0) yield carry.toString('utf8');
      return;
    }
    data = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
  }
}

export function loadSnapshotFile(path: string): ClusterState {
  const fd = openSync(path, 'r');
  try {
    const first = Buffer.allocUnsafeSlow(CHUNK);
    const n = readSync(fd, first, 0, CHUNK, null);
    // JSON (kubectl -o json) is one value: JSON.parse wants the whole text, and is fast enough to have it.
    if (/^\s*[{[]/.test(first.toString('latin1', 0, Math.min(n, 256)))) return parseSnapshot(readFileSync(path, 'utf8'));
    return collectYaml(fileLines(fd, first, n));
  } finally {
    closeSync(fd);
  }
}
