/**
 * The listener's controller: keeps the daemon in step with the Kubernetes
 * caches, level-triggered.
 *
 * Goal: every Node is a host (tags = labels), every Namespace a tenant with
 * its labels, every pod an endpoint (labels, ports), every NetworkPolicy a
 * stored policy — and what Kubernetes no longer has is removed, but only
 * what the listener owns: hosts with the managed tag, tenants that have
 * labels (made by PUT /tenants), endpoints, stored NetworkPolicies.
 *
 * Design (STYLE §1, §3):
 * - Event handlers only mark keys dirty (`<resource>|<ns/name>`); one worker
 *   drains the dirty set and, per key, compares the cache with the daemon
 *   and writes the difference. A failed key stays dirty and is retried with
 *   doubling back-off (0.2 s → 30 s); the order of a pass is namespaces,
 *   nodes, pods, policies, services (tenants before their endpoints).
 * - Nothing is written before every cache has synced; the first reconcile
 *   (marks every cached key and every owned daemon object dirty) then runs,
 *   and readiness means "synced and first reconcile done". Reconcile repeats
 *   every --resync.
 * - A deleted node's host is removed only after --node-grace (its blocks
 *   are released with it); a node that comes back in time keeps its host.
 * - An endpoint with no pod in the cache is deleted by reconcile only when
 *   the previous reconcile saw it orphaned too: the CNI plugin may create an
 *   endpoint for a pod the watch has not delivered yet.
 * - Services with the VIP annotation: PUT /vips/{ns}/{svc} (address or
 *   auto; candidates = nodes of the Service's ready Endpoints addresses —
 *   an Endpoints event marks its Service dirty), then the VIP is merged into
 *   spec.externalIPs by a merge PATCH guarded by resourceVersion. No
 *   (valid) annotation or no Service → DELETE and the listener's external
 *   IP taken back; reconcile marks every daemon VIP record whose Service
 *   lacks the annotation (all VIP records are the listener's).
 * - Leak scan (every min(--resync, --leak-grace/2)): a CNI address
 *   (`cni:<ns>:<pod>:…`) whose pod is absent or finished is "orphaned"; past
 *   --leak-grace it is reported (log once, gauge), and released with
 *   --release-leaked after re-checking the cache. A live pod's address is
 *   never released.
 *
 * Concurrency rule: one drain pass at a time (`current`); handlers and
 * timers only touch the dirty map and wake the worker.
 */
import type { RomanaClient } from '../shared/api_client.js';
import type { HostJson } from '../shared/api_types.js';
import { RomanaError } from '../core/errors.js';
import type { Logger } from '../shared/log.js';
import { Counter, Gauge, type Registry } from '../shared/metrics.js';
import {
  isManagedHost,
  namespaceToTenant,
  nodeToHost,
  objectKey,
  podHasRomanaNetwork,
  podToEndpoint,
  externalIpsPatch,
  policyForDaemon,
  readyEndpointNodes,
  sameLabels,
  scanLeaks,
  serviceVip,
  type KubeObject,
} from './translate.js';
import { KubeHttpError, type ResourceName } from './kube.js';

export interface Caches {
  synced(): boolean;
  /** name and, for namespaced resources, namespace. */
  get(resource: ResourceName, name: string, namespace?: string): KubeObject | undefined;
  list(resource: ResourceName): KubeObject[];
}

export interface ControllerOptions {
  client: RomanaClient;
  caches: Caches;
  log: Logger;
  registry: Registry;
  resyncMs: number;
  nodeGraceMs: number;
  leakGraceMs: number;
  releaseLeaked: boolean;
  segmentLabel: string;
  /** Writes to the Kubernetes API (the VIP into a Service's externalIPs); absent = the listener never writes to Kubernetes. */
  kube?: KubeWriter;
  now?: () => number;
}

