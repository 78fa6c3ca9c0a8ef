/**
 * romana-aws's controller: Source/Dest-Check off on every node's EC2
 * instance, so instances may forward pod traffic (reference §10.1, with
 * retries and periodic reconcile added — the original acted once per node
 * add and only logged errors).
 *
 * Design: each run lists the daemon's hosts; a host's instance is named by
 * its tags (provider ID `aws:///<zone>/i-…` or a bare instance id, see
 * src/core/aws/instance_id.ts) or else found by its private IP. One
 * DescribeInstances covers every host (per-id fallback when an id is
 * unknown to EC2); only instances whose SourceDestCheck is not already
 * false get a ModifyInstanceAttribute. EC2 throttling is retried by Ec2Api
 * with backoff. Each host gets one log line when its state changes
 * (disabled now, already disabled, not found, failed), not every run.
 *
 * Concurrency rule: at most one run at a time; a trigger during a run
 * coalesces into one follow-up run.
 */
import { instanceIdFromTags } from '../core/aws/instance_id.js';
import type { Logger } from '../shared/log.js';
import { Counter, Gauge, type Registry } from '../shared/metrics.js';
import { describeError, type Ec2Api, type InstanceInfo } from './ec2.js';

export interface NodeHost {
  readonly name: string;
  readonly ip: string;
  readonly tags: Readonly<Record<string, string>>;
}

export type HostOutcome = 'disabled' | 'already-disabled' | 'not-found' | 'failed';

export interface HostState {
  readonly host: string;
  readonly ip: string;
  readonly instanceId: string | null;
  readonly outcome: HostOutcome;
  readonly error?: string;
}

export interface SourceDestOptions {
  readonly ec2: Ec2Api;
  readonly listHosts: () => Promise<NodeHost[]>;
  readonly log: Logger;
  readonly registry?: Registry;
}

export class SourceDestController {
  private readonly last = new Map<string, HostState>();
  private running = false;
  private pending = false;
  private idle: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private readonly m;
  lastError: string | null = null;
  runs = 0;

  constructor(private readonly o: SourceDestOptions) {
    const registers = o.registry ? [o.registry] : [];
    this.m = {
      outcomes: new Counter({ name: 'romana_aws_source_dest_total', help: 'Per-node Source/Dest-Check results, by outcome', labelNames: ['outcome'] as const, registers }),
      runs: new Counter({ name: 'romana_aws_reconciles_total', help: 'Reconcile runs, by result', labelNames: ['result'] as const, registers }),
      nodes: new Gauge({ name: 'romana_aws_nodes', help: 'Nodes by current Source/Dest-Check state', labelNames: ['state'] as const, registers }),
    };
  }

  trigger(): Promise<void> {
    if (this.running) {
      this.pending = true;
      return this.idle;
    }
    this.running = true;
    this.idle = (async () => {
      do {
        this.pending = false;
        await this.runOnce();
      } while (this.pending);
      this.running = false;
    })();
    return this.idle;
  }

  start(intervalMs: number): void {
    const tick = (): void => {
      void this.trigger().finally(() => {
        if (this.timer !== null) this.timer = setTimeout(tick, intervalMs);
      });
    };
    this.timer = setTimeout(tick, intervalMs);
    void this.trigger();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.idle;
  }

  states(): HostState[] {
    return [...this.last.values()].sort((a, b) => (a.host < b.host ? -1 : 1));
  }

  private async runOnce(): Promise<void> {
    this.runs++;
    try {
      const hosts = await this.o.listHosts();
      const byId = new Map<string, InstanceInfo>();
      const ids = [...new Set(hosts.map((h) => instanceIdFromTags(h.tags)).filter((x): x is string => x !== null))];
      if (ids.length > 0) {
        try {
          for (const i of await this.o.ec2.describeInstances({ ids })) byId.set(i.instanceId, i);
        } catch (e) {
          // One unknown id fails the whole call: ask one by one so the others still get done.
          if (!/InvalidInstanceID/.test(describeError(e))) throw e;
          for (const id of ids) {
            try {
              for (const i of await this.o.ec2.describeInstances({ ids: [id] })) byId.set(i.instanceId, i);
            } catch (e2) {
              if (!/InvalidInstanceID/.test(describeError(e2))) throw e2;
            }
          }
        }
      }
      const untagged = hosts.filter((h) => instanceIdFromTags(h.tags) === null);
      const byIp = await this.o.ec2.instancesByIp(untagged.map((h) => h.ip));
      const seen = new Set<string>();
      for (const h of hosts) {
        seen.add(h.name);
        const id = instanceIdFromTags(h.tags);
        const inst = id !== null ? byId.get(id) : byIp.get(h.ip);
        this.record(await this.handle(h, id, inst));
      }
      for (const name of [...this.last.keys()]) if (!seen.has(name)) this.last.delete(name);
      this.lastError = null;
      this.m.runs.inc({ result: 'ok' });
    } catch (e) {
      this.lastError = describeError(e);
      this.m.runs.inc({ result: 'error' });
      this.o.log.error({ err: this.lastError }, `Source/Dest-Check reconcile failed: ${this.lastError}`);
    }
    this.m.nodes.reset();
    for (const s of this.last.values()) this.m.nodes.inc({ state: s.outcome });
  }

  private async handle(h: NodeHost, id: string | null, inst: InstanceInfo | undefined): Promise<HostState> {
    const base = { host: h.name, ip: h.ip };
    if (!inst) return { ...base, instanceId: id, outcome: 'not-found', error: id ? `instance ${id} not found` : `no instance with private IP ${h.ip}` };
    if (inst.sourceDestCheck === false) return { ...base, instanceId: inst.instanceId, outcome: 'already-disabled' };
    try {
      await this.o.ec2.disableSourceDestCheck(inst.instanceId);
      return { ...base, instanceId: inst.instanceId, outcome: 'disabled' };
    } catch (e) {
      return { ...base, instanceId: inst.instanceId, outcome: 'failed', error: describeError(e) };
    }
  }

  private record(s: HostState): void {
    const prev = this.last.get(s.host);
    this.last.set(s.host, s);
    this.m.outcomes.inc({ outcome: s.outcome });
    // "disabled" is reported once; afterwards the instance reads back as already disabled.
    const same = prev && prev.instanceId === s.instanceId && (prev.outcome === s.outcome || (prev.outcome === 'disabled' && s.outcome === 'already-disabled'));
    if (same && s.outcome !== 'failed') return;
    const ctx = { host: s.host, ip: s.ip, instance: s.instanceId, outcome: s.outcome, ...(s.error ? { err: s.error } : {}) };
    switch (s.outcome) {
      case 'disabled':
        this.o.log.info(ctx, `Node ${s.host}: Source/Dest-Check disabled on ${s.instanceId}`);
        break;
      case 'already-disabled':
        this.o.log.info(ctx, `Node ${s.host}: Source/Dest-Check already disabled on ${s.instanceId}`);
        break;
      case 'not-found':
        this.o.log.warn(ctx, `Node ${s.host}: no EC2 instance found (${s.error}); will retry`);
        break;
      case 'failed':
        this.o.log.error(ctx, `Node ${s.host}: disabling Source/Dest-Check on ${s.instanceId} failed: ${s.error}; will retry`);
        break;
    }
  }
}
