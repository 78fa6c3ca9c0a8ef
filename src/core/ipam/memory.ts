/**
 * MemoryIpam: the pure IPAM with an in-memory "store", for tests, the
 * simulator and benchmarks.
 *
 * Design: wraps an IpamState; every operation plans, then commits the plan
 * exactly as a store would: the compares (`expect`) are checked against the
 * records held (a mismatch is a planner bug and throws CONFLICT), the
 * revision counter advances by one per non-empty commit, and the changes are
 * applied with that revision. So a MemoryIpam exercises the same code paths
 * as the daemon over etcd, minus the network.
 *
 * Concurrency rule: single caller; every method is synchronous.
 */
import { RomanaError } from '../errors.js';
import { carveTopology } from '../topology/index.js';
import type { CarvedTopology, TopologyInput } from '../topology/types.js';
import { planAllocate, planRelease } from './allocate.js';
import { planAddHost, planRemoveHost, planUpdateHostLabels, type AddHostRequest } from './hosts.js';
import { planReserve, planUnreserve } from './reserve.js';
import { applyChanges, IpamState, type RecordEntry } from './state.js';
import { planTopologyChange, type TopologyDiff } from './topology_change.js';
import type { AddressRecord, Allocation, AllocateRequest, Change, HostRecord, ReservationRecord } from './types.js';
import {
  listAddresses,
  listBlocks,
  listHosts,
  utilisation,
  type AddressFilter,
  type BlockFilter,
  type BlockView,
  type HostView,
  type Utilisation,
} from './views.js';

export class MemoryIpam {
  readonly state: IpamState;
  /** Revision of the last commit (0 before any). */
  revision = 0;

  constructor(state?: IpamState) {
    this.state = state ?? IpamState.fromRecords({ networks: [] }, []);
    this.revision = this.state.revision;
  }

  /** A MemoryIpam with `input` as its topology (predefined hosts registered). */
  static withTopology(input: TopologyInput, carved: CarvedTopology = carveTopology(input)): MemoryIpam {
    const m = new MemoryIpam();
    m.setTopology(input, carved);
    return m;
  }

  /** Commits `changes` as one transaction; returns its revision (unchanged when empty). */
  commit(changes: readonly Change[]): number {
    if (changes.length === 0) return this.revision;
    for (const c of changes) {
      if (c.expect === undefined) continue;
      const held = this.state.get(c.key)?.revision ?? 0;
      if (held !== c.expect) {
        throw new RomanaError('CONFLICT', `Compare failed on "${c.key}": expected revision ${c.expect}, store has ${held}`, {
          resourceType: 'record',
          resourceId: c.key,
        });
      }
    }
    this.revision++;
    applyChanges(this.state, changes, this.revision);
    return this.revision;
  }

  setTopology(input: TopologyInput, carved: CarvedTopology = carveTopology(input)): TopologyDiff {
    const plan = planTopologyChange(this.state, input, carved);
    this.commit(plan.changes);
    return plan.diff;
  }

  /** Dry run of setTopology: what would change (throws what setTopology would). */
  previewTopology(input: TopologyInput, carved: CarvedTopology = carveTopology(input)): TopologyDiff {
    return planTopologyChange(this.state, input, carved).diff;
  }

  addHost(req: AddHostRequest): HostRecord {
    const plan = planAddHost(this.state, req);
    this.commit(plan.changes);
    return plan.host;
  }

  /** Removes the host and releases its blocks and addresses; returns the released addresses. */
  removeHost(name: string): AddressRecord[] {
    const plan = planRemoveHost(this.state, name);
    this.commit(plan.changes);
    return plan.released;
  }

  updateHostLabels(name: string, labels: Record<string, string>): HostRecord {
    const plan = planUpdateHostLabels(this.state, name, labels);
    this.commit(plan.changes);
    return plan.host;
  }

  allocate(req: AllocateRequest): Allocation {
    const plan = planAllocate(this.state, req);
    this.commit(plan.changes);
    return plan.allocation;
  }

  release(nameOrIp: string): AddressRecord {
    const plan = planRelease(this.state, nameOrIp);
    this.commit(plan.changes);
    return plan.released;
  }

  reserve(network: string | undefined, cidr: string): ReservationRecord {
    const plan = planReserve(this.state, network, cidr);
    this.commit(plan.changes);
    return plan.reservation;
  }

  unreserve(network: string | undefined, cidr: string): void {
    this.commit(planUnreserve(this.state, network, cidr).changes);
  }

  blocks(filter?: BlockFilter): BlockView[] {
    return listBlocks(this.state, filter);
  }

  addresses(filter?: AddressFilter): AddressRecord[] {
    return listAddresses(this.state, filter);
  }

  hosts(): HostView[] {
    return listHosts(this.state);
  }

  utilisation(): Utilisation {
    return utilisation(this.state);
  }

  /** Every record with its revision (what a full range read of the store returns). */
  records(): RecordEntry[] {
    return [...this.state.records()];
  }
}
