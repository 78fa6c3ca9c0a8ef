/**
 * The daemon API's JSON shapes, shared by the daemon (src/daemon/wire.ts
 * builds them) and its clients (src/shared/api_client.ts returns them).
 * Field names are snake_case: they are the wire format, and the original's
 * where it had one (reference §2).
 */
import type { TopologyDiff } from '../core/ipam/index.js';
import type { RomanaPolicy } from '../core/policy/types.js';

export interface HostJson {
  name: string;
  ip: string;
  agent_port: number;
  /** Labels (the original's name for them). */
  tags: Record<string, string>;
  /** Where the host is placed, per network. */
  groups: Array<{ network: string; group: string; group_name: string; cidr: string }>;
  blocks: number;
  addresses: number;
}

export interface HostRequest {
  name: string;
  ip: string;
  agent_port?: number;
  tags?: Record<string, string>;
}

export interface HostsJson {
  hosts: HostJson[];
  revision: number;
}

export interface BlockJson {
  revision: number;
  cidr: string;
  network: string;
  group: string;
  group_name: string;
  host: string;
  tenant: string;
  segment: string;
  allocated_ip_count: number;
  reserved: number;
  size: number;
}

export interface BlocksJson {
  revision: number;
  blocks: BlockJson[];
}

export interface AddressJson {
  name: string;
  ip: string;
  network: string;
  block: string;
  host: string;
  tenant: string;
  segment: string;
}

export interface AddressesJson {
  revision: number;
  addresses: AddressJson[];
}

export interface AllocateRequest {
  name: string;
  host: string;
  tenant?: string;
  segment?: string;
}

export interface NetworkJson {
  /** The original's field for the network name (scripts read `.[].id`). */
  id: string;
  name: string;
  cidr: string;
  block_mask: number;
  /** null: serves every tenant. */
  tenants: string[] | null;
  /** Highest store revision among the network's blocks (0 without blocks). */
  revision: number;
  blocks: number;
  allocated: number;
}

export interface UtilisationJson {
  networks: Array<{ network: string; cidr: string; size: number; reserved: number; blocks: number; block_addresses: number; allocated: number; utilisation: number }>;
  groups: Array<{ network: string; group: string; name: string; cidr: string; hosts: number; slots: number; blocks: number; size: number; allocated: number }>;
  hosts: Array<{ host: string; blocks: number; block_addresses: number; allocated: number }>;
}

export interface ReservationJson {
  network: string;
  cidr: string;
  revision?: number;
}

export interface TopologyUpdateJson {
  dry_run: boolean;
  /** False when the posted topology equals the installed one. */
  changed: boolean;
  diff: TopologyDiff;
  revision: number;
}

export interface TenantJson {
  name: string;
  segments: string[];
  /** Addresses the IPAM holds for this tenant. */
  addresses: number;
}

export interface TenantsJson {
  tenants: TenantJson[];
  revision: number;
}

export interface SegmentJson {
  tenant: string;
  name: string;
  addresses: number;
}

export interface SegmentsJson {
  segments: SegmentJson[];
  revision: number;
}

export interface PolicyAddJson {
  results: Array<{ outcome: 'created' | 'unchanged'; policy: RomanaPolicy }>;
}

export interface HeartbeatJson {
  host: string;
  lease: string;
  ttl_seconds: number;
  renewed: boolean;
}

export interface ReadyJson {
  status: 'ready';
  checks: Record<string, { ok: boolean; [k: string]: unknown }>;
}

/** One line of GET /watch (errors end the stream and are thrown by the client). */
export interface WatchEventJson {
  revision: number;
  type: 'put' | 'delete';
  /** Relative to the store prefix, e.g. "blocks/romana-network/10.112.0.0/29". */
  key: string;
  /** The stored JSON (with its `schema`); null for a delete. */
  value: unknown;
}

export interface EndpointPortJson {
  name?: string;
  containerPort: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

/** A pod as the firewall sees it (GET/PUT /endpoints/{namespace}/{pod}). */
export interface EndpointJson {
  namespace: string;
  pod: string;
  labels: Record<string, string>;
  ip: string | null;
  node: string | null;
  ports: EndpointPortJson[];
  /** Store revision of the record (of the delete, for DELETE answers). */
  revision: number;
}

/** Body of PUT /endpoints/{namespace}/{pod}: present fields replace, absent ones are kept, null clears ip/node. */
export interface EndpointRequest {
  labels?: Record<string, string>;
  ip?: string | null;
  node?: string | null;
  ports?: Array<{ name?: string; containerPort: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }>;
}

export interface EndpointsJson {
  endpoints: EndpointJson[];
  revision: number;
}

export interface NetworkPoliciesJson {
  /** The stored networking.k8s.io/v1 NetworkPolicy objects. */
  items: Array<Record<string, unknown>>;
  revision: number;
}

/** GET /snapshot: raw records under the requested prefixes, consistent enough to watch from `revision`. */
export interface SnapshotJson {
  revision: number;
  records: Array<{ key: string; value: unknown; mod_revision: number }>;
}

/** PUT /vips/{namespace}/{service} body (the listener's report). */
export interface VipRequest {
  /** The address; required unless `auto`. */
  ip?: string;
  /** Take the next free address of the daemon's --vip-pool (kept across PUTs). */
  auto?: boolean;
  /** Nodes with a ready local endpoint of the service; absent = keep the stored list. */
  candidates?: string[];
}

export interface VipJson {
  namespace: string;
  service: string;
  vip: string;
  auto: boolean;
  candidates: string[];
  holder: string | null;
  epoch: number;
  revision: number;
}

export interface VipsJson {
  vips: VipJson[];
  revision: number;
}
