/**
 * romana-publisher's Prometheus metrics (prefix `romana_publisher_`), on
 * its own registry (tests run several publishers in one process):
 *
 *   renders_total{result}            template renders: ok | error
 *   applies_total{result}            applies: unchanged | reloaded | error
 *   apply_errors_total{step}         failed applies by step: write | validate | reload
 *   render_duration_seconds          template read + data + execute
 *   apply_duration_seconds           write + check + reload
 *   announced_prefixes               entries in .Networks at the last good render
 *   config_ok                        1 when the last pass put the current state in BIRD, else 0
 *   last_success_timestamp_seconds   end of the last successful pass
 *   watch_events_total               daemon events applied to the state
 *   revision                         daemon store revision the state reflects
 * plus process metrics and the HTTP metrics of the health server.
 *
 * Concurrency rule: plain counters, written by the loop, read by /metrics.
 */
import { Counter, createHttpMetrics, Gauge, Histogram, type HttpMetrics, type Registry } from '../src/shared/metrics.js';

export interface PublisherMetrics {
  readonly http: HttpMetrics;
  readonly registry: Registry;
  readonly renders: Counter<'result'>;
  readonly applies: Counter<'result'>;
  readonly applyErrors: Counter<'step'>;
  readonly renderSeconds: Histogram<string>;
  readonly applySeconds: Histogram<string>;
  readonly announced: Gauge<string>;
  readonly configOk: Gauge<string>;
  readonly lastSuccess: Gauge<string>;
  readonly events: Counter<string>;
  readonly revision: Gauge<string>;
}

const P = 'romana_publisher_';
const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createPublisherMetrics(opts: { defaultMetrics?: boolean } = {}): PublisherMetrics {
  const http = createHttpMetrics(P, opts);
  const registers = [http.registry];
  return {
    http,
    registry: http.registry,
    renders: new Counter({ name: `${P}renders_total`, help: 'Template renders by result (ok, error)', labelNames: ['result'] as const, registers }),
    applies: new Counter({ name: `${P}applies_total`, help: 'Applies of a rendered configuration by result (unchanged, reloaded, error)', labelNames: ['result'] as const, registers }),
    applyErrors: new Counter({ name: `${P}apply_errors_total`, help: 'Failed applies by step (write, validate, reload)', labelNames: ['step'] as const, registers }),
    renderSeconds: new Histogram({ name: `${P}render_duration_seconds`, help: 'Template read, data and execution time', buckets: SECONDS, registers }),
    applySeconds: new Histogram({ name: `${P}apply_duration_seconds`, help: 'Write, check and reload time', buckets: SECONDS, registers }),
    announced: new Gauge({ name: `${P}announced_prefixes`, help: 'Prefixes in .Networks at the last successful render', registers }),
    configOk: new Gauge({ name: `${P}config_ok`, help: '1 when the last pass put the current state into BIRD, 0 after an error', registers }),
    lastSuccess: new Gauge({ name: `${P}last_success_timestamp_seconds`, help: 'Unix time of the last successful pass', registers }),
    events: new Counter({ name: `${P}watch_events_total`, help: 'Daemon watch events applied to the followed state', registers }),
    revision: new Gauge({ name: `${P}revision`, help: 'Daemon store revision the followed state reflects', registers }),
  };
}
