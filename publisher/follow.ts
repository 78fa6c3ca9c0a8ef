/**
 * Follows the daemon for the publisher (DESIGN §1: the daemon's API is the
 * bus): GET /snapshot of the topology, hosts and blocks, then GET /watch
 * from the snapshot's revision, kept in an IpamState (the same pure state
 * the daemon plans with, so groups, placements and blocks mean exactly
 * what they mean there).
 *
 * Design:
 * - Level-triggered: `onChange()` only says "something changed"; the
 *   publisher renders from the whole state, so a re-list after an error
 *   costs a read, and events may be coalesced freely.
 * - Resume: a stream the daemon ended cleanly, or for lagging
 *   (WATCH_FELL_BEHIND with `resume_since`), is re-opened from that
 *   revision; any other failure (daemon unreachable, compacted history, a
 *   record that does not decode) re-lists. Retries back off, doubling from
 *   `initialBackoffMs` to `maxBackoffMs`; a snapshot that succeeds resets it.
 * - Only topology, hosts/ and blocks/ keys are applied; the watch carries
 *   everything (one stream keeps the events in revision order), the rest
 *   is skipped.
 *
 * Concurrency rule: one loop per instance; the state is replaced or
 * mutated only on the event loop between awaits.
 */
import { isRomanaError, RomanaError } from '../src/core/errors.js';
import { applyStoreEvent, IpamState, TOPOLOGY_KEY, type RecordEntry, type TopologyRecord } from '../src/core/ipam/index.js';
import { carveTopology } from '../src/core/topology/index.js';
import type { RomanaClient, WatchStream } from '../src/shared/api_client.js';
import type { Logger } from '../src/shared/log.js';
import { decodeIpamRecord, ipamKindOf } from '../src/store/codec.js';

export const FOLLOWED_PREFIXES = ['topology', 'hosts/', 'blocks/'] as const;

function followed(key: string): boolean {
  const k = ipamKindOf(key);
  return k === 'topology' || k === 'host' || k === 'block';
}

/** An IpamState from GET /snapshot records (values as parsed JSON). */
export function stateFromSnapshot(records: ReadonlyArray<{ key: string; value: unknown; mod_revision: number }>, revision: number): IpamState {
  const entries: RecordEntry[] = [];
  let topology: TopologyRecord | undefined;
  for (const r of records) {
    if (!followed(r.key)) continue;
    const value = decodeIpamRecord(r.key, typeof r.value === 'string' ? r.value : JSON.stringify(r.value));
    if (r.key === TOPOLOGY_KEY) topology = value as TopologyRecord;
    entries.push({ key: r.key, value, revision: r.mod_revision });
  }
  return IpamState.fromRecords(topology ? carveTopology(topology.input) : { networks: [] }, entries, revision);
}

export interface FollowerOptions {
  client: RomanaClient;
  log: Logger;
  /** Something in the state changed (also after every (re-)list). No I/O here: mark dirty. */
  onChange: () => void;
  /** Counts applied events (metrics). */
  onEvent?: () => void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export class Follower {
  /** Null until the first snapshot. */
  state: IpamState | null = null;
  /** Revision of the last snapshot or applied event. */
  revision = 0;
  /** A watch stream is open. */
  connected = false;
  lastError: string | null = null;
  private stopped = false;
  private stream: WatchStream | null = null;
  private loop: Promise<void> | null = null;
  private sleepTimer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly o: FollowerOptions) {
    this.initialBackoffMs = o.initialBackoffMs ?? 200;
    this.maxBackoffMs = o.maxBackoffMs ?? 10_000;
  }

  get synced(): boolean {
    return this.state !== null;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.close();
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.wake?.();
    await this.loop;
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    });
    this.wake = null;
    this.sleepTimer = null;
  }

  private async run(): Promise<void> {
    let delay = this.initialBackoffMs;
    let relist = true;
    while (!this.stopped) {
      try {
        if (relist) {
          const snap = await this.o.client.snapshot([...FOLLOWED_PREFIXES]);
          if (this.stopped) return;
          this.state = stateFromSnapshot(snap.records, snap.revision);
          this.revision = snap.revision;
          relist = false;
          delay = this.initialBackoffMs;
          this.lastError = null;
          this.o.log.debug({ revision: snap.revision, records: snap.records.length }, 'snapshot loaded');
          this.o.onChange();
        }
        this.stream = await this.o.client.watch({ since: this.revision });
        this.connected = true;
        for await (const ev of this.stream) {
          if (this.stopped) return;
          this.revision = ev.revision;
          if (!followed(ev.key)) continue;
          const value = ev.type === 'put' ? decodeIpamRecord(ev.key, JSON.stringify(ev.value)) : null;
          applyStoreEvent(this.state!, ev.key, value, ev.revision);
          this.o.onEvent?.();
          this.o.onChange();
        }
        // The daemon ended the stream (shutdown, restart): resume from where we are.
        this.connected = false;
        if (this.stopped) return;
        this.o.log.info({ revision: this.revision }, 'watch stream ended; resuming');
      } catch (e) {
        this.connected = false;
        if (this.stopped) return;
        const err = isRomanaError(e) ? e : new RomanaError('INTERNAL', (e as Error)?.message ?? String(e), { cause: e });
        this.lastError = err.message;
        if (err.code === 'WATCH_FELL_BEHIND' && typeof err.details.resume_since === 'number') {
          this.revision = err.details.resume_since;
          this.o.log.warn({ revision: this.revision }, 'watch fell behind; resuming');
          continue;
        }
        relist = true;
        this.o.log.warn({ err: err.message, code: err.code, retryMs: delay }, 'following the daemon failed; re-listing after a pause');
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.maxBackoffMs);
      } finally {
        this.stream = null;
      }
    }
  }
}
