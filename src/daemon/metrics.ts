/**
 * The daemon's Prometheus metrics (GET /metrics), all in one registry:
 *   romana_daemon_http_requests_total{method,route,status}
 *   romana_daemon_http_request_duration_seconds{method,route}
 *   romana_daemon_ipam_allocations_total{result}      result: ok | <error code>
 *   romana_daemon_ipam_releases_total{result}
 *   romana_daemon_store_txn_total{result}             committed | conflict | error
 *   romana_daemon_store_txn_conflicts_total           transactions whose compares failed
 *   romana_daemon_store_txn_duration_seconds
 *   romana_daemon_watch_streams                       open /watch streams
 *   romana_daemon_ipam_{hosts,blocks,addresses}       from the IPAM cache at scrape time
 * plus Node process metrics with the same prefix.
 *
 * Design: store transactions are counted by wrapping the Store
 * (`instrumentStore`), so conflicts of every writer — IPAM, tenants,
 * policies — are seen without touching their code.
 *
 * Concurrency rule: in-process counters only.
 */
import { isRomanaError } from '../core/errors.js';
import { Counter, createHttpMetrics, Gauge, Histogram, type HttpMetrics, type Registry } from '../shared/metrics.js';
import type { Store } from '../store/store.js';

export const METRIC_PREFIX = 'romana_daemon_';

export interface DaemonMetrics {
  readonly http: HttpMetrics;
  readonly registry: Registry;
  allocation(result: string): void;
  release(result: string): void;
  readonly watchStreams: Gauge;
  /** Sets the callback that reports IPAM sizes at scrape time. */
  setIpamSizes(fn: () => { hosts: number; blocks: number; addresses: number }): void;
  readonly txn: {
    observe(result: 'committed' | 'conflict' | 'error', seconds: number): void;
  };
}

export function createDaemonMetrics(): DaemonMetrics {
  const http = createHttpMetrics(METRIC_PREFIX);
  const registry = http.registry;
  const allocations = new Counter({
    name: `${METRIC_PREFIX}ipam_allocations_total`,
    help: 'POST /address outcomes: ok, or the error code',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const releases = new Counter({
    name: `${METRIC_PREFIX}ipam_releases_total`,
    help: 'DELETE /address outcomes: ok, or the error code',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const txns = new Counter({
    name: `${METRIC_PREFIX}store_txn_total`,
    help: 'Store transactions by result',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const conflicts = new Counter({
    name: `${METRIC_PREFIX}store_txn_conflicts_total`,
    help: 'Store transactions whose compare-and-swap failed (another writer got there first)',
    registers: [registry],
  });
  const txnLatency = new Histogram({
    name: `${METRIC_PREFIX}store_txn_duration_seconds`,
    help: 'Store transaction latency',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const watchStreams = new Gauge({ name: `${METRIC_PREFIX}watch_streams`, help: 'Open /watch streams', registers: [registry] });
  let sizes: () => { hosts: number; blocks: number; addresses: number } = () => ({ hosts: 0, blocks: 0, addresses: 0 });
  for (const what of ['hosts', 'blocks', 'addresses'] as const) {
    new Gauge({
      name: `${METRIC_PREFIX}ipam_${what}`,
      help: `IPAM ${what} in this replica's cache`,
      registers: [registry],
      collect() {
        this.set(sizes()[what]);
      },
    });
  }
  return {
    http,
    registry,
    allocation: (result) => allocations.inc({ result }),
    release: (result) => releases.inc({ result }),
    watchStreams,
    setIpamSizes: (fn) => {
      sizes = fn;
    },
    txn: {
      observe(result, seconds) {
        txns.inc({ result });
        if (result === 'conflict') conflicts.inc();
        txnLatency.observe(seconds);
      },
    },
  };
}

/** A Store whose txn() results and latencies are counted; everything else is passed through. */
export function instrumentStore(store: Store, metrics: DaemonMetrics): Store {
  return {
    kind: store.kind,
    get: (k) => store.get(k),
    range: (p) => store.range(p),
    async txn(compares, ops) {
      const t0 = process.hrtime.bigint();
      try {
        const r = await store.txn(compares, ops);
        metrics.txn.observe(r.succeeded ? 'committed' : 'conflict', Number(process.hrtime.bigint() - t0) / 1e9);
        return r;
      } catch (e) {
        metrics.txn.observe('error', Number(process.hrtime.bigint() - t0) / 1e9);
        throw e;
      }
    },
    watch: (p, since, onEvent, onError) => store.watch(p, since, onEvent, onError),
    grantLease: (ttl) => store.grantLease(ttl),
    revision: () => store.revision(),
    compact: (rev) => store.compact(rev),
    close: () => store.close(),
  };
}

/** The result label of an operation's failure. */
export function resultOf(e: unknown): string {
  return isRomanaError(e) ? e.code : 'INTERNAL';
}
