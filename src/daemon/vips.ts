/**
 * Romana VIPs in the daemon (DESIGN §7): records `vips/<ns>/<service>`
 * (address, candidates, holder, epoch), address claims `vipaddrs/<ip>`
 * (so two services never get one address), the routes
 * PUT/GET/DELETE /vips/{ns}/{service} and GET /vips, and the holder
 * reconciler.
 *
 * Design:
 * - The listener reports each annotated Service (address or `auto`, and the
 *   nodes with a ready local endpoint); the daemon alone decides the holder
 *   (core/vip chooseHolder) among candidates whose agent lease
 *   `leases/agents/<host>` is alive, and writes it with a compare-and-swap
 *   on the record, bumping `epoch` on every change of holder.
 * - Failover: a reconciler re-reads `vips/` and `leases/agents/` every
 *   `intervalMs` (200 ms; a range also makes the embedded store sweep
 *   expired leases) and on every change under those prefixes, and moves a
 *   VIP whose holder's lease has gone. With agents heartbeating at TTL 2 s
 *   the move is written ≤ ~2.3 s after the holder's last heartbeat.
 * - auto: the lowest free address of --vip-pool; a service keeps its
 *   address across PUTs. The claim key is created in the same txn as the
 *   record (compare: must not exist), so a race between two services is
 *   lost by one of them, which retries with the next address.
 *
 * Concurrency rule: every write is one CAS txn; a lost race re-reads and
 * retries (a few times). Several daemon replicas may reconcile at once:
 * they make the same deterministic choice and the CAS keeps one write.
 */
import { RomanaError } from '../core/errors.js';
import { cidr, parseIPv4, type Cidr4 } from '../core/ip.js';
import { allocateFromPool, chooseHolder, poolHasAddress } from '../core/vip/index.js';
import type { VipJson, VipsJson } from '../shared/api_types.js';
import type { Logger } from '../shared/log.js';
import {
  AGENT_LEASES_PREFIX,
  decodeVipClaimRecord,
  decodeVipRecord,
  VIP_CLAIMS_PREFIX,
  vipClaimKey,
  vipKey,
  VIPS_PREFIX,
  type VipRecord,
} from '../shared/records.js';
import type { Store, TxnOp, Watch } from '../store/store.js';
import { checkNamespace, checkObjectName } from './endpoints.js';
import type { DaemonRouter, DaemonServices } from './services.js';

const ATTEMPTS = 8;
const NODE_RE = /^[^\s/]+$/;

export function vipJson(r: VipRecord, revision: number): VipJson {
  return { namespace: r.namespace, service: r.service, vip: r.vip, auto: r.auto, candidates: r.candidates, holder: r.holder, epoch: r.epoch, revision };
}

function invalid(message: string, field: string, value: unknown): RomanaError {
  return new RomanaError('INVALID_ARGUMENT', message, { details: { field, value: value ?? null } });
}

interface VipPatch {
  ip?: string;
  auto: boolean;
  candidates?: string[];
}

function parseVipPatch(body: unknown): VipPatch {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RomanaError('INVALID_ARGUMENT', 'Invalid VIP: expected a JSON object {ip?, auto?, candidates?}');
  }
  const o = body as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !['ip', 'auto', 'candidates'].includes(k));
  if (unknown.length > 0) throw invalid(`Invalid VIP: unknown field ${JSON.stringify(unknown[0])} (fields: ip, auto, candidates)`, unknown[0]!, o[unknown[0]!]);
  if (o.auto !== undefined && typeof o.auto !== 'boolean') throw invalid(`Invalid VIP field "auto" ${JSON.stringify(o.auto)}: must be a boolean`, 'auto', o.auto);
  const auto = o.auto === true;
  const patch: VipPatch = { auto };
  if (o.ip !== undefined && o.ip !== null && o.ip !== '') {
    if (typeof o.ip !== 'string' || parseIPv4(o.ip) === null) throw invalid(`Invalid VIP field "ip" ${JSON.stringify(o.ip)}: must be an IPv4 address`, 'ip', o.ip);
    patch.ip = o.ip;
  }
  if (!auto && patch.ip === undefined) throw invalid('Invalid VIP: "ip" is required unless "auto" is true', 'ip', o.ip);
  if (o.candidates !== undefined) {
    if (!Array.isArray(o.candidates) || o.candidates.some((c) => typeof c !== 'string' || !NODE_RE.test(c))) {
      throw invalid(`Invalid VIP field "candidates": must be a list of node names`, 'candidates', o.candidates);
    }
    patch.candidates = [...new Set(o.candidates as string[])].sort();
  }
  return patch;
}

