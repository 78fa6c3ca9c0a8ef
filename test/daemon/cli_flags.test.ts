/**
 * romana-daemon's command line: defaults, the initial-topology flags
 * (--initial-network, --cloud=aws with --aws-region, overrides, service
 * range), bad flags (one line naming flag and value, exit 2), the warning
 * for a non-loopback bind without tokens, and graceful SIGTERM.
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupDaemons, spawnDaemon, startDaemon, tempDir } from '../helpers/daemon.js';

afterAll(cleanupDaemons);

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('romana-daemon flags', () => {
  it('with no flags at all starts on the embedded store in ./romana-data with the built-in kubeadm topology on 127.0.0.1:9600', async () => {
    // The documented default port must be free for this test to mean anything.
    expect(await portFree(9600)).toBe(true);
    const cwd = tempDir();
    const d = spawnDaemon([], { cwd });
    const url = await d.ready();
    expect(url).toBe('http://127.0.0.1:9600');
    const first = d.logs[0]!;
    expect(first.msg).toContain('embedded store in ./romana-data');
    expect(first.msg).toContain('built-in "kubeadm"');
    const nets = await d.client().listNetworks();
    expect(nets.map((n) => [n.name, n.cidr])).toEqual([['romana-network', '10.112.0.0/12']]);
    expect(await d.stop()).toBe(0);
  });

  it.each([
    [['--port', 'abc'], '--port "abc"'],
    [['--port', '70000'], '--port "70000"'],
    [['--cloud', 'gcp'], '--cloud "gcp"'],
    [['--log-level', 'loud'], '--log-level "loud"'],
    [['--service-cluster-ip-range', '10.96.0.1/12'], '--service-cluster-ip-range "10.96.0.1/12"'],
    [['--network-cidr-overrides', 'romana-network'], '--network-cidr-overrides "romana-network"'],
    [['--etcd-endpoints', 'not a url'], '--etcd-endpoints entry "not a url"'],
    [['--aws-region', 'us-east-1'], '--aws-region "us-east-1"'],
    [['--initial-network', '/nonexistent/topology.json'], '--initial-network "/nonexistent/topology.json"'],
    [['--frobnicate'], "'--frobnicate'"],
  ])('rejects %j with one line naming the flag and value, exit 2', async (args, named) => {
    const d = spawnDaemon([...args, '--data-dir', tempDir()]);
    expect(await d.exited).toBe(2);
    const lines = d.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(named);
  });

  it('prints usage for --help', async () => {
    const d = spawnDaemon(['--help']);
    expect(await d.exited).toBe(0);
    expect(d.stdout()).toContain('--initial-network FILE');
  });

  it('--cloud=aws --aws-region installs the built-in region topology, with CIDR overrides', async () => {
    const d = await startDaemon(['--cloud', 'aws', '--aws-region', 'us-east-1', '--network-cidr-overrides', 'romana-network=100.96.0.0/11']);
    expect(d.logs[0]!.msg).toContain('built-in "aws-us-east-1"');
    const topo = await d.client().getTopology();
    // us-east-1: six zones padded to eight /14 groups.
    const zones = topo.topologies[0]!.map.filter((g) => !g.padding);
    expect(zones.map((z) => z.name)).toEqual(['a', 'b', 'c', 'd', 'e', 'f'].map((l) => `failure-domain: us-east-1${l}`));
    expect(zones[0]!.cidr).toBe('100.96.0.0/14');
    const host = await d.client().addHost({
      name: 'ip-10-0-0-1',
      ip: '10.0.0.1',
      tags: { 'failure-domain.beta.kubernetes.io/region': 'us-east-1', 'failure-domain.beta.kubernetes.io/zone': 'us-east-1c' },
    });
    expect(host.host.groups[0]!.cidr).toBe('100.104.0.0/16');
    await d.stop();
  });

  it('refuses an initial topology that overlaps --service-cluster-ip-range', async () => {
    const d = spawnDaemon(['--data-dir', tempDir(), '--service-cluster-ip-range', '10.112.0.0/16']);
    expect(await d.exited).toBe(2);
    expect(d.stderr()).toContain('--service-cluster-ip-range "10.112.0.0/16"');
    expect(d.stderr()).toContain('overlaps the service range');
  });

  it('uses --initial-network only while the store holds no topology', async () => {
    const dir = tempDir();
    const first = path.join(dir, 'first.json');
    const second = path.join(dir, 'second.json');
    // Comments are allowed, as in the documented examples.
    writeFileSync(first, '# lab\n{"networks":[{"name":"lab","cidr":"10.40.0.0/16"}],"topologies":[{"networks":["lab"],"map":[{"name":"r1","groups":[]}]}]}\n');
    writeFileSync(second, '{"networks":[{"name":"other","cidr":"10.41.0.0/16"}],"topologies":[{"networks":["other"],"map":[{"groups":[]}]}]}');
    const data = tempDir();
    const d1 = await startDaemon(['--data-dir', data, '--initial-network', first]);
    expect((await d1.client().listNetworks()).map((n) => n.name)).toEqual(['lab']);
    await d1.stop();
    const d2 = await startDaemon(['--data-dir', data, '--initial-network', second]);
    expect((await d2.client().listNetworks()).map((n) => n.name)).toEqual(['lab']);
    await d2.stop();
  });

  it('warns when listening beyond loopback without --token-file', async () => {
    const d = await startDaemon(['--host', '0.0.0.0']);
    expect(d.logs.some((l) => l.level === 'warn' && /without --token-file/.test(l.msg))).toBe(true);
    await d.stop();
  });

  it('stops gracefully on SIGTERM while a watch stream is open', async () => {
    const d = await startDaemon([]);
    const c = d.client();
    const stream = await c.watch({ since: 0 });
    const it = stream[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ key: 'topology' });
    const t0 = Date.now();
    expect(await d.stop()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    // The stream ended cleanly: iteration finishes instead of hanging or throwing.
    for (let r = await it.next(); !r.done; r = await it.next()) expect(r.value.revision).toBeGreaterThan(0);
    expect(d.logs.map((l) => l.msg)).toContain('stopped');
  });
});
