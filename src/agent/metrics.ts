/**
 * The agent's Prometheus metrics (served on /metrics of its health
 * server), on a registry of its own (src/shared/metrics.ts):
 *
 *   romana_agent_sync_duration_seconds{result}   one apply pass (compute + every driver)
 *   romana_agent_apply_failures_total{driver}    failed passes, by the driver that failed
 *   romana_agent_iptables_rules{table}           owned rules (chain rules + jumps) per table
 *   romana_agent_ipsets                          owned ipsets
 *   romana_agent_ipset_members                   members of the owned ipsets
 *   romana_agent_routes                          routes in the agent's table
 *   romana_agent_iptables_rule_writes_total      rule inserts/replaces/deletes + jumps written
 *   romana_agent_ipset_member_writes_total       ipset members written
 *   romana_agent_kernel_writes_total{driver}     write calls (restore, ip -batch, ...)
 *   romana_agent_applied_revision                daemon revision of the last successful pass
 *   romana_agent_ready                           1 once the first full sync succeeded
 *   romana_agent_watch_restarts_total{reason}    re-lists / re-watches of the daemon
 *   romana_agent_heartbeat_failures_total
 * plus the HTTP request metrics and Node process metrics.
 *
 * Concurrency rule: plain in-process counters.
 */
import { Counter, createHttpMetrics, Gauge, Histogram, type HttpMetrics, type Registry } from '../shared/metrics.js';

export interface AgentMetrics {
  readonly http: HttpMetrics;
  readonly registry: Registry;
  readonly syncDuration: Histogram<'result'>;
  readonly failures: Counter<'driver'>;
  readonly iptablesRules: Gauge<'table'>;
  readonly ipsets: Gauge;
  readonly ipsetMembers: Gauge;
  readonly routes: Gauge;
  readonly ruleWrites: Counter;
  readonly memberWrites: Counter;
  readonly kernelWrites: Counter<'driver'>;
  readonly appliedRevision: Gauge;
  readonly ready: Gauge;
  readonly watchRestarts: Counter<'reason'>;
  readonly heartbeatFailures: Counter;
}

export function createAgentMetrics(opts: { defaultMetrics?: boolean } = {}): AgentMetrics {
  const http = createHttpMetrics('romana_agent_', opts);
  const registers = [http.registry];
  return {
    http,
    registry: http.registry,
    syncDuration: new Histogram({
      name: 'romana_agent_sync_duration_seconds',
      help: 'Duration of one apply pass (desired state computed and every driver applied), by result',
      labelNames: ['result'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    failures: new Counter({ name: 'romana_agent_apply_failures_total', help: 'Failed apply passes, by the driver that failed', labelNames: ['driver'] as const, registers }),
    iptablesRules: new Gauge({ name: 'romana_agent_iptables_rules', help: 'Owned iptables rules (chain rules and jumps), by table', labelNames: ['table'] as const, registers }),
    ipsets: new Gauge({ name: 'romana_agent_ipsets', help: 'Owned ipsets', registers }),
    ipsetMembers: new Gauge({ name: 'romana_agent_ipset_members', help: 'Members of the owned ipsets', registers }),
    routes: new Gauge({ name: 'romana_agent_routes', help: 'Routes in the agent-owned routing table', registers }),
    ruleWrites: new Counter({ name: 'romana_agent_iptables_rule_writes_total', help: 'iptables rule inserts, replaces and deletes written (jumps included)', registers }),
    memberWrites: new Counter({ name: 'romana_agent_ipset_member_writes_total', help: 'ipset members written', registers }),
    kernelWrites: new Counter({ name: 'romana_agent_kernel_writes_total', help: 'Calls that changed kernel state, by driver', labelNames: ['driver'] as const, registers }),
    appliedRevision: new Gauge({ name: 'romana_agent_applied_revision', help: 'Daemon store revision of the last successful apply pass', registers }),
    ready: new Gauge({ name: 'romana_agent_ready', help: '1 once the first full sync succeeded', registers }),
    watchRestarts: new Counter({ name: 'romana_agent_watch_restarts_total', help: 'Re-lists and re-watches of the daemon, by reason', labelNames: ['reason'] as const, registers }),
    heartbeatFailures: new Counter({ name: 'romana_agent_heartbeat_failures_total', help: 'Heartbeats the daemon did not accept', registers }),
  };
}
