/**
 * Kubernetes side of romana-listener: the KubeConfig (kubeconfig file,
 * in-cluster, or a bare --server URL) and one list+watch informer per
 * resource, built on @kubernetes/client-node's ListWatch.
 *
 * Design:
 * - Lists are made here over raw HTTP with the KubeConfig's TLS and auth
 *   (not the generated typed API): watch events arrive as raw JSON, and
 *   the typed models rename wire fields (`from` → `_from`), so raw lists
 *   keep every cached object in one shape — the wire's.
 * - Watches ask for bookmarks (allowWatchBookmarks) and a server-side
 *   timeout, so the resourceVersion stays fresh and half-open connections
 *   end; ListWatch relists when the server answers 410 Gone (HTTP 410 or an
 *   ERROR event with code 410) and diffs the new list against its cache
 *   (deletes missed while disconnected become delete callbacks).
 * - ListWatch stops on any other error; `start()` here restarts it with
 *   doubling back-off (0.5 s → 30 s) until stop().
 * - `synced` turns true once the first list has been applied to the cache
 *   (the list's callbacks run synchronously after the list promise, so a
 *   macrotask later the cache holds it); `onSynced` is told then.
 * - Optional `transform` (romana-dns): every listed and watched object is
 *   reduced before ListWatch caches it or calls back, so a cache of 150k
 *   objects holds only the fields the caller reads. It must keep
 *   metadata.name, namespace and resourceVersion (the cache's keys and its
 *   "changed?" test). Optional `pageSize` lists in pages (limit/continue),
 *   so a large list is never held whole before it is transformed.
 *
 * Concurrency rule: everything runs on the event loop; callbacks are
 * invoked synchronously by ListWatch and must not block.
 */
import http from 'node:http';
import https from 'node:https';
import { KubeConfig, ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../shared/log.js';
import type { KubeObject } from './translate.js';

export function loadKubeConfig(opts: { kubeconfig: string | null; server: string | null }): KubeConfig {
  const kc = new KubeConfig();
  if (opts.server !== null) {
    // client-node refuses plain http unless TLS verification is off; there is no TLS to verify then.
    kc.loadFromClusterAndUser({ name: 'listener', server: opts.server, skipTLSVerify: opts.server.startsWith('http:') }, { name: 'listener' });
  } else if (opts.kubeconfig !== null) {
    kc.loadFromFile(opts.kubeconfig);
  } else {
    // In-cluster when the service account is mounted, else ~/.kube/config.
    kc.loadFromDefault();
  }
  return kc;
}

export class KubeHttpError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

/** One request over raw HTTP with the KubeConfig's credentials; the JSON answer (any 2xx), else KubeHttpError. */
async function requestRaw(kc: KubeConfig, method: string, path: string, body: { contentType: string; value: unknown } | null, timeoutMs: number): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('No current cluster in the kubeconfig');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  const headers: Record<string, string> = { accept: 'application/json' };
  const payload = body === null ? null : Buffer.from(JSON.stringify(body.value));
  if (body !== null) {
    headers['content-type'] = body.contentType;
    headers['content-length'] = String(payload!.length);
  }
  const opts: https.RequestOptions = { method, headers };
  await kc.applyToHTTPSOptions(opts);
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { ...opts, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          reject(new KubeHttpError(`${method} ${path}: HTTP ${status}: ${text.slice(0, 200)}`, status));
          return;
        }
        try {
          resolve(JSON.parse(text) as unknown);
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload ?? undefined);
  });
}

/** GET a list over raw HTTP with the KubeConfig's credentials. */
export async function listRaw(kc: KubeConfig, path: string, timeoutMs = 60_000): Promise<KubernetesListObject<KubernetesObject>> {
  return (await requestRaw(kc, 'GET', path, null, timeoutMs)) as KubernetesListObject<KubernetesObject>;
}

/**
 * GET a list in pages of `pageSize` (limit/continue), passing each page's
 * items through `transform` before the next page is fetched. The result
 * carries the resourceVersion of the first page: the server serves every
 * continuation from that snapshot, so watching from it misses nothing.
 * An expired continue token (410) fails the whole list; the caller relists.
 */
