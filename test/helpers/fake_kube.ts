/**
 * A small fake Kubernetes API server for the listener (and DNS) tests,
 * speaking the real list/watch protocol over HTTP on loopback:
 * - GET <collection> → a List with metadata.resourceVersion; with `limit`
 *   it pages (metadata.continue; a continuation keeps the first page's
 *   resourceVersion, as the real server does; lists() counts first pages);
 * - GET <collection>?watch=true&resourceVersion=R → 200 and newline-
 *   delimited `{type, object}` events after R (ADDED / MODIFIED / DELETED),
 *   BOOKMARK events when the test calls bookmark() and the client asked
 *   for allowWatchBookmarks; a resourceVersion older than the last
 *   compact() gets an ERROR event carrying a 410 Status (what the real
 *   server sends for "too old resource version") and the stream ends;
 * - one global resourceVersion counter, as etcd gives the real server.
 *
 * Driven by the tests: upsert()/remove() change objects (and notify
 * watches), `silently` changes them without any event (a change the client
 * can only learn by relisting), compact() forgets history, closeWatches()
 * ends every open watch (the client re-watches from its resourceVersion).
 * Counters say how often each collection was listed and watched.
 * PATCH /api/v1/namespaces/{ns}/{resource}/{name} with
 * `application/merge-patch+json` applies an RFC 7386 merge patch (a
 * metadata.resourceVersion in the patch must match, else 409 Conflict, as
 * the real server does) and notifies watches (MODIFIED).
 *
 * Concurrency rule: single event loop; watch streams are plain responses
 * written synchronously on each change.
 */
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Resource = 'nodes' | 'namespaces' | 'pods' | 'networkpolicies' | 'services' | 'endpoints' | 'endpointslices';

const PATHS: Record<string, { resource: Resource; namespace?: string }> = {
  '/api/v1/nodes': { resource: 'nodes' },
  '/api/v1/namespaces': { resource: 'namespaces' },
  '/api/v1/pods': { resource: 'pods' },
  '/api/v1/services': { resource: 'services' },
  '/api/v1/endpoints': { resource: 'endpoints' },
  '/apis/networking.k8s.io/v1/networkpolicies': { resource: 'networkpolicies' },
  '/apis/discovery.k8s.io/v1/endpointslices': { resource: 'endpointslices' },
};

const KINDS: Record<Resource, { kind: string; apiVersion: string; namespaced: boolean }> = {
  nodes: { kind: 'Node', apiVersion: 'v1', namespaced: false },
  namespaces: { kind: 'Namespace', apiVersion: 'v1', namespaced: false },
  pods: { kind: 'Pod', apiVersion: 'v1', namespaced: true },
  services: { kind: 'Service', apiVersion: 'v1', namespaced: true },
  endpoints: { kind: 'Endpoints', apiVersion: 'v1', namespaced: true },
  networkpolicies: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1', namespaced: true },
  endpointslices: { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', namespaced: true },
};

type Obj = Record<string, any>;

/** RFC 7386 JSON merge patch: objects merge key by key, null deletes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Obj = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Obj) } : {};
  for (const [k, v] of Object.entries(patch as Obj)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const ITEM_RE = /^\/api\/v1\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)$/;

interface Watcher {
  resource: Resource;
  res: ServerResponse;
  bookmarks: boolean;
}

export interface FakeKube {
  url: string;
  /** Creates or replaces (ADDED / MODIFIED); fills kind, apiVersion, uid, resourceVersion. Returns the stored object. */
  upsert(resource: Resource, obj: Obj, opts?: { silently?: boolean }): Obj;
  remove(resource: Resource, name: string, namespace?: string, opts?: { silently?: boolean }): void;
  get(resource: Resource, name: string, namespace?: string): Obj | undefined;
  /** Watches from before the current resourceVersion now get 410 Gone. */
  compact(): void;
  /** Sends a BOOKMARK with the current resourceVersion to watches that asked for them. */
  bookmark(): void;
  closeWatches(): void;
  lists(resource: Resource): number;
  /** Successful PATCH requests per resource. */
  patches(resource: Resource): number;
  watches(resource: Resource): number;
  openWatches(resource?: Resource): number;
  /** Query strings of every watch request made (to check allowWatchBookmarks etc.). */
  watchQueries: URLSearchParams[];
  resourceVersion(): number;
  close(): Promise<void>;
}