export interface KubeWriter {
  /** JSON merge patch of a Service; rejects on HTTP errors (409 when its resourceVersion is stale). */
  patchService(namespace: string, name: string, patch: Record<string, unknown>): Promise<unknown>;
}

const ORDER: readonly ResourceName[] = ['namespaces', 'nodes', 'pods', 'networkpolicies', 'services'];
const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 30_000;

interface Dirty {
  attempts: number;
  notBefore: number;
}

function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

function isCode(e: unknown, ...codes: string[]): boolean {
  return e instanceof RomanaError && codes.includes(e.code);
}

export class ListenerController {
  /** "<resource>|<key>" → retry state. */
  private readonly dirty = new Map<string, Dirty>();
  /** host name → ms when its node was first seen gone. */
  private readonly hostGoneSince = new Map<string, number>();
  /** endpoint "ns/pod" → seen orphaned at the last reconcile. */
  private orphanEndpoints = new Set<string>();
  /** address name → ms when first seen orphaned. */
  private orphanedSince = new Map<string, number>();
  /** addresses already reported as leaked (log once each). */
  private readonly reported = new Set<string>();
  /** service key → VIP state already logged (log on change only). */
  private readonly vipsLogged = new Map<string, string>();
  /** service keys that may have a daemon VIP record (PUT by us, or listed by reconcile). */
  private readonly vipsKnown = new Set<string>();
  private wakeTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private leakTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private firstReconcileDone = false;
  private readonly now: () => number;
  private readonly m: {
    writes: Counter<'kind' | 'op' | 'result'>;
    events: Counter<'resource' | 'type'>;
    reconciles: Counter<'result'>;
    leaked: Gauge;
    released: Counter;
    pendingHosts: Gauge;
    vips: Gauge;
    dirty: Gauge;
  };

  constructor(private readonly o: ControllerOptions) {
    this.now = o.now ?? Date.now;
    const registers = [o.registry];
    this.m = {
      writes: new Counter({ name: 'romana_listener_daemon_writes_total', help: 'Daemon writes by kind, operation and result', labelNames: ['kind', 'op', 'result'], registers }),
      events: new Counter({ name: 'romana_listener_events_total', help: 'Kubernetes cache events by resource and type', labelNames: ['resource', 'type'], registers }),
      reconciles: new Counter({ name: 'romana_listener_reconciles_total', help: 'Full reconciles by result', labelNames: ['result'], registers }),
      leaked: new Gauge({ name: 'romana_listener_leaked_addresses', help: 'IPAM addresses whose pod has been gone longer than --leak-grace', registers }),
      released: new Counter({ name: 'romana_listener_leaked_addresses_released_total', help: 'Leaked addresses released (--release-leaked)', registers }),
      pendingHosts: new Gauge({ name: 'romana_listener_pending_host_removals', help: 'Hosts whose node is gone, waiting for --node-grace', registers }),
      vips: new Gauge({ name: 'romana_listener_vip_services', help: 'Services carrying a valid VIP annotation', registers }),
      dirty: new Gauge({ name: 'romana_listener_dirty_keys', help: 'Objects waiting to be written to the daemon', registers }),
    };
  }

  get ready(): boolean {
    return this.firstReconcileDone;
  }

  /** Informer callback: an object was added, modified, or deleted. */
  onEvent(resource: ResourceName, type: 'upsert' | 'remove', obj: KubeObject): void {
    this.m.events.inc({ resource, type });
    // Endpoints only change the candidates of the Service of the same name.
    this.markDirty(`${resource === 'endpoints' ? 'services' : resource}|${objectKey(obj)}`);
  }

