/**
 * IPAM records. Each record is one store key (DESIGN §2): the pure IPAM
 * decides, from the records it knows, which records to create, update or
 * delete; the persistent layer commits those changes in one compare-and-swap
 * transaction (compare = the revision the decision was based on), and
 * retries on conflict. Values are JSON with a `schema` number.
 *
 * Keys (relative to the store prefix):
 *   topology                          -> TopologyRecord
 *   hosts/<name>                      -> HostRecord
 *   blocks/<network>/<block-cidr>     -> BlockRecord   ("/" in the CIDR is kept: blocks/net/10.0.0.0/29)
 *   addresses/<address-name>          -> AddressRecord
 *   reservations/<network>/<cidr>     -> ReservationRecord
 */
import type { TopologyInput } from '../topology/types.js';

export const IPAM_SCHEMA = 1;

export interface TopologyRecord {
  schema: 1;
  /** The validated input as given (comments stripped), so GET /topology can echo it. */
  input: TopologyInput;
}

export interface HostRecord {
  schema: 1;
  name: string;
  ip: string;
  labels: Record<string, string>;
  /** network name -> leaf group path the host was placed in (hosts never move). */
  groups: Record<string, string>;
  agentPort?: number;
}

export interface BlockRecord {
  schema: 1;
  network: string;
  /** e.g. "10.112.0.0/29" */
  cidr: string;
  /** Leaf group path (see CarvedGroup.path). */
  group: string;
  host: string;
  tenant: string;
  segment: string;
  /** address offset within the block (0-based) -> address name; the allocation bitmap is derived from the keys. */
  names: Record<string, string>;
}

export interface AddressRecord {
  schema: 1;
  name: string;
  ip: string;
  network: string;
  block: string;
  host: string;
  tenant: string;
  segment: string;
}

export interface ReservationRecord {
  schema: 1;
  network: string;
  cidr: string;
}

export type IpamRecord = TopologyRecord | HostRecord | BlockRecord | AddressRecord | ReservationRecord;

/**
 * One change the IPAM wants committed. `expect` is the store revision of the
 * key the decision was based on: 0 means "must not exist yet"; undefined means
 * no compare (used only for keys that are owned exclusively by the decision).
 *
 * `check` (added) writes nothing: it is only a compare, for records the
 * decision read but does not change (e.g. a new block depends on its host
 * record and on the topology still being what the planner saw). The store
 * turns it into a Compare of the transaction and applyChanges ignores it.
 */
export type Change =
  | { op: 'put'; key: string; value: IpamRecord; expect?: number }
  | { op: 'delete'; key: string; expect?: number }
  | { op: 'check'; key: string; expect: number };

export interface AllocateRequest {
  /** Address name; allocation is idempotent by name (CNI retries get the same IP). */
  name: string;
  host: string;
  tenant: string;
  segment: string;
}

export interface Allocation {
  name: string;
  ip: string;
  network: string;
  block: string;
}
