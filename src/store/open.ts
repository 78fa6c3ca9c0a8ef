/**
 * openStore(): the one place that picks a backend from configuration
 * (DESIGN §2): etcd when endpoints are given, else the embedded SQLite file
 * in the data directory (default ./romana-data).
 */
import { openEmbeddedStore } from './embedded.js';
import { openEtcdStore } from './etcd.js';
import type { Store } from './store.js';

export const DEFAULT_DATA_DIR = './romana-data';

export interface OpenStoreOptions {
  /** etcd endpoints (array, or comma-separated as given on a command line); selects the etcd backend. */
  etcdEndpoints?: string[] | string;
  /** Embedded backend's directory (default ./romana-data). */
  dataDir?: string;
  /** Key prefix (default "/romana"). */
  prefix?: string;
  /** etcd only: connect and per-request bounds (defaults 3 s and 5 s). */
  dialTimeoutMs?: number;
  callTimeoutMs?: number;
}

export function parseEndpoints(endpoints: string[] | string | undefined): string[] {
  const list = typeof endpoints === 'string' ? endpoints.split(',') : endpoints ?? [];
  return list.map((e) => e.trim()).filter((e) => e !== '');
}

/**
 * Opens the configured store. Unreachable etcd rejects with STORE_UNAVAILABLE
 * naming the endpoints (within the dial + call timeouts); an unusable data
 * directory with STORE_UNAVAILABLE, a damaged file with STORE_CORRUPT.
 */
export async function openStore(opts: OpenStoreOptions = {}): Promise<Store> {
  const endpoints = parseEndpoints(opts.etcdEndpoints);
  if (endpoints.length > 0) {
    // Endpoints win over a data directory: the daemon may pass its --data-dir default regardless.
    return openEtcdStore({
      endpoints,
      ...(opts.prefix === undefined ? {} : { prefix: opts.prefix }),
      ...(opts.dialTimeoutMs === undefined ? {} : { dialTimeoutMs: opts.dialTimeoutMs }),
      ...(opts.callTimeoutMs === undefined ? {} : { callTimeoutMs: opts.callTimeoutMs }),
    });
  }
  return openEmbeddedStore({ dataDir: opts.dataDir ?? DEFAULT_DATA_DIR, ...(opts.prefix === undefined ? {} : { prefix: opts.prefix }) });
}