export class VipService {
  private readonly pool: Cidr4 | null;
  private timer: NodeJS.Timeout | null = null;
  private watch: Watch | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: Store,
    vipPool: string | null,
    private readonly log: Logger,
  ) {
    this.pool = vipPool === null ? null : cidr(vipPool);
  }

  /** Names of hosts whose agent lease is alive. */
  private async liveHosts(): Promise<Set<string>> {
    const r = await this.store.range(AGENT_LEASES_PREFIX);
    return new Set(r.kvs.map((kv) => kv.key.slice(AGENT_LEASES_PREFIX.length)));
  }

  /** Holder loads (node -> VIPs held), from every record but `skipKey`. */
  private async loads(skipKey: string): Promise<Map<string, number>> {
    const r = await this.store.range(VIPS_PREFIX);
    const m = new Map<string, number>();
    for (const kv of r.kvs) {
      if (kv.key === skipKey) continue;
      try {
        const h = decodeVipRecord(kv.key, kv.value).holder;
        if (h !== null) m.set(h, (m.get(h) ?? 0) + 1);
      } catch {
        // An unreadable record counts for nobody.
      }
    }
    return m;
  }

  async put(namespace: string, service: string, body: unknown): Promise<{ vip: VipJson; created: boolean }> {
    checkNamespace(namespace);
    checkObjectName(service, 'service name');
    const patch = parseVipPatch(body);
    const key = vipKey(namespace, service);
    for (let i = 0; i < ATTEMPTS; i++) {
      const cur = await this.store.get(key);
      const old = cur ? decodeVipRecord(cur.key, cur.value) : null;
      let ip: string;
      if (patch.auto) {
        if (old?.auto && (this.pool === null || poolHasAddress(this.pool, old.vip))) ip = old.vip;
        else {
          if (this.pool === null) {
            throw invalid('Invalid VIP: "auto" needs the daemon to be started with --vip-pool CIDR', 'auto', true);
          }
          const claims = await this.store.range(VIP_CLAIMS_PREFIX);
          const used = new Set(claims.kvs.map((kv) => kv.key.slice(VIP_CLAIMS_PREFIX.length)));
          const next = allocateFromPool(this.pool, used);
          if (next === null) throw new RomanaError('POOL_EXHAUSTED', `No free address is left in the VIP pool for ${JSON.stringify(`${namespace}/${service}`)}`);
          ip = next;
        }
      } else ip = patch.ip!;
      const claimKey = vipClaimKey(ip);
      const claim = await this.store.get(claimKey);
      if (claim) {
        const c = decodeVipClaimRecord(claim.key, claim.value);
        if (c.namespace !== namespace || c.service !== service) {
          if (patch.auto) continue; // taken between the range and now: try the next address
          throw new RomanaError('ALREADY_EXISTS', `VIP ${JSON.stringify(ip)} is already used by service ${JSON.stringify(`${c.namespace}/${c.service}`)}`, {
            resourceType: 'vip',
            resourceId: ip,
          });
        }
      }
      const candidates = patch.candidates ?? old?.candidates ?? [];
      const live = await this.liveHosts();
      const holder = chooseHolder({ holder: old?.holder ?? null, candidates }, live, await this.loads(key));
      const next: VipRecord = {
        schema: 1,
        namespace,
        service,
        vip: ip,
        auto: patch.auto,
        candidates,
        holder,
        epoch: old === null ? 1 : old.epoch + (old.holder !== holder || old.vip !== ip ? 1 : 0),
      };
      const text = JSON.stringify(next);
      if (cur && cur.value === text && claim) return { vip: vipJson(next, cur.modRevision), created: false };
      const ops: TxnOp[] = [{ op: 'put', key, value: text }];
      if (!claim) ops.push({ op: 'put', key: claimKey, value: JSON.stringify({ schema: 1, ip, namespace, service }) });
      if (old && old.vip !== ip) ops.push({ op: 'delete', key: vipClaimKey(old.vip) });
      const r = await this.store.txn(
        [
          { key, modRevision: cur?.modRevision ?? 0 },
          { key: claimKey, modRevision: claim?.modRevision ?? 0 },
        ],
        ops,
      );
      if (r.succeeded) {
        if (old?.holder !== holder) this.log.info({ vip: ip, service: `${namespace}/${service}`, holder, epoch: next.epoch }, `VIP ${ip} held by ${holder ?? 'nobody'}`);
        return { vip: vipJson(next, r.revision), created: cur === null };
      }
    }
    throw new RomanaError('CONFLICT', `Could not update VIP ${JSON.stringify(`${namespace}/${service}`)}: it changed concurrently ${ATTEMPTS} times; retry`);
  }

  async get(namespace: string, service: string): Promise<VipJson> {
    checkNamespace(namespace);
    checkObjectName(service, 'service name');
    const kv = await this.store.get(vipKey(namespace, service));
    if (!kv) throw notFound(namespace, service);
    return vipJson(decodeVipRecord(kv.key, kv.value), kv.modRevision);
  }

  async delete(namespace: string, service: string): Promise<VipJson> {
    checkNamespace(namespace);
    checkObjectName(service, 'service name');
    const key = vipKey(namespace, service);
    for (let i = 0; i < ATTEMPTS; i++) {
      const kv = await this.store.get(key);
      if (!kv) throw notFound(namespace, service);
      const rec = decodeVipRecord(kv.key, kv.value);
      const claim = await this.store.get(vipClaimKey(rec.vip));
      const ops: TxnOp[] = [{ op: 'delete', key }];
      if (claim) {
        const c = decodeVipClaimRecord(claim.key, claim.value);
        if (c.namespace === namespace && c.service === service) ops.push({ op: 'delete', key: claim.key });
      }
      const r = await this.store.txn([{ key, modRevision: kv.modRevision }], ops);
      if (r.succeeded) return vipJson(rec, r.revision);
    }
    throw new RomanaError('CONFLICT', `Could not delete VIP ${JSON.stringify(`${namespace}/${service}`)}: it changed concurrently ${ATTEMPTS} times; retry`);
  }

  async list(): Promise<VipsJson> {
    const r = await this.store.range(VIPS_PREFIX);
    return { vips: r.kvs.map((kv) => vipJson(decodeVipRecord(kv.key, kv.value), kv.modRevision)), revision: r.revision };
  }

  /**
   * One reconcile pass: every VIP whose holder should change (lease gone,
   * no longer a candidate, or none yet) gets the new one, by CAS.
   * Returns how many records it changed.
   */
  async reconcile(): Promise<number> {
    const [vips, live] = await Promise.all([this.store.range(VIPS_PREFIX), this.liveHosts()]);
    const recs: Array<{ rec: VipRecord; modRevision: number }> = [];
    const load = new Map<string, number>();
    for (const kv of vips.kvs) {
      try {
        const rec = decodeVipRecord(kv.key, kv.value);
        recs.push({ rec, modRevision: kv.modRevision });
        if (rec.holder !== null && live.has(rec.holder) && rec.candidates.includes(rec.holder)) load.set(rec.holder, (load.get(rec.holder) ?? 0) + 1);
      } catch (e) {
        this.log.warn({ key: kv.key, err: e }, `ignoring an unreadable VIP record: ${(e as Error).message}`);
      }
    }
    let changed = 0;
    for (const { rec, modRevision } of recs) {
      const holder = chooseHolder(rec, live, load);
      if (holder === rec.holder) continue;
      if (holder !== null) load.set(holder, (load.get(holder) ?? 0) + 1);
      const next: VipRecord = { ...rec, holder, epoch: rec.epoch + 1 };
      const key = vipKey(rec.namespace, rec.service);
      const r = await this.store.txn([{ key, modRevision }], [{ op: 'put', key, value: JSON.stringify(next) }]);
      if (r.succeeded) {
        changed++;
        this.log.info({ vip: rec.vip, service: `${rec.namespace}/${rec.service}`, from: rec.holder, holder, epoch: next.epoch }, `VIP ${rec.vip} moved from ${rec.holder ?? 'nobody'} to ${holder ?? 'nobody'}`);
      }
      // A lost CAS means someone else wrote it: the next pass sees that.
    }
    return changed;
  }

  /** Starts the reconciler: every `intervalMs` and on changes under vips/ and leases/agents/. */
  async start(intervalMs = 200): Promise<void> {
    const rev = await this.store.revision();
    const kick = (): void => this.kick();
    this.watch = await this.store.watch('', rev, (e) => {
      if (e.key.startsWith(VIPS_PREFIX) || e.key.startsWith(AGENT_LEASES_PREFIX)) kick();
    }, (err) => {
      // The interval keeps reconciling; the watch only makes it faster.
      this.log.warn({ err }, `VIP reconciler watch ended: ${err.message}; polling only`);
      this.watch = null;
    });
    this.timer = setInterval(kick, intervalMs);
    this.timer.unref();
    kick();
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.reconcile();
        } catch (e) {
          this.log.warn({ err: e }, `VIP reconcile failed: ${(e as Error).message}`);
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = null;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.watch?.close();
    await this.running;
  }
}

function notFound(namespace: string, service: string): RomanaError {
  return new RomanaError('NOT_FOUND', `VIP of service ${JSON.stringify(`${namespace}/${service}`)} does not exist`, {
    resourceType: 'vip',
    resourceId: `${namespace}/${service}`,
  });
}

/** GET /vips, GET/PUT/DELETE /vips/{namespace}/{service}. PUT and DELETE are the listener's ('admin'). */
export function registerVipRoutes(r: DaemonRouter, svc: DaemonServices): void {
  r.add('GET', '/vips', 'read', async () => ({ body: await svc.vips.list() }));
  r.add('GET', '/vips/{namespace}/{service}', 'read', async (ctx) => ({ body: await svc.vips.get(ctx.params.namespace!, ctx.params.service!) }));
  r.add('PUT', '/vips/{namespace}/{service}', 'admin', async (ctx) => {
    const out = await svc.vips.put(ctx.params.namespace!, ctx.params.service!, await ctx.json());
    return { status: out.created ? 201 : 200, body: out.vip };
  });
  r.add('DELETE', '/vips/{namespace}/{service}', 'admin', async (ctx) => ({ body: await svc.vips.delete(ctx.params.namespace!, ctx.params.service!) }));
}