  /** Begins the periodic work; the first reconcile waits for the caches. */
  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      if (this.o.caches.synced()) void this.reconcile();
      this.resyncTimer = setTimeout(tick, this.firstReconcileDone ? this.o.resyncMs : 100);
    };
    tick();
    const leakEvery = Math.max(100, Math.min(this.o.resyncMs, this.o.leakGraceMs / 2));
    const leakTick = (): void => {
      if (this.stopped) return;
      if (this.firstReconcileDone) void this.scanLeaks();
      this.leakTimer = setTimeout(leakTick, leakEvery);
    };
    this.leakTimer = setTimeout(leakTick, leakEvery);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.wakeTimer);
    clearTimeout(this.resyncTimer);
    clearTimeout(this.leakTimer);
  }

  private markDirty(key: string, delayMs = 0): void {
    const cur = this.dirty.get(key);
    const notBefore = this.now() + delayMs;
    if (cur === undefined) this.dirty.set(key, { attempts: 0, notBefore });
    else if (delayMs === 0) cur.notBefore = Math.min(cur.notBefore, notBefore);
    this.m.dirty.set(this.dirty.size);
    this.wake(delayMs);
  }

  private wake(delayMs = 0): void {
    if (this.stopped || !this.o.caches.synced()) return;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => void this.drain(), delayMs);
  }

  /**
   * Both ways, only after every cache synced: every cached object and every
   * owned daemon object becomes dirty; the worker decides each.
   */
  async reconcile(): Promise<void> {
    if (this.stopped || !this.o.caches.synced()) return;
    const { client, caches } = this.o;
    try {
      for (const r of ORDER) for (const obj of caches.list(r)) this.markDirty(`${r}|${objectKey(obj)}`);
      const [hosts, tenants, endpoints, netpols, vips] = await Promise.all([client.listHosts(), client.listTenants(), client.listEndpoints(), client.listNetworkPolicies(), client.listVips()]);
      for (const h of hosts.hosts) if (isManagedHost(h.tags) && !caches.get('nodes', h.name)) this.markDirty(`nodes|${h.name}`);
      for (const t of tenants.tenants as Array<{ name: string; labels?: Record<string, string> }>) {
        if (t.labels !== undefined && !caches.get('namespaces', t.name)) this.markDirty(`namespaces|${t.name}`);
      }
      const orphans = new Set<string>();
      for (const e of endpoints.endpoints) {
        const key = `${e.namespace}/${e.pod}`;
        if (this.podAlive(e.namespace, e.pod)) continue;
        orphans.add(key);
        if (this.orphanEndpoints.has(key)) this.markDirty(`pods|${key}`);
      }
      this.orphanEndpoints = orphans;
      for (const np of netpols.items) {
        const md = (np.metadata ?? {}) as { name?: string; namespace?: string };
        if (md.name && md.namespace && !caches.get('networkpolicies', md.name, md.namespace)) this.markDirty(`networkpolicies|${md.namespace}/${md.name}`);
      }
      // Every VIP record is the listener's: one whose Service is gone or no longer annotated is removed.
      for (const v of vips.vips) {
        const key = `${v.namespace}/${v.service}`;
        this.vipsKnown.add(key);
        const svc = caches.get('services', v.service, v.namespace);
        const plan = svc ? serviceVip(svc) : null;
        if (plan === null || !plan.ok) this.markDirty(`services|${key}`);
      }
      await this.drain();
      // Keys waiting only for a grace period (attempts 0) do not hold readiness back; failed writes do.
      if (!this.firstReconcileDone && ![...this.dirty.values()].some((d) => d.attempts > 0)) {
        this.firstReconcileDone = true;
        this.o.log.info({ orphanEndpoints: orphans.size }, 'first reconcile done');
      }
      this.m.reconciles.inc({ result: 'ok' });
    } catch (e) {
      this.m.reconciles.inc({ result: 'error' });
      this.o.log.warn({ err: String((e as Error).message) }, 'reconcile failed; retrying at the next resync');
    }
  }

  /** Processes due dirty keys, in ORDER; reschedules itself for later ones. Resolves when a full pass has finished. */
  async drain(): Promise<void> {
    // One pass at a time: a caller arriving mid-pass waits for it, then runs its own (its keys may be newer).
    while (this.current) await this.current;
    if (this.stopped || !this.o.caches.synced()) return;
    this.current = this.drainPass().finally(() => {
      this.current = null;
    });
    await this.current;
  }

  private current: Promise<void> | null = null;

  private async drainPass(): Promise<void> {
    try {
      for (;;) {
        const now = this.now();
        const due = [...this.dirty.entries()].filter(([, d]) => d.notBefore <= now);
        if (due.length === 0) break;
        due.sort(([a], [b]) => ORDER.indexOf(a.split('|')[0] as ResourceName) - ORDER.indexOf(b.split('|')[0] as ResourceName));
        for (const [key, d] of due) {
          if (this.stopped) return;
          // Re-marked while we work: the newer mark stays for the next round.
          this.dirty.delete(key);
          try {
            await this.apply(key);
          } catch (e) {
            const attempts = d.attempts + 1;
            const delay = Math.min(MIN_BACKOFF_MS * 2 ** (attempts - 1), MAX_BACKOFF_MS);
            if (!this.dirty.has(key)) this.dirty.set(key, { attempts, notBefore: this.now() + delay });
            this.o.log.warn({ key, attempts, retryMs: delay, err: String((e as Error).message) }, 'daemon write failed; will retry');
          }
        }
      }
    } finally {
      this.m.dirty.set(this.dirty.size);
      const next = Math.min(...[...this.dirty.values()].map((d) => d.notBefore));
      if (Number.isFinite(next)) this.wake(Math.max(0, next - this.now()));
    }
  }

  private async apply(dirtyKey: string): Promise<void> {
    const bar = dirtyKey.indexOf('|');
    const resource = dirtyKey.slice(0, bar) as ResourceName;
    const key = dirtyKey.slice(bar + 1);
    const { namespace, name } = splitKey(key);
    const obj = this.o.caches.get(resource, name, namespace);
    switch (resource) {
      case 'nodes':
        return obj ? this.ensureHost(obj) : this.hostGone(key);
      case 'namespaces':
        return this.syncTenant(key, obj);
      case 'pods':
        return this.syncEndpoint(key, obj);
      case 'networkpolicies':
        return this.syncPolicy(key, obj);
      case 'services':
        return this.syncService(key, obj);
      case 'endpoints':
        return this.syncService(key, this.o.caches.get('services', name, namespace));
    }
  }

  private count(kind: string, op: string, result: string): void {
    this.m.writes.inc({ kind, op, result });
  }

  // ---------- hosts ----------

  private async ensureHost(node: KubeObject): Promise<void> {
    const plan = nodeToHost(node);
    if (!plan.ok) {
      this.o.log.warn({ node: node.metadata?.name, reason: plan.reason }, 'node not registered');
      return;
    }
    const { name, ip, tags } = plan.host;
    if (this.hostGoneSince.delete(name)) {
      this.m.pendingHosts.set(this.hostGoneSince.size);
      this.o.log.info({ host: name }, 'node is back: host kept');
    }
    let existing: HostJson | null = null;
    try {
      existing = await this.o.client.getHost(name);
    } catch (e) {
      if (!isCode(e, 'HOST_NOT_FOUND', 'NOT_FOUND')) throw e;
    }
    if (existing === null) {
      try {
        await this.o.client.addHost({ name, ip, tags });
        this.count('host', 'add', 'ok');
        this.o.log.info({ host: name, ip }, 'host added');
      } catch (e) {
        // No group accepts its labels (yet): the next resync tries again.
        if (isCode(e, 'NO_SUITABLE_GROUP', 'HOST_EXISTS')) {
          this.count('host', 'add', 'rejected');
          this.o.log.warn({ host: name, ip, err: (e as Error).message }, 'host not added');
          return;
        }
        throw e;
      }
      return;
    }
    if (existing.ip !== ip) {
      // Hosts never move (their blocks are routed to the old address): say so, do not guess.
      this.o.log.error({ host: name, registered: existing.ip, node: ip }, 'node address differs from the registered host; remove the host to re-register it');
      return;
    }
    if (!sameLabels(existing.tags, tags)) {
      try {
        await this.o.client.setHostTags(name, tags);
        this.count('host', 'tags', 'ok');
        this.o.log.info({ host: name }, 'host tags updated');
      } catch (e) {
        if (isCode(e, 'NO_SUITABLE_GROUP', 'VALIDATION_FAILED') || (e instanceof RomanaError && e.status === 422)) {
          this.count('host', 'tags', 'rejected');
          this.o.log.warn({ host: name, err: (e as Error).message }, 'host tags not updated');
          return;
        }
        throw e;
      }
    }
  }

  private async hostGone(name: string): Promise<void> {
    let host: HostJson;
    try {
      host = await this.o.client.getHost(name);
    } catch (e) {
      if (isCode(e, 'HOST_NOT_FOUND', 'NOT_FOUND')) {
        this.hostGoneSince.delete(name);
        this.m.pendingHosts.set(this.hostGoneSince.size);
        return;
      }
      throw e;
    }
    if (!isManagedHost(host.tags)) return;
    const since = this.hostGoneSince.get(name);
    const now = this.now();
    if (since === undefined) {
      this.hostGoneSince.set(name, now);
      this.m.pendingHosts.set(this.hostGoneSince.size);
      this.o.log.info({ host: name, graceMs: this.o.nodeGraceMs }, 'node gone: host removal scheduled');
      this.markDirty(`nodes|${name}`, this.o.nodeGraceMs);
      return;
    }
    if (now - since < this.o.nodeGraceMs) {
      this.markDirty(`nodes|${name}`, since + this.o.nodeGraceMs - now);
      return;
    }
    const out = await this.o.client.removeHost(name);
    this.hostGoneSince.delete(name);
    this.m.pendingHosts.set(this.hostGoneSince.size);
    this.count('host', 'remove', 'ok');
    this.o.log.info({ host: name, released: out.released.length }, 'host removed');
  }

  // ---------- tenants ----------

  private async syncTenant(name: string, ns: KubeObject | undefined): Promise<void> {
    const t = ns ? namespaceToTenant(ns) : null;
    if (t) {
      await this.o.client.putTenant(t.name, t.labels);
      this.count('tenant', 'put', 'ok');
      return;
    }
    let tenant: { labels?: Record<string, string> };
    try {
      tenant = (await this.o.client.getTenant(name)) as { labels?: Record<string, string> };
    } catch (e) {
      if (isCode(e, 'NOT_FOUND')) return;
      throw e;
    }
    // Only tenants made by PUT /tenants (a namespace mirror) carry labels.
    if (tenant.labels === undefined) return;
    try {
      await this.o.client.deleteTenant(name);
      this.count('tenant', 'delete', 'ok');
      this.o.log.info({ tenant: name }, 'tenant removed');
    } catch (e) {
      if (isCode(e, 'NOT_FOUND')) return;
      if (isCode(e, 'RESOURCE_IN_USE')) {
        this.count('tenant', 'delete', 'in_use');
        this.o.log.info({ tenant: name }, 'tenant still holds addresses; removal retried at the next resync');
        return;
      }
      throw e;
    }
  }

  // ---------- endpoints ----------

  private podAlive(namespace: string, pod: string): boolean {
    const p = this.o.caches.get('pods', pod, namespace);
    return p !== undefined && podHasRomanaNetwork(p);
  }

  private async syncEndpoint(key: string, pod: KubeObject | undefined): Promise<void> {
    const plan = pod ? podToEndpoint(pod, this.o.segmentLabel) : null;
    const { namespace, name } = splitKey(key);
    if (plan) {
      await this.o.client.putEndpoint(plan.namespace, plan.pod, plan.body);
      this.count('endpoint', 'put', 'ok');
      if (plan.segment !== null) await this.ensureSegment(plan.namespace, plan.segment);
      return;
    }
    try {
      await this.o.client.deleteEndpoint(namespace!, name);
      this.count('endpoint', 'delete', 'ok');
    } catch (e) {
      if (!isCode(e, 'NOT_FOUND')) throw e;
    }
  }

  private readonly segmentsMade = new Set<string>();
  private async ensureSegment(tenant: string, segment: string): Promise<void> {
    const k = `${tenant}/${segment}`;
    if (this.segmentsMade.has(k)) return;
    try {
      await this.o.client.addSegment(tenant, segment);
      this.segmentsMade.add(k);
    } catch (e) {
      // The tenant may not exist yet (namespace event pending) or the value is not a segment name: not fatal.
      this.o.log.debug({ tenant, segment, err: (e as Error).message }, 'segment not created');
    }
  }

  // ---------- NetworkPolicies ----------

  private async syncPolicy(key: string, np: KubeObject | undefined): Promise<void> {
    const plan = np ? policyForDaemon(np) : null;
    if (plan) {
      await this.o.client.putNetworkPolicy(plan.namespace, plan.name, plan.object);
      this.count('networkpolicy', 'put', 'ok');
      return;
    }
    const { namespace, name } = splitKey(key);
    try {
      await this.o.client.deleteNetworkPolicy(namespace!, name);
      this.count('networkpolicy', 'delete', 'ok');
      this.o.log.info({ namespace, name }, 'network policy removed');
    } catch (e) {
      if (!isCode(e, 'NOT_FOUND')) throw e;
    }
  }

  // ---------- Services with the VIP annotation ----------

  /**
   * An annotated Service's VIP record: PUT /vips/{ns}/{svc} with its address
   * (or auto) and the nodes of its ready endpoints as candidates (the daemon
   * picks the holder). No (valid) annotation, or no Service: DELETE, when a
   * record may exist (one was PUT, or reconcile listed it).
   */
  private async syncService(key: string, svc: KubeObject | undefined): Promise<void> {
    const { namespace, name } = splitKey(key);
    const vip = svc ? serviceVip(svc) : null;
    if (vip !== null && vip.ok) {
      const candidates = readyEndpointNodes(this.o.caches.get('endpoints', name, namespace));
      const body = vip.auto ? { auto: true, candidates } : { ip: vip.ip, candidates };
      let out;
      try {
        out = await this.o.client.putVip(namespace!, name, body);
      } catch (e) {
        // Address taken by another service, auto without --vip-pool, pool exhausted: the next resync retries.
        if (isCode(e, 'ALREADY_EXISTS', 'INVALID_ARGUMENT', 'POOL_EXHAUSTED')) {
          this.count('vip', 'put', 'rejected');
          const text = `rejected: ${(e as Error).message}`;
          if (this.vipsLogged.get(key) !== text) {
            this.vipsLogged.set(key, text);
            this.o.log.warn({ service: key, err: (e as Error).message }, 'service VIP not recorded');
          }
          this.updateVipGauge();
          return;
        }
        throw e;
      }
      this.vipsKnown.add(key);
      this.count('vip', 'put', 'ok');
      const text = `${out.vip.vip} [${candidates.join(',')}]`;
      if (this.vipsLogged.get(key) !== text) {
        this.vipsLogged.set(key, text);
        this.o.log.info({ service: key, vip: out.vip.vip, auto: vip.auto, candidates, holder: out.vip.holder, annotation: vip.annotation }, 'service VIP recorded');
      }
      this.updateVipGauge();
      await this.reflectExternalIp(key, svc!, out.vip.vip);
      return;
    }
    if (svc) await this.reflectExternalIp(key, svc, null);
    if (vip !== null && !vip.ok) {
      const text = `invalid: ${vip.reason}`;
      if (this.vipsLogged.get(key) !== text) {
        this.vipsLogged.set(key, text);
        this.o.log.warn({ service: key, reason: vip.reason }, 'service VIP annotation ignored');
      }
    } else this.vipsLogged.delete(key);
    this.updateVipGauge();
    if (!this.vipsKnown.has(key)) return;
    try {
      await this.o.client.deleteVip(namespace!, name);
      this.count('vip', 'delete', 'ok');
      this.o.log.info({ service: key }, 'service VIP removed');
    } catch (e) {
      if (!isCode(e, 'NOT_FOUND')) throw e;
    }
    this.vipsKnown.delete(key);
  }

  /** Shows `vip` (or, null, no VIP) in the Service's spec.externalIPs, keeping the others. */
  private async reflectExternalIp(key: string, svc: KubeObject, vip: string | null): Promise<void> {
    if (!this.o.kube) return;
    const patch = externalIpsPatch(svc, vip);
    if (patch === null) return;
    const { namespace, name } = splitKey(key);
    try {
      // A 409 (the cache is behind) throws: the key is retried, by then with the newer Service.
      await this.o.kube.patchService(namespace!, name, patch);
    } catch (e) {
      const status = e instanceof KubeHttpError ? e.statusCode : 0;
      if (status === 404) return; // deleted meanwhile: its event follows
      if (status === 403) {
        // No RBAC "patch" on services: the VIP record stands; do not hold readiness back.
        this.count('service', 'patch', 'forbidden');
        if (!this.patchForbiddenLogged) this.o.log.warn({ service: key, err: (e as Error).message }, 'cannot patch services (RBAC): VIPs are not shown in externalIPs');
        this.patchForbiddenLogged = true;
        return;
      }
      throw e;
    }
    this.count('service', 'patch', 'ok');
    this.o.log.info({ service: key, vip }, vip === null ? 'VIP removed from the service externalIPs' : 'VIP set in the service externalIPs');
  }

  private patchForbiddenLogged = false;

  private updateVipGauge(): void {
    this.m.vips.set([...this.vipsLogged.values()].filter((v) => !v.startsWith('invalid') && !v.startsWith('rejected')).length);
  }

  // ---------- IPAM leak detection ----------

  async scanLeaks(): Promise<void> {
    if (!this.firstReconcileDone || this.stopped) return;
    let addresses;
    try {
      addresses = (await this.o.client.listAddresses()).addresses;
    } catch (e) {
      this.o.log.warn({ err: (e as Error).message }, 'leak scan: cannot list addresses');
      return;
    }
    const out = scanLeaks(addresses, (ns, pod) => this.podAlive(ns, pod), this.orphanedSince, this.now(), this.o.leakGraceMs);
    this.orphanedSince = out.orphanedSince;
    for (const r of [...this.reported]) if (!out.orphanedSince.has(r)) this.reported.delete(r);
    let stillLeaked = 0;
    for (const a of out.leaked) {
      if (!this.reported.has(a.name)) {
        this.reported.add(a.name);
        this.o.log.warn({ address: a.name, ip: a.ip, orphanedForMs: this.now() - a.since, release: this.o.releaseLeaked }, 'leaked address: its pod is gone');
      }
      const parsed = a.name.split(':');
      // Re-check at the last moment: the pod may have arrived since the list.
      if (this.o.releaseLeaked && !this.podAlive(parsed[1]!, parsed[2]!)) {
        try {
          await this.o.client.release(a.name);
          this.m.released.inc();
          this.orphanedSince.delete(a.name);
          this.reported.delete(a.name);
          this.o.log.info({ address: a.name, ip: a.ip }, 'leaked address released');
          continue;
        } catch (e) {
          if (!isCode(e, 'ADDRESS_NOT_FOUND', 'NOT_FOUND')) this.o.log.warn({ address: a.name, err: (e as Error).message }, 'leaked address not released');
        }
      }
      stillLeaked++;
    }
    this.m.leaked.set(stillLeaked);
  }
}
