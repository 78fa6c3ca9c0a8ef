/**
 * The IPAM authority shared by several PROCESSES on one store (the embedded
 * SQLite file, and etcd): allocator processes (fixtures/allocator_child.ts)
 * race for addresses on the same hosts; none may hand out an address twice
 * or lose an acknowledged allocation — also when they are killed with
 * SIGKILL in the middle of the storm.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { builtinTopology } from '../../src/core/topology/index.js';
import { IpamService } from '../../src/daemon/ipam_service.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { killAllChildren, spawnTs, type Child } from '../helpers/child.js';
import { startEtcd, type EtcdInstance } from '../helpers/etcd.js';
import { checkIpamConsistency } from '../helpers/ipam_check.js';
import { waitFor } from '../helpers/poll.js';

const CHILD = 'test/daemon/fixtures/allocator_child.ts';
const HOSTS = ['h1', 'h2', 'h3', 'h4'];

interface Target {
  /** Store location as the child's JSON argument wants it. */
  where: { dataDir: string } | { endpoints: string[] };
  teardown(): Promise<void>;
}

const targets: Record<string, () => Promise<Target>> = {
  'embedded file': async () => {
    const dir = mkdtempSync('/dev/shm/romana-test-mp-');
    return { where: { dataDir: dir }, teardown: async () => rmSync(dir, { recursive: true, force: true }) };
  },
  etcd: async () => {
    const etcd: EtcdInstance = await startEtcd();
    return { where: { endpoints: [etcd.endpoint] }, teardown: () => etcd.stop() };
  },
};

interface Ack {
  name: string;
  ip: string;
  child: number;
}

function acksOf(children: Child[]): Ack[] {
  const out: Ack[] = [];
  children.forEach((c, child) => {
    for (const l of c.lines) {
      const m = /^ack (\S+) (\S+)$/.exec(l);
      if (m) out.push({ name: m[1]!, ip: m[2]!, child });
    }
  });
  return out;
}

for (const [name, make] of Object.entries(targets)) {
  describe(`IPAM shared by several processes: ${name}`, () => {
    let target: Target;
    const stores: Store[] = [];
    let n = 0;

    const openHere = async (prefix: string) => {
      const s = await openStore({ prefix, ...('dataDir' in target.where ? { dataDir: target.where.dataDir } : { etcdEndpoints: target.where.endpoints }) });
      stores.push(s);
      return s;
    };
    /** Topology and hosts under a fresh prefix, written by this (parent) process. */
    const prepare = async () => {
      const prefix = `/mp-${process.pid}-${n++}`;
      const store = await openHere(prefix);
      const ipam = await IpamService.open(store);
      await ipam.setTopology(builtinTopology('kubeadm'));
      for (const [i, h] of HOSTS.entries()) await ipam.addHost({ name: h, ip: `192.168.1.${i + 1}` });
      await ipam.close();
      return { prefix, store };
    };
    /** Starts allocators, waits until all are ready, then releases them together. */
    const startAllocators = async (prefix: string, specs: Array<{ id: string; count: number }>) => {
      const kids = specs.map((s) =>
        spawnTs(CHILD, [JSON.stringify({ ...target.where, prefix, id: s.id, count: s.count, hosts: HOSTS, concurrency: 8 })]),
      );
      await Promise.all(kids.map((k) => k.waitForLine(/^ready$/)));
      for (const k of kids) k.send('go');
      return kids;
    };

    beforeAll(async () => {
      target = await make();
    });
    afterEach(async () => {
      await killAllChildren();
      await Promise.all(stores.splice(0).map((s) => s.close()));
    });
    afterAll(async () => {
      await target?.teardown();
    });

    it('allocators in 4 processes (400 names at once) never hand out the same address and lose none', async () => {
      const { prefix, store } = await prepare();
      const kids = await startAllocators(prefix, [0, 1, 2, 3].map((i) => ({ id: `p${i}`, count: 100 })));
      const codes = await Promise.all(kids.map((k) => k.exited));
      expect(codes, kids.map((k) => k.stderr()).join('\n')).toEqual([0, 0, 0, 0]);
      const acks = acksOf(kids);
      expect(acks).toHaveLength(400);
      expect(new Set(acks.map((a) => a.ip)).size).toBe(400);
      const snap = await checkIpamConsistency(store);
      expect(snap.problems).toEqual([]);
      expect(snap.addresses.size).toBe(400);
      for (const a of acks) expect(snap.addresses.get(a.name)?.ip).toBe(a.ip);
      // The processes really raced for the same blocks.
      const stats = kids.map((k) => JSON.parse(k.lines.find((l) => l.startsWith('done '))!.slice(5)) as { conflicts: number });
      expect(stats.reduce((s, x) => s + x.conflicts, 0)).toBeGreaterThan(0);
    });

    it('kill -9 during an allocation storm: after restart every acknowledged allocation is there, once', async () => {
      const { prefix, store } = await prepare();
      const kids = await startAllocators(prefix, [0, 1, 2].map((i) => ({ id: `k${i}`, count: -1 })));
      // Kill each one while it is busy: once it has acknowledged a good number (and has more in flight).
      for (const k of kids) {
        await waitFor(`60 acknowledgements from allocator ${k.pid}`, () => {
          if (k.exitCode() !== undefined) throw new Error(`allocator exited early: ${k.stderr()}`);
          return acksOf([k]).length >= 60;
        }, { timeoutMs: 30_000 });
        k.kill('SIGKILL');
      }
      await Promise.all(kids.map((k) => k.exited));
      expect(kids.map((k) => k.exitCode())).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL']);
      const acks = acksOf(kids);
      expect(acks.length).toBeGreaterThanOrEqual(3 * 60);

      // Restart: a new allocator process on the same store finishes a batch of its own.
      const [after] = await startAllocators(prefix, [{ id: 'after', count: 50 }]);
      expect(await after!.exited, after!.stderr()).toBe(0);

      const snap = await checkIpamConsistency(store);
      expect(snap.problems).toEqual([]);
      for (const a of acks) expect(snap.addresses.get(a.name)?.ip, `acknowledged ${a.name}`).toBe(a.ip);
      const allIps = [...snap.addresses.values()].map((a) => a.ip);
      expect(new Set(allIps).size).toBe(allIps.length);
      expect(acksOf([after!])).toHaveLength(50);

      // A CNI retry of an acknowledged name gets the very same address.
      const ipam = await IpamService.open(store);
      for (const a of acks.filter((_, i) => i % 25 === 0)) {
        const i = Number(a.name.slice(a.name.lastIndexOf('-') + 1));
        expect((await ipam.allocate({ name: a.name, host: HOSTS[i % HOSTS.length]!, tenant: 't', segment: 's' })).ip).toBe(a.ip);
      }
      await ipam.close();
    });
  });
}