export async function listPaged(
  kc: KubeConfig,
  path: string,
  pageSize: number,
  transform: (o: KubernetesObject) => KubernetesObject,
  timeoutMs = 60_000,
): Promise<KubernetesListObject<KubernetesObject>> {
  const items: KubernetesObject[] = [];
  let first: KubernetesListObject<KubernetesObject> | undefined;
  let cont = '';
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await listRaw(kc, `${path}${sep}limit=${pageSize}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, timeoutMs);
    first ??= page;
    for (const o of page.items ?? []) items.push(transform(o));
    // Raw JSON says `continue` (the typed models rename it `_continue`).
    cont = (page.metadata as { continue?: string } | undefined)?.continue ?? '';
  } while (cont);
  return { ...first, items, metadata: { resourceVersion: first.metadata?.resourceVersion } } as KubernetesListObject<KubernetesObject>;
}

/**
 * JSON merge patch (RFC 7386) of one Service. A patch carrying
 * metadata.resourceVersion fails with HTTP 409 when the Service changed
 * since (optimistic concurrency: the caller retries from a fresh cache).
 */
export async function patchService(kc: KubeConfig, namespace: string, name: string, patch: unknown, timeoutMs = 30_000): Promise<KubeObject> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}`;
  return (await requestRaw(kc, 'PATCH', path, { contentType: 'application/merge-patch+json', value: patch }, timeoutMs)) as KubeObject;
}

/** Adds bookmark and timeout parameters to every watch ListWatch opens; reduces objects with `transform`. */
class BookmarkWatch extends Watch {
  constructor(
    kc: KubeConfig,
    private readonly transform?: (o: KubernetesObject) => KubernetesObject,
  ) {
    super(kc);
  }

  override watch(path: string, queryParams: Record<string, unknown>, cb: (phase: string, apiObj: any, watchObj?: any) => void, done: (err: any) => void): Promise<AbortController> {
    // A server-side timeout (jittered like client-go's 5–10 min) ends
    // half-open watches; ListWatch then re-watches from its resourceVersion.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const t = this.transform;
    // ERROR (410) and BOOKMARK objects pass unchanged: ListWatch reads their code and resourceVersion.
    const each = t === undefined ? cb : (phase: string, apiObj: any): void => cb(phase, phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? t(apiObj as KubernetesObject) : apiObj);
    return super.watch(path, { ...queryParams, allowWatchBookmarks: true, timeoutSeconds }, each, done);
  }
}

export interface InformerHandlers {
  /** Added or modified (ListWatch reports both after a relist too). */
  upsert(obj: KubeObject): void;
  remove(obj: KubeObject): void;
}

export interface ResourceInformer {
  readonly resource: string;
  readonly synced: boolean;
  /** Number of full lists made (1 after start; more after 410 Gone or restarts). */
  readonly lists: number;
  get(name: string, namespace?: string): KubeObject | undefined;
  list(): KubeObject[];
  start(): void;
  stop(): Promise<void>;
}

export function makeResourceInformer(
  kc: KubeConfig,
  resource: string,
  path: string,
  handlers: InformerHandlers,
  log: Logger,
  hooks: {
    onList?: (resource: string) => void;
    /** Called once, when the first list is in the cache. */
    onSynced?: (resource: string) => void;
    /** Reduces each object before it is cached (see the header). */
    transform?: (o: KubernetesObject) => KubernetesObject;
    /** List in pages of this many items (default: one request). */
    pageSize?: number;
  } = {},
): ResourceInformer {
  let synced = false;
  let lists = 0;
  let stopped = true;
  let backoffMs = 500;
  let retryTimer: NodeJS.Timeout | undefined;
  const listFn = async (): Promise<KubernetesListObject<KubernetesObject>> => {
    const { transform, pageSize } = hooks;
    let out: KubernetesListObject<KubernetesObject>;
    if (pageSize !== undefined) out = await listPaged(kc, path, pageSize, transform ?? ((o) => o));
    else {
      out = await listRaw(kc, path);
      if (transform !== undefined) out.items = out.items.map(transform);
    }
    lists++;
    hooks.onList?.(resource);
    if (!synced) {
      setImmediate(() => {
        synced = true;
        log.info({ resource, items: out.items.length }, 'cache synced');
        hooks.onSynced?.(resource);
      });
    }
    backoffMs = 500;
    return out;
  };
  const lw = new ListWatch<KubernetesObject>(path, new BookmarkWatch(kc, hooks.transform), listFn, false);
  lw.on('add', (o) => handlers.upsert(o as KubeObject));
  lw.on('update', (o) => handlers.upsert(o as KubeObject));
  lw.on('delete', (o) => handlers.remove(o as KubeObject));
  lw.on('error', (err: unknown) => {
    if (stopped) return;
    log.warn({ resource, err: String((err as Error)?.message ?? err), retryMs: backoffMs }, 'list/watch failed; retrying');
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      if (!stopped) void lw.start();
    }, backoffMs);
    backoffMs = Math.min(backoffMs * 2, 30_000);
  });
  return {
    resource,
    get synced() {
      return synced;
    },
    get lists() {
      return lists;
    },
    get: (name, namespace) => lw.get(name, namespace) as KubeObject | undefined,
    list: () => lw.list() as KubeObject[],
    start() {
      stopped = false;
      void lw.start();
    },
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      await lw.stop();
    },
  };
}

/** The resources the listener follows and their list/watch paths (all namespaces). */
export const RESOURCES = [
  { resource: 'namespaces', path: '/api/v1/namespaces' },
  { resource: 'nodes', path: '/api/v1/nodes' },
  { resource: 'pods', path: '/api/v1/pods' },
  { resource: 'networkpolicies', path: '/apis/networking.k8s.io/v1/networkpolicies' },
  { resource: 'services', path: '/api/v1/services' },
  // Only to learn which nodes have a ready endpoint of an annotated Service (its VIP candidates).
  { resource: 'endpoints', path: '/api/v1/endpoints' },
] as const;

export type ResourceName = (typeof RESOURCES)[number]['resource'];
