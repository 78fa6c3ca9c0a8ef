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
 * The exception is allocate(), the hot operation of the simulator and the
 * benchmarks: it makes the planner's decision (chooseAllocation) and applies
 * it in place (applyAllocation), with the outcome of committing the plan but
 * without its garbage. test/core/ipam/fast_path.test.ts holds the two paths
 * to identical results. Block records an IpamState built itself are edited
 * in place; any record handed out (records(), state.get) is copied before
 * the next edit, so callers never see a record they hold change. Code that
 * walks `state.blocks` directly should copy what it keeps of `value.names`.
 *
 * Concurrency rule: single caller; every method is synchronous.
 */
import { RomanaError } from '../errors.js';
import { carveTopology } from '../topology/index.js';
import type { CarvedTopology, TopologyInput } from '../topology/types.js';
import { allocationOf, applyAllocation, chooseAllocation, planAllocate, planRelease } from './allocate.js';
import { planAddHost, planRemoveHost, planUpdateHostLabels, type AddHostRequest } from './hosts.js';
import { planReserve, planUnreserve } from './reserve.js';
import { AddressEntry, applyChanges, IpamState, type RecordEntry } from './state.js';
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

  /**
   * Allocates in place (allocate.ts applyAllocation): the same decision as
   * planAllocate, applied without building changes, checking compares that
   * cannot fail or re-reading the records it just built. That is what makes
   * in-memory allocation fast; the outcome is exactly that of committing
   * the plan. Falls back to plan + commit when the state has seen revisions
   * above ours (changes applied to `state` directly), so that such misuse
   * behaves as it did.
   */
  allocate(req: AllocateRequest): Allocation {
    if (this.state.revision > this.revision) {
      const plan = planAllocate(this.state, req);
      this.commit(plan.changes);
      return plan.allocation;
    }
    const c = chooseAllocation(this.state, req);
    if (c instanceof AddressEntry) return allocationOf(c.value);
    return applyAllocation(this.state, req, c, ++this.revision);
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
