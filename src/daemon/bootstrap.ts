/**
 * Installing the initial topology into an empty store.
 *
 * Goal: --initial-network (or the built-in default) is used ONLY when the
 * store holds no topology (reference §1.9) — also when two replicas start
 * at once on an empty etcd with different flags: exactly one installs its
 * topology and the other adopts it, never replaces it.
 *
 * Design: plan the change with the pure planner (predefined hosts are
 * created with it) and commit it ourselves with "topology must not exist"
 * among the compares. IpamService.setTopology would, after losing that race,
 * re-plan against the winner's topology and replace it; that is right for
 * POST /topology and wrong here.
 *
 * Concurrency rule: runs once at start-up, before the server listens.
 */
import { IpamState, planTopologyChange, TOPOLOGY_KEY, type Change } from '../core/ipam/index.js';
import type { Logger } from '../shared/log.js';
import { encodeRecord } from '../store/codec.js';
import type { Compare, Store, TxnOp } from '../store/store.js';
import type { IpamService } from './ipam_service.js';
import type { InitialTopology } from './initial_topology.js';

export type BootstrapOutcome = 'installed' | 'existing';

export async function ensureTopology(store: Store, ipam: IpamService, initial: InitialTopology, log: Logger): Promise<BootstrapOutcome> {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (ipam.topology()) return 'existing';
    // Plan against what the store holds besides the topology (hosts may exist from an earlier life).
    const state = IpamState.fromRecords({ networks: [] }, ipam.records().filter((r) => r.key !== TOPOLOGY_KEY));
    const plan = planTopologyChange(state, initial.input, initial.carved);
    const { compares, ops } = toTxn(plan.changes);
    if (!compares.some((c) => c.key === TOPOLOGY_KEY)) compares.push({ key: TOPOLOGY_KEY, modRevision: 0 });
    const r = await store.txn(compares, ops);
    await ipam.resync();
    if (r.succeeded) {
      log.info({ source: initial.source, revision: r.revision, hostsCreated: plan.diff.hostsCreated.length }, `installed the initial topology from ${initial.source}`);
      return 'installed';
    }
  }
  // Five lost races in a row without a topology appearing: the store is being rewritten under us.
  if (ipam.topology()) return 'existing';
  throw new Error('Could not install the initial topology: the store kept changing');
}

function toTxn(changes: readonly Change[]): { compares: Compare[]; ops: TxnOp[] } {
  const compares: Compare[] = [];
  const ops: TxnOp[] = [];
  for (const c of changes) {
    if (c.expect !== undefined) compares.push({ key: c.key, modRevision: c.expect });
    if (c.op === 'put') ops.push({ op: 'put', key: c.key, value: encodeRecord(c.value) });
    else if (c.op === 'delete') ops.push({ op: 'delete', key: c.key });
  }
  return { compares, ops };
}
