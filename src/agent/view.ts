/**
 * The agent's in-memory view of the cluster, fed by the daemon's snapshot
 * and /watch events: the topology's pod networks, hosts, blocks, address
 * reservations (kept out of don't-care routing), Romana policies, tenants
 * (namespaces, with labels), endpoints (pods) and Kubernetes NetworkPolicies.
 *
 * Design: maps keyed as in the store (DESIGN §2). Every record is decoded
 * by the same decoders the daemon uses; a record that does not decode is
 * reported (onCorrupt) and treated as absent — one bad record must not
 * stop a node from being programmed (the original dropped *all* policies
 * for one malformed one). Each change reports which parts of the desired
 * state it affects ('routes', 'firewall', 'nat'), so the apply loop can
 * skip recomputing the rest; `versions` counts changes per part.
 *
 * Concurrency rule: mutated only by the follower (watch.ts) on the event
 * loop; the apply loop reads it between awaits, so it always sees whole
 * events.
 */
import type { RomanaError } from '../core/errors.js';
import type { BlockRecord, HostRecord, ReservationRecord, TopologyRecord } from '../core/ipam/types.js';
import type { RomanaPolicy } from '../core/policy/types.js';
import { decodeIpamRecord } from '../store/codec.js';
import {
  decodeEndpointRecord,
  decodeNetpolRecord,
  decodePolicyRecord,
  decodeTenantRecord,
  ENDPOINTS_PREFIX,
  NETPOLS_PREFIX,
  POLICIES_PREFIX,
  TENANTS_PREFIX,
  type EndpointRecord,
  type NetpolRecord,
  type TenantRecord,
} from '../shared/records.js';

export type Part = 'routes' | 'firewall' | 'nat';
export const ALL_PARTS: readonly Part[] = ['routes', 'firewall', 'nat'];

/** The store prefixes the agent reads (GET /snapshot). */
export const VIEW_PREFIXES = ['topology', 'hosts/', 'blocks/', 'reservations/', 'policies/', 'tenants/', 'endpoints/', 'netpols/'] as const;

type Kind = 'topology' | 'host' | 'block' | 'reservation' | 'policy' | 'tenant' | 'endpoint' | 'netpol';

const PARTS: Readonly<Record<Kind, readonly Part[]>> = {
  topology: ['nat', 'routes'],
  host: ['routes', 'firewall'],
  block: ['routes', 'firewall'],
  reservation: ['routes'],
  policy: ['firewall'],
  tenant: ['firewall'],
  endpoint: ['firewall'],
  netpol: ['firewall'],
};

function kindOf(key: string): Kind | null {
  if (key === 'topology') return 'topology';
  if (key.startsWith('hosts/')) return 'host';
  if (key.startsWith('blocks/')) return 'block';
  if (key.startsWith('reservations/')) return 'reservation';
  if (key.startsWith(POLICIES_PREFIX)) return 'policy';
  if (key.startsWith(TENANTS_PREFIX)) return 'tenant';
  if (key.startsWith(ENDPOINTS_PREFIX)) return 'endpoint';
  if (key.startsWith(NETPOLS_PREFIX)) return 'netpol';
  return null;
}

export class ClusterCache {
  /** Revision of the last snapshot or event applied. */
  revision = 0;
  topology: TopologyRecord | null = null;
  /** host name -> record */
  readonly hosts = new Map<string, HostRecord>();
  /** store key -> block */
  readonly blocks = new Map<string, BlockRecord>();
  /** store key -> reservation */
  readonly reservations = new Map<string, ReservationRecord>();
  /** store key -> policy */
  readonly policies = new Map<string, RomanaPolicy>();
  /** tenant name -> record */
  readonly tenants = new Map<string, TenantRecord>();
  /** store key -> endpoint */
  readonly endpoints = new Map<string, EndpointRecord>();
  /** store key -> NetworkPolicy record */
  readonly netpols = new Map<string, NetpolRecord>();
  /** Changes applied per part (for memoising computations). */
  readonly versions: Record<Part, number> = { routes: 0, firewall: 0, nat: 0 };
  /** Keys whose last value did not decode, and why. */
  readonly corrupt = new Map<string, string>();

  constructor(private readonly onCorrupt: (key: string, err: RomanaError | Error) => void = () => undefined) {}

  /** Replaces everything with a snapshot; returns the parts to recompute (all). */
  load(records: ReadonlyArray<{ key: string; value: unknown }>, revision: number): Set<Part> {
    this.topology = null;
    for (const m of [this.hosts, this.blocks, this.reservations, this.policies, this.tenants, this.endpoints, this.netpols]) m.clear();
    this.corrupt.clear();
    for (const r of records) this.put(r.key, r.value);
    this.revision = revision;
    for (const p of ALL_PARTS) this.versions[p]++;
    return new Set(ALL_PARTS);
  }

  /** Applies one watch event; returns the parts it affects (empty for keys the agent ignores). */
  apply(e: { revision: number; type: 'put' | 'delete'; key: string; value: unknown }): readonly Part[] {
    if (e.revision > this.revision) this.revision = e.revision;
    const kind = kindOf(e.key);
    if (kind === null) return [];
    if (e.type === 'delete') this.remove(kind, e.key);
    else this.put(e.key, e.value);
    const parts = PARTS[kind];
    for (const p of parts) this.versions[p]++;
    return parts;
  }

  /** Pod network CIDRs of the topology. */
  podNetworks(): string[] {
    return (this.topology?.input.networks ?? []).map((n) => n.cidr);
  }

  private put(key: string, value: unknown): void {
    const kind = kindOf(key);
    if (kind === null) return;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    try {
      switch (kind) {
        case 'topology':
          this.topology = decodeIpamRecord(key, text) as TopologyRecord;
          break;
        case 'host': {
          const h = decodeIpamRecord(key, text) as HostRecord;
          this.hosts.set(h.name, h);
          break;
        }
        case 'block':
          this.blocks.set(key, decodeIpamRecord(key, text) as BlockRecord);
          break;
        case 'reservation':
          this.reservations.set(key, decodeIpamRecord(key, text) as ReservationRecord);
          break;
        case 'policy':
          this.policies.set(key, decodePolicyRecord(key, text));
          break;
        case 'tenant': {
          const t = decodeTenantRecord(key, text);
          this.tenants.set(t.name, t);
          break;
        }
        case 'endpoint':
          this.endpoints.set(key, decodeEndpointRecord(key, text));
          break;
        case 'netpol':
          this.netpols.set(key, decodeNetpolRecord(key, text));
          break;
      }
      this.corrupt.delete(key);
    } catch (e) {
      // A record that cannot be read counts as absent (its previous value would be stale and misleading).
      this.remove(kind, key);
      this.corrupt.set(key, (e as Error).message);
      this.onCorrupt(key, e as Error);
    }
  }

  private remove(kind: Kind, key: string): void {
    this.corrupt.delete(key);
    switch (kind) {
      case 'topology':
        this.topology = null;
        break;
      case 'host':
        this.hosts.delete(key.slice('hosts/'.length));
        break;
      case 'block':
        this.blocks.delete(key);
        break;
      case 'reservation':
        this.reservations.delete(key);
        break;
      case 'policy':
        this.policies.delete(key);
        break;
      case 'tenant':
        this.tenants.delete(key.slice(TENANTS_PREFIX.length));
        break;
      case 'endpoint':
        this.endpoints.delete(key);
        break;
      case 'netpol':
        this.netpols.delete(key);
        break;
    }
  }
}
