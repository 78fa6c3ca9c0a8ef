/**
 * Topology-aware IPAM (DESIGN §3): the pure decision layer.
 *
 * The IPAM never mutates records on its own: planners read an IpamState and
 * return the record changes (with compare revisions) that implement one
 * operation; the persistent layer commits them atomically and applies them
 * back with `applyChanges`, and feeds other replicas' commits through
 * `applyStoreEvent`. MemoryIpam does all of that in memory.
 */
export * from './types.js';
export * from './keys.js';
export {
  IpamState,
  applyChanges,
  applyStoreEvent,
  type StoredRecord,
  type RecordEntry,
  type NetIndex,
  type LeafIndex,
  type BlockIndex,
  type HostEntry,
  type AddressEntry,
  type AddressIndex,
} from './state.js';
export { planAllocate, planRelease, findFreeSlot, type AllocatePlan, type ReleasePlan } from './allocate.js';
export {
  planAddHost,
  planRemoveHost,
  planUpdateHostLabels,
  DEFAULT_AGENT_PORT,
  type AddHostRequest,
  type HostPlan,
  type RemoveHostPlan,
} from './hosts.js';
export { planReserve, planUnreserve, type ReservePlan } from './reserve.js';
export { planTopologyChange, type TopologyChangePlan, type TopologyDiff, type OrphanedBlock } from './topology_change.js';
export {
  listBlocks,
  listAddresses,
  listHosts,
  utilisation,
  type BlockView,
  type BlockFilter,
  type AddressFilter,
  type HostView,
  type Utilisation,
  type NetworkUse,
  type GroupUse,
  type HostUse,
} from './views.js';
export { MemoryIpam } from './memory.js';
export { FreeBitmap } from './bitmap.js';