export async function startFakeKube(): Promise<FakeKube> {
  let rv = 1;
  let compactedRv = 0;
  let uidSeq = 0;
  const objects = new Map<Resource, Map<string, Obj>>();
  const history: Array<{ rv: number; resource: Resource; type: string; object: Obj }> = [];
  const watchers = new Set<Watcher>();
  const listCount = new Map<Resource, number>();
  const watchCount = new Map<Resource, number>();
  const watchQueries: URLSearchParams[] = [];
  const patchCount = new Map<Resource, number>();
  for (const r of Object.keys(KINDS) as Resource[]) objects.set(r, new Map());

  const keyOf = (name: string, namespace?: string): string => (namespace ? `${namespace}/${name}` : name);
  const send = (w: Watcher, type: string, object: Obj): void => {
    w.res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const emit = (resource: Resource, type: string, object: Obj): void => {
    history.push({ rv, resource, type, object });
    for (const w of watchers) if (w.resource === resource) send(w, type, object);
  };

  const status = (res: ServerResponse, code: number, reason: string, message: string): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }));
  };
  const patchItem = (req: http.IncomingMessage, res: ServerResponse, m: RegExpExecArray): void => {
    const [, namespace, resource, name] = m as unknown as [string, string, Resource, string];
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!(resource in KINDS) || KINDS[resource].apiVersion !== 'v1' || !KINDS[resource].namespaced) return status(res, 404, 'NotFound', `no resource ${resource}`);
      if (!(req.headers['content-type'] ?? '').startsWith('application/merge-patch+json')) return status(res, 415, 'UnsupportedMediaType', 'only application/merge-patch+json');
      const existing = objects.get(resource)!.get(keyOf(name, namespace));
      if (!existing) return status(res, 404, 'NotFound', `${resource} "${name}" not found`);
      let patch: Obj;
      try {
        patch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Obj;
      } catch {
        return status(res, 400, 'BadRequest', 'patch is not JSON');
      }
      const wantRv = patch?.metadata?.resourceVersion;
      if (wantRv !== undefined && wantRv !== null && String(wantRv) !== existing.metadata.resourceVersion) {
        return status(res, 409, 'Conflict', `the object has been modified; please apply your changes to the latest version and try again`);
      }
      patchCount.set(resource, (patchCount.get(resource) ?? 0) + 1);
      const merged = mergePatch(existing, patch) as Obj;
      const stored = api.upsert(resource, { ...merged, metadata: { ...merged.metadata, name, namespace } });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(stored));
    });
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const item = req.method === 'PATCH' ? ITEM_RE.exec(url.pathname) : null;
    if (item) return patchItem(req, res, item);
    const route = PATHS[url.pathname];
    if (req.method !== 'GET' || !route) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
      return;
    }
    const { resource } = route;
    const k = KINDS[resource];
    if (url.searchParams.get('watch') !== 'true') {
      // Paging (limit/continue): the token carries the first page's resourceVersion and an offset.
      const limit = Number(url.searchParams.get('limit') ?? '0');
      const cont = url.searchParams.get('continue');
      const from = cont ? (JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as { rv: number; offset: number }) : { rv, offset: 0 };
      if (!cont) listCount.set(resource, (listCount.get(resource) ?? 0) + 1);
      const all = [...objects.get(resource)!.values()];
      const end = limit > 0 ? from.offset + limit : all.length;
      const next = end < all.length ? Buffer.from(JSON.stringify({ rv: from.rv, offset: end })).toString('base64url') : undefined;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: `${k.kind}List`,
          apiVersion: k.apiVersion,
          metadata: { resourceVersion: String(from.rv), ...(next ? { continue: next } : {}) },
          items: all.slice(from.offset, end),
        }),
      );
      return;
    }
    watchCount.set(resource, (watchCount.get(resource) ?? 0) + 1);
    watchQueries.push(url.searchParams);
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const w: Watcher = { resource, res, bookmarks: url.searchParams.get('allowWatchBookmarks') === 'true' };
    if (from < compactedRv) {
      // What the real server does for an expired resourceVersion: 200, one ERROR event, end.
      send(w, 'ERROR', { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${from} (${compactedRv})`, reason: 'Expired', code: 410 });
      res.end();
      return;
    }
    for (const h of history) if (h.resource === resource && h.rv > from) send(w, h.type, h.object);
    watchers.add(w);
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? '0');
    const t = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    res.on('close', () => {
      clearTimeout(t);
      watchers.delete(w);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const api: FakeKube = {
    url: `http://127.0.0.1:${port}`,
    watchQueries,
    upsert(resource, obj, opts = {}) {
      const k = KINDS[resource];
      const md = (obj.metadata ?? {}) as Obj;
      if (!md.name) throw new Error('fake kube: metadata.name required');
      if (k.namespaced && !md.namespace) throw new Error(`fake kube: ${resource} need metadata.namespace`);
      const key = keyOf(md.name, k.namespaced ? md.namespace : undefined);
      const existing = objects.get(resource)!.get(key);
      rv++;
      const stored: Obj = {
        ...obj,
        kind: k.kind,
        apiVersion: k.apiVersion,
        metadata: { ...md, uid: existing?.metadata.uid ?? `uid-${++uidSeq}`, resourceVersion: String(rv) },
      };
      objects.get(resource)!.set(key, stored);
      if (!opts.silently) emit(resource, existing ? 'MODIFIED' : 'ADDED', stored);
      return stored;
    },
    remove(resource, name, namespace, opts = {}) {
      const key = keyOf(name, namespace);
      const existing = objects.get(resource)!.get(key);
      if (!existing) throw new Error(`fake kube: no ${resource} ${key}`);
      objects.get(resource)!.delete(key);
      rv++;
      if (!opts.silently) emit(resource, 'DELETED', { ...existing, metadata: { ...existing.metadata, resourceVersion: String(rv) } });
    },
    get: (resource, name, namespace) => objects.get(resource)!.get(keyOf(name, namespace)),
    compact() {
      compactedRv = rv;
      history.length = 0;
    },
    bookmark() {
      for (const w of watchers) {
        if (w.bookmarks) send(w, 'BOOKMARK', { kind: KINDS[w.resource].kind, apiVersion: KINDS[w.resource].apiVersion, metadata: { resourceVersion: String(rv) } });
      }
    },
    closeWatches() {
      for (const w of [...watchers]) w.res.end();
      watchers.clear();
    },
    lists: (r) => listCount.get(r) ?? 0,
    patches: (r) => patchCount.get(r) ?? 0,
    watches: (r) => watchCount.get(r) ?? 0,
    openWatches: (r) => [...watchers].filter((w) => r === undefined || w.resource === r).length,
    resourceVersion: () => rv,
    async close() {
      for (const w of [...watchers]) w.res.destroy();
      watchers.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}
