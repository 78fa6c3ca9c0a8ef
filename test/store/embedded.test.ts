/**
 * The embedded (SQLite) backend: the shared conformance suite, plus what only
 * a file-based store has to prove — durability across reopen, several
 * processes on one file, cross-process watches, bounded change log, and a
 * damaged file reported as STORE_CORRUPT.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RomanaError } from '../../src/core/errors.js';
import { DB_FILE, openEmbeddedStore, type EmbeddedStoreOptions } from '../../src/store/embedded.js';
import type { Store, WatchEvent } from '../../src/store/store.js';
import { killAllChildren, spawnTs } from '../helpers/child.js';
import { waitFor } from '../helpers/poll.js';
import { describeStoreConformance } from './conformance.js';

describeStoreConformance('embedded', async () => {
  const dir = mkdtempSync('/dev/shm/romana-test-embedded-');
  return {
    open: async (prefix) => openEmbeddedStore({ dataDir: dir, prefix }),
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('embedded store: file, processes, history', () => {
  let dir: string;
  const stores: Store[] = [];
  const openAt = (opts: Partial<EmbeddedStoreOptions> = {}) => {
    const s = openEmbeddedStore({ dataDir: dir, ...opts });
    stores.push(s);
    return s;
  };
  const CHILD = 'test/store/fixtures/store_child.ts';

  beforeEach(() => {
    dir = mkdtempSync('/dev/shm/romana-test-embedded-');
  });
  afterEach(async () => {
    await killAllChildren();
    await Promise.all(stores.splice(0).map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps keys, revisions and leases across close and reopen', async () => {
    const a = openAt();
    const w = await a.txn([], [{ op: 'put', key: 'hosts/h', value: 'v' }]);
    const lease = await a.grantLease(60);
    await a.txn([], [{ op: 'put', key: 'leased', value: 'l', lease: lease.id }]);
    await a.close();
    const b = openAt();
    expect(await b.get('hosts/h')).toMatchObject({ value: 'v', modRevision: w.revision });
    expect(await b.revision()).toBe(w.revision + 1);
    const l2 = (await b.get('leased'))!;
    expect(l2.lease).toBe(lease.id);
  });

  it('several processes incrementing one key by compare-and-swap lose no update; a watcher sees every write once', async () => {
    const s = openAt();
    const c = { events: [] as WatchEvent[], errors: [] as Error[] };
    const w = await s.watch('counter', await s.revision(), (e) => c.events.push(e), (e) => c.errors.push(e));
    const kids = [0, 1, 2].map(() => spawnTs(CHILD, [dir, '/romana', 'increment', '150']));
    const codes = await Promise.all(kids.map((k) => k.exited));
    expect(codes, kids.map((k) => k.stderr()).join('\n')).toEqual([0, 0, 0]);
    expect((await s.get('counter'))?.value).toBe('450');
    // Other processes' writes reach this process's watch through the change log poll.
    await waitFor('450 watch events', () => c.events.length >= 450);
    await w.close();
    expect(c.events.map((e) => Number(e.value))).toEqual(Array.from({ length: 450 }, (_, i) => i + 1));
    expect(c.errors).toEqual([]);
  });

  it('every acknowledged write survives kill -9 of the writer', async () => {
    const kid = spawnTs(CHILD, [dir, '/romana', 'write']);
    await kid.waitForLine(/^ack 200$/);
    kid.kill('SIGKILL');
    await kid.exited;
    const acked = kid.lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4)));
    const s = openAt();
    const stored = new Set((await s.range('acked/')).kvs.map((kv) => kv.key));
    const missing = acked.filter((i) => !stored.has(`acked/${i}`));
    expect(missing).toEqual([]);
    // The file is whole: a further write works and the revision counter matches the data.
    const r = await s.txn([], [{ op: 'put', key: 'after', value: '1' }]);
    expect(r.revision).toBe(1 + stored.size + 1);
  });

  it("expires a crashed process's lease and deletes its keys", async () => {
    const s = openAt();
    const kid = spawnTs(CHILD, [dir, '/romana', 'lease']);
    await kid.waitForLine(/^ready$/);
    const key = `leased/${kid.pid}`;
    expect(await s.get(key)).not.toBeNull();
    kid.kill('SIGKILL');
    await kid.exited;
    await waitFor('the crashed process lease to expire', async () => (await s.get(key)) === null, { timeoutMs: 10_000 });
  });

  it('keeps the change log bounded and reports watches that need compacted history', async () => {
    const s = openAt({ historyRevisions: 100 });
    const start = await s.revision();
    for (let i = 0; i < 1000; i++) await s.txn([], [{ op: 'put', key: `k/${i % 10}`, value: String(i) }]);
    await s.close();
    const db = new Database(path.join(dir, DB_FILE), { readonly: true });
    const rows = (db.prepare('SELECT COUNT(*) AS n FROM changes').get() as { n: number }).n;
    const compacted = (db.prepare("SELECT value FROM meta WHERE name = 'compacted'").get() as { value: number }).value;
    db.close();
    // Compaction runs every 256 revisions, keeping the last 100: at most 100 + 255 rows.
    expect(rows).toBeGreaterThanOrEqual(100);
    expect(rows).toBeLessThan(100 + 256);
    expect(compacted).toBeGreaterThan(start + 1);
    const s2 = openAt({ historyRevisions: 100 });
    const errors: Error[] = [];
    const w = await s2.watch('k/', start, () => undefined, (e) => errors.push(e));
    await waitFor('compaction error', () => errors.length === 1);
    await w.close();
    expect((errors[0] as RomanaError).code).toBe('CONFLICT');
  });

  it('reports a damaged file as STORE_CORRUPT and an unusable directory as STORE_UNAVAILABLE', async () => {
    writeFileSync(path.join(dir, DB_FILE), 'this is not a database at all, just text '.repeat(200));
    expect(() => openEmbeddedStore({ dataDir: dir })).toThrowError(expect.objectContaining({ code: 'STORE_CORRUPT' }));
    writeFileSync(path.join(dir, 'plainfile'), 'x');
    expect(() => openEmbeddedStore({ dataDir: path.join(dir, 'plainfile', 'sub') })).toThrowError(
      expect.objectContaining({ code: 'STORE_UNAVAILABLE', message: expect.stringContaining('plainfile') }),
    );
  });

  it('refuses a file written in another on-disk format', async () => {
    const s = openAt({ dataDir: path.join(dir, 'fmt') });
    await s.close();
    const db = new Database(path.join(dir, 'fmt', DB_FILE));
    db.prepare("UPDATE meta SET value = 2 WHERE name = 'format'").run();
    db.close();
    expect(() => openEmbeddedStore({ dataDir: path.join(dir, 'fmt') })).toThrowError(
      expect.objectContaining({ code: 'STORE_CORRUPT', message: expect.stringMatching(/format 2/) }),
    );
  });
});
