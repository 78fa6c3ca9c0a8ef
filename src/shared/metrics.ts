/**
 * Prometheus metrics helpers shared by the daemon, the agent and the other
 * HTTP-serving executables: one Registry per server (never prom-client's
 * global one, so tests can run several servers in one process), the HTTP
 * request metrics every server exports, and the text exposition.
 *
 * Design: route labels are the route *pattern* ("/hosts/{name}"), never the
 * raw path, so label cardinality stays bounded whatever clients request;
 * unknown paths are labelled "unmatched".
 *
 * Concurrency rule: prom-client metrics are plain in-process counters; the
 * registry is read only by the /metrics handler.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets (seconds) sized for an API whose target p99 is 50 ms. */
export const HTTP_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface HttpMetrics {
  readonly registry: Registry;
  /** Records one finished request. */
  observe(method: string, route: string, status: number, seconds: number): void;
}

/**
 * A registry with process metrics (`<prefix>process_*`, Node's event loop
 * lag, heap) and the HTTP request metrics:
 *   <prefix>http_requests_total{method,route,status}
 *   <prefix>http_request_duration_seconds{method,route}
 */
export function createHttpMetrics(prefix: string, opts: { defaultMetrics?: boolean } = {}): HttpMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix });
  const requests = new Counter({
    name: `${prefix}http_requests_total`,
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: `${prefix}http_request_duration_seconds`,
    help: 'Time from request start to the last byte of the response, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: HTTP_LATENCY_BUCKETS,
    registers: [registry],
  });
  return {
    registry,
    observe(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      latency.observe({ method, route }, seconds);
    },
  };
}

/** The exposition body and its content type, for a /metrics handler. */
export async function renderMetrics(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
