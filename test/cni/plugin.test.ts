/**
 * romana-cni verbs in-process (STYLE §8): every verb for every supported
 * spec version, against the fake kernel (fake `ip`), a fake daemon and a
 * fake agent. The privileged tests repeat the essentials on the real
 * kernel with a real daemon.
 */
import { describe, expect, it } from 'vitest';
import { RomanaError } from '../../src/core/errors.js';
import { vethName } from '../../src/cni/naming.js';
import { SUPPORTED_VERSIONS, compareVersions } from '../../src/cni/versions.js';
import { HOST_NS } from './fake_kernel.js';
import { harness, type Harness } from './fakes.js';

const NETNS = '/var/run/netns/pod-1';
const CID = '3f2a9c0d5e6b7a8f9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b';
const VETH = vethName(CID);
const ADDR_NAME = `cni:shop:web-0:${CID}:eth0`;

function env(command: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: CID,
    CNI_NETNS: NETNS,
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/opt/cni/bin',
    CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=' + CID,
    ...extra,
  };
}

function conf(version: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { cniVersion: version, name: 'romana-k8s-network', type: 'romana', daemon: 'unix:/run/romana/daemon.sock', node_name: 'node-a', mtu: 1450, ...extra };
}

function setup(opts: { withAgent?: boolean } = {}): Harness {
  const h = harness(opts);
  h.kernel.addNetns(NETNS);
  return h;
}

/** Everything the plugin may have left behind, in one comparable object. */
function leftovers(h: Harness): unknown {
  return {
    hostLinks: [...h.kernel.ns(HOST_NS).links.keys()].filter((n) => n !== 'lo'),
    hostRoutes: h.kernel.ns(HOST_NS).routes,
    podLinks: h.kernel.namespaces.has(NETNS) ? [...h.kernel.ns(NETNS).links.keys()].filter((n) => n !== 'lo') : 'gone',
    addresses: [...h.daemon.addresses.keys()],
    endpoints: [...h.daemon.endpoints.entries()],
  };
}

const NOTHING = { hostLinks: [], hostRoutes: [], podLinks: [], addresses: [], endpoints: [] };
const legacy = (v: string): boolean => compareVersions(v, '1.0.0') < 0;

describe.each(SUPPORTED_VERSIONS)('cniVersion %s', (version) => {
  describe('ADD', () => {
    it('allocates, plumbs the veth exactly, registers the endpoint, syncs the agent, and answers in this version', async () => {
      const h = setup();
      h.daemon.listenerWrote('shop', 'web-0', { app: 'web', 'romana.io/segment': 'frontend' }, [{ name: 'http', containerPort: 80, protocol: 'TCP' }]);
      let registeredAtSync: unknown = null;
      h.agent.onSync = () => (registeredAtSync = structuredClone(h.daemon.endpoints.get('shop/web-0')));
      const r = await h.run(env('ADD'), conf(version, { agent: 'http://127.0.0.1:9604' }));
      expect(r.code, r.stdout + r.stderr).toBe(0);

      // Result shape per version.
      const host = h.kernel.ns(HOST_NS).links.get(VETH)!;
      const pod = h.kernel.ns(NETNS).links.get('eth0')!;
      const ip: Record<string, unknown> = { address: '10.112.0.2/32', gateway: '169.254.1.1', interface: 1 };
      if (legacy(version)) ip.version = '4';
      const withMtu = compareVersions(version, '1.1.0') >= 0 ? { mtu: 1450 } : {};
      expect(r.json).toEqual({
        cniVersion: version,
        interfaces: [
          { name: VETH, mac: host.mac, ...withMtu },
          { name: 'eth0', mac: pod.mac, sandbox: NETNS, ...withMtu },
        ],
        ips: [ip],
        routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }],
        dns: {},
      });
      if (!legacy(version)) expect(r.json.ips[0]).not.toHaveProperty('version');

      // Kernel state: exactly the recipe.
      expect(VETH).toMatch(/^romana[0-9a-f]{9}$/);
      expect(host).toMatchObject({ up: true, mtu: 1450, addrs: ['169.254.1.1/32'], peer: [NETNS, 'eth0'] });
      expect(pod).toMatchObject({ up: true, mtu: 1450, addrs: ['10.112.0.2/32'], peer: [HOST_NS, VETH] });
      expect(h.kernel.ns(NETNS).links.get('lo')!.up).toBe(true);
      expect(h.kernel.ns(NETNS).routes).toEqual([
        { dst: '169.254.1.1', dev: 'eth0', scope: 'link' },
        { dst: 'default', dev: 'eth0', gateway: '169.254.1.1' },
      ]);
      expect(h.kernel.ns(HOST_NS).routes).toEqual([{ dst: '10.112.0.2', dev: VETH, scope: 'link' }]);

      // Daemon: tenant = namespace, segment from the pod's label; the endpoint PUT carried only ip and node.
      expect(h.daemon.addresses.get(ADDR_NAME)).toEqual({ name: ADDR_NAME, ip: '10.112.0.2', host: 'node-a', tenant: 'shop', segment: 'frontend' });
      const ep = { labels: { app: 'web', 'romana.io/segment': 'frontend' }, ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }], ip: '10.112.0.2', node: 'node-a' };
      expect(h.daemon.endpoints.get('shop/web-0')).toEqual(ep);
      expect(h.daemon.log.filter((l) => l.startsWith('putEndpoint'))).toEqual(['putEndpoint shop/web-0 {"ip":"10.112.0.2","node":"node-a"}']);
      // The agent synced once, after the endpoint was published.
      expect(h.agent.syncs).toBe(1);
      expect(registeredAtSync).toEqual(ep);
      // stdout is the result only; the client was closed.
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
      expect(h.daemon.closed).toBe(1);
    });

    it('a retried ADD returns the same result and changes nothing', async () => {
      const h = setup();
      const first = await h.run(env('ADD'), conf(version));
      const state = JSON.stringify(leftovers(h));
      const links = h.kernel.calls.filter((c) => c.args.includes('add')).length;
      const again = await h.run(env('ADD'), conf(version));
      expect(again.code).toBe(0);
      expect(again.json).toEqual(first.json);
      expect(JSON.stringify(leftovers(h))).toBe(state);
      // The pair was reused, not recreated.
      expect(h.kernel.calls.filter((c) => c.args.includes('add')).length).toBe(links);
    });

    it('without Kubernetes arguments: tenant and segment "default", name from the container id, no endpoint record', async () => {
      const h = setup();
      const e = env('ADD');
      delete (e as Record<string, string | undefined>).CNI_ARGS;
      const r = await h.run(e, conf(version));
      expect(r.code).toBe(0);
      expect(h.daemon.addresses.get(`cni:${CID}:eth0`)).toMatchObject({ tenant: 'default', segment: 'default' });
      expect(h.daemon.log.some((l) => l.includes('Endpoint'))).toBe(false);
    });

    it('against a daemon without endpoint routes: segment "default", no registration, still succeeds', async () => {
      const h = setup();
      h.daemon.endpointsSupported = false;
      const r = await h.run(env('ADD'), conf(version));
      expect(r.code).toBe(0);
      expect(h.daemon.addresses.get(ADDR_NAME)).toMatchObject({ tenant: 'shop', segment: 'default' });
      expect(h.daemon.log.filter((l) => l.startsWith('putEndpoint'))).toEqual([]);
    });

    it('uses a configured segment label and a netns outside /var/run/netns through nsenter', async () => {
      const h = setup();
      h.kernel.addNetns('/proc/4242/ns/net');
      h.daemon.listenerWrote('shop', 'web-0', { tier: 'db' });
      const r = await h.run(env('ADD', { CNI_NETNS: '/proc/4242/ns/net' }), conf(version, { segment_label: 'tier' }));
      expect(r.code, r.stdout).toBe(0);
      expect(h.daemon.addresses.get(ADDR_NAME)!.segment).toBe('db');
      expect(h.kernel.calls.some((c) => c.file === 'nsenter' && c.args[0] === '--net=/proc/4242/ns/net')).toBe(true);
      expect(h.kernel.ns('/proc/4242/ns/net').links.get('eth0')!.addrs).toEqual(['10.112.0.2/32']);
    });

    it('a namespace that does not exist is code 3 and nothing is allocated', async () => {
      const h = setup();
      const r = await h.run(env('ADD', { CNI_NETNS: '/var/run/netns/nope' }), conf(version));
      expect(r.code).toBe(1);
      expect(r.json).toMatchObject({ cniVersion: version, code: 3 });
      expect(r.json.msg).toContain('/var/run/netns/nope');
      expect(leftovers(h)).toEqual(NOTHING);
      expect(h.daemon.writes()).toEqual([]);
    });

    // Each step that can fail after the allocation, and what the runtime sees.
    const failures: Array<[string, (h: Harness) => void, number]> = [
      ['the pod already has an eth0', (h) => void h.kernel.failWhen((_c, l) => l.startsWith('link add'), 'RTNETLINK answers: File exists'), 5],
      ['the pod side cannot be configured', (h) => void h.kernel.failWhen((_c, l) => l.startsWith('route replace default'), 'Error: Nexthop has invalid gateway.'), 5],
      ['the host side cannot be configured', (h) => void h.kernel.failWhen((c, l) => c.ns === HOST_NS && l.startsWith('route replace 10.'), 'RTNETLINK answers: Operation not permitted'), 5],
      ['the endpoint cannot be registered', (h) => h.daemon.failNext('putEndpoint', new RomanaError('STORE_UNAVAILABLE', 'The store cannot be reached')), 105],
      ['the agent does not confirm the sync', (h) => void (h.agent.fail = new Error('connect ECONNREFUSED 127.0.0.1:9604')), 11],
    ];
    it.each(failures)('rolls back everything when %s', async (_what, breakIt, code) => {
      const h = setup();
      h.daemon.listenerWrote('shop', 'web-0', { app: 'web' });
      breakIt(h);
      const r = await h.run(env('ADD'), conf(version, { agent: 'http://127.0.0.1:9604' }));
      expect(r.code).toBe(1);
      expect(r.json).toMatchObject({ cniVersion: version, code });
      expect(typeof r.json.msg).toBe('string');
      // The listener's record is back as it was; nothing else is left.
      expect(leftovers(h)).toEqual({ ...NOTHING, endpoints: [['shop/web-0', { labels: { app: 'web' }, ip: null, node: null, ports: [] }]] });
      expect(r.stderr).toContain('rolled back');
    });

    it('an allocation the daemon committed but whose answer was lost is released by the rollback', async () => {
      const h = setup();
      const commit = h.daemon.allocate.bind(h.daemon);
      h.daemon.allocate = async (req) => {
        await commit(req);
        throw new RomanaError('DAEMON_UNREACHABLE', 'Cannot reach the romana daemon (POST /address): no answer within 10000 ms');
      };
      const r = await h.run(env('ADD'), conf(version));
      expect(r.json).toMatchObject({ code: 106 });
      expect(leftovers(h)).toEqual(NOTHING);
    });

    it('rolling back a retried ADD also removes the endpoint record the first ADD made', async () => {
      const h = setup();
      expect((await h.run(env('ADD'), conf(version))).code).toBe(0);
      h.agent.fail = new Error('agent down');
      const r = await h.run(env('ADD'), conf(version, { agent: 'http://127.0.0.1:9604' }));
      expect(r.json.code).toBe(11);
      expect(leftovers(h)).toEqual(NOTHING);
    });

    it.each([
      ['HOST_NOT_FOUND', 101],
      ['NO_NETWORK_FOR_TENANT', 103],
      ['POOL_EXHAUSTED', 104],
      ['DAEMON_UNREACHABLE', 106],
      ['CONFLICT', 11],
    ] as const)('a daemon %s answer is CNI code %i, with the Romana code in details', async (rc, code) => {
      const h = setup();
      h.daemon.failNext('allocate', new RomanaError(rc, `${rc} happened`));
      const r = await h.run(env('ADD'), conf(version));
      expect(r.json).toEqual({ cniVersion: version, code, msg: expect.stringContaining(`${rc} happened`), details: `romana code ${rc}` });
      expect(leftovers(h)).toEqual(NOTHING);
    });

    it('an unregistered node is code 101 naming the host', async () => {
      const h = setup();
      const r = await h.run(env('ADD'), conf(version, { node_name: 'stranger' }));
      expect(r.json.code).toBe(101);
      expect(r.json.msg).toContain('"stranger"');
    });
  });

  describe('DEL', () => {
    it('removes the veth, routes, endpoint record and address; a second DEL succeeds too', async () => {
      const h = setup();
      await h.run(env('ADD'), conf(version));
      expect(h.daemon.endpoints.has('shop/web-0')).toBe(true);
      const r = await h.run(env('DEL'), conf(version));
      expect(r).toMatchObject({ code: 0, stdout: '' });
      expect(leftovers(h)).toEqual(NOTHING);
      const again = await h.run(env('DEL'), conf(version));
      expect(again).toMatchObject({ code: 0, stdout: '' });
    });

    it('succeeds after the namespace is gone and without CNI_NETNS', async () => {
      const h = setup();
      await h.run(env('ADD'), conf(version));
      h.kernel.deleteNetns(NETNS);
      const r = await h.run(env('DEL', { CNI_NETNS: '' }), conf(version));
      expect(r.code, r.stdout).toBe(0);
      expect(leftovers(h)).toEqual({ ...NOTHING, podLinks: 'gone' });
    });

    it('succeeds when the address was already released, and still removes the veth', async () => {
      const h = setup();
      await h.run(env('ADD'), conf(version));
      h.daemon.addresses.clear();
      const r = await h.run(env('DEL'), conf(version));
      expect(r.code).toBe(0);
      expect(h.kernel.ns(HOST_NS).links.has(VETH)).toBe(false);
    });

    it('keeps the listener\'s labels and ports, clearing only ip and node', async () => {
      const h = setup();
      h.daemon.listenerWrote('shop', 'web-0', { app: 'web' }, [{ containerPort: 80, protocol: 'TCP' }]);
      await h.run(env('ADD'), conf(version));
      expect((await h.run(env('DEL'), conf(version))).code).toBe(0);
      expect(h.daemon.endpoints.get('shop/web-0')).toEqual({ labels: { app: 'web' }, ip: null, node: null, ports: [{ containerPort: 80, protocol: 'TCP' }] });
    });

    it('keeps an endpoint record that a newer sandbox of the pod rewrote', async () => {
      const h = setup();
      await h.run(env('ADD'), conf(version));
      h.daemon.endpoints.set('shop/web-0', { ip: '10.112.0.99', node: 'node-a', labels: {} });
      expect((await h.run(env('DEL'), conf(version))).code).toBe(0);
      expect(h.daemon.endpoints.get('shop/web-0')!.ip).toBe('10.112.0.99');
      expect(h.daemon.addresses.size).toBe(0);
    });

    it('fails (so the runtime retries) when the daemon cannot be reached, after removing the veth', async () => {
      const h = setup();
      await h.run(env('ADD'), conf(version));
      h.daemon.reachable = false;
      const r = await h.run(env('DEL'), conf(version));
      expect(r.json).toMatchObject({ cniVersion: version, code: 106 });
      expect(h.kernel.ns(HOST_NS).links.has(VETH)).toBe(false);
      h.daemon.reachable = true;
      expect((await h.run(env('DEL'), conf(version))).code).toBe(0);
      expect(leftovers(h)).toEqual(NOTHING);
    });

    it('does not release an address the daemon holds for another host', async () => {
      const h = setup();
      h.daemon.addresses.set(ADDR_NAME, { name: ADDR_NAME, ip: '10.112.0.50', host: 'node-b' });
      expect((await h.run(env('DEL'), conf(version))).code).toBe(0);
      expect(h.daemon.addresses.has(ADDR_NAME)).toBe(true);
    });
  });

  describe('CHECK', () => {
    const checkConf = async (h: Harness, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> => {
      const add = await h.run(env('ADD'), conf(version));
      expect(add.code).toBe(0);
      return conf(version, { prevResult: add.json, ...extra });
    };

    if (compareVersions(version, '0.4.0') < 0) {
      it('is refused with code 1: CHECK arrived in 0.4.0', async () => {
        const h = setup();
        const r = await h.run(env('CHECK'), await checkConf(h));
        expect(r.json).toMatchObject({ cniVersion: version, code: 1 });
        expect(r.json.msg).toContain('0.4.0');
      });
      return;
    }

    it('passes on an intact attachment and only reads', async () => {
      const h = setup();
      const c = await checkConf(h);
      const before = { calls: h.kernel.writes().length, daemon: h.daemon.writes().length };
      const r = await h.run(env('CHECK'), c);
      expect(r, r.stdout).toMatchObject({ code: 0, stdout: '' });
      expect(h.kernel.writes().length).toBe(before.calls);
      expect(h.daemon.writes().length).toBe(before.daemon);
    });

    it('reports every problem at once, still only reading', async () => {
      const h = setup();
      const c = await checkConf(h);
      h.kernel.ns(NETNS).routes = h.kernel.ns(NETNS).routes.filter((r) => r.dst !== 'default');
      h.kernel.ns(HOST_NS).links.get(VETH)!.mtu = 1500;
      h.daemon.addresses.get(ADDR_NAME)!.ip = '10.112.0.77';
      h.daemon.endpoints.delete('shop/web-0');
      const writes = h.kernel.writes().length;
      const r = await h.run(env('CHECK'), c);
      expect(r.json).toMatchObject({ cniVersion: version, code: 999 });
      for (const p of ['no default route via 169.254.1.1', `"${VETH}" has MTU 1500, configured 1450`, 'the daemon has 10.112.0.77', 'no endpoint record']) {
        expect(r.json.msg).toContain(p);
      }
      expect(h.kernel.writes().length).toBe(writes);
    });

    it('a missing veth or released address fails', async () => {
      const h = setup();
      const c = await checkConf(h);
      h.kernel.deleteLink(HOST_NS, VETH);
      h.daemon.addresses.clear();
      const r = await h.run(env('CHECK'), c);
      expect(r.json.code).toBe(999);
      expect(r.json.msg).toContain(`host veth "${VETH}" is missing`);
      expect(r.json.msg).toContain('interface "eth0" is missing');
      expect(r.json.msg).toContain('holds no address');
    });

    it('a vanished namespace is code 3; no prevResult is code 7', async () => {
      const h = setup();
      const c = await checkConf(h);
      expect((await h.run(env('CHECK'), conf(version))).json.code).toBe(7);
      h.kernel.deleteNetns(NETNS);
      expect((await h.run(env('CHECK'), c)).json.code).toBe(3);
    });
  });

  describe('VERSION', () => {
    it('lists the supported versions, answering in this version', async () => {
      const h = setup();
      const r = await h.run({ CNI_COMMAND: 'VERSION' }, { cniVersion: version });
      expect(r).toMatchObject({ code: 0, json: { cniVersion: version, supportedVersions: [...SUPPORTED_VERSIONS] } });
      expect(h.daemon.log).toEqual([]);
    });
  });

  describe('GC', () => {
    if (compareVersions(version, '1.1.0') < 0) {
      it('is refused with code 1: GC arrived in 1.1.0', async () => {
        const h = setup();
        const r = await h.run({ CNI_COMMAND: 'GC' }, conf(version, { 'cni.dev/valid-attachments': [] }));
        expect(r.json).toMatchObject({ cniVersion: version, code: 1 });
      });
      return;
    }

    it('releases this node\'s stale attachments and nothing else', async () => {
      const h = setup();
      h.kernel.addNetns('/var/run/netns/pod-2');
      await h.run(env('ADD'), conf(version));
      await h.run(env('ADD', { CNI_CONTAINERID: 'c2', CNI_NETNS: '/var/run/netns/pod-2', CNI_ARGS: 'K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-1' }), conf(version));
      // Another tool's address on this node, and a stale one of ours on another node.
      h.daemon.addresses.set('reserved-for-vip', { name: 'reserved-for-vip', ip: '10.112.0.40', host: 'node-a' });
      h.daemon.addresses.set('cni:gone:eth0', { name: 'cni:gone:eth0', ip: '10.112.1.2', host: 'node-b' });
      const r = await h.run({ CNI_COMMAND: 'GC' }, conf(version, { 'cni.dev/valid-attachments': [{ containerID: CID, ifname: 'eth0' }] }));
      expect(r).toMatchObject({ code: 0, stdout: '' });
      expect([...h.daemon.addresses.keys()].sort()).toEqual([ADDR_NAME, 'cni:gone:eth0', 'reserved-for-vip'].sort());
      expect(h.daemon.endpoints.has('shop/web-1')).toBe(false);
      expect(h.kernel.ns(HOST_NS).links.has(vethName('c2'))).toBe(false);
      expect(h.kernel.ns(HOST_NS).links.has(VETH)).toBe(true);
    });

    it('refuses to run without the list of valid attachments (code 7)', async () => {
      const h = setup();
      await h.run(env('ADD'), conf(version));
      const r = await h.run({ CNI_COMMAND: 'GC' }, conf(version));
      expect(r.json).toMatchObject({ code: 7 });
      expect(h.daemon.addresses.size).toBe(1);
    });
  });

  describe('STATUS', () => {
    if (compareVersions(version, '1.1.0') < 0) {
      it('is refused with code 1: STATUS arrived in 1.1.0', async () => {
        const h = setup();
        expect((await h.run({ CNI_COMMAND: 'STATUS' }, conf(version))).json).toMatchObject({ cniVersion: version, code: 1 });
      });
      return;
    }

    it('succeeds silently when the daemon and agent are ready; code 50 otherwise', async () => {
      const h = setup();
      const c = conf(version, { agent: 'http://127.0.0.1:9604' });
      expect(await h.run({ CNI_COMMAND: 'STATUS' }, c)).toMatchObject({ code: 0, stdout: '' });
      h.agent.isReady = false;
      expect((await h.run({ CNI_COMMAND: 'STATUS' }, c)).json).toMatchObject({ code: 50, msg: expect.stringContaining('agent') });
      h.daemon.reachable = false;
      expect((await h.run({ CNI_COMMAND: 'STATUS' }, c)).json).toMatchObject({ code: 50, msg: expect.stringContaining('daemon') });
    });
  });

  describe('input errors', () => {
    it('invalid JSON is code 6, a bad config code 7 listing every problem, a foreign ipam code 2', async () => {
      const h = setup();
      expect((await h.run(env('ADD'), '{"cniVersion":')).json).toMatchObject({ code: 6 });
      const bad = await h.run(env('ADD'), conf(version, { mtu: '1500', daemon: 'ftp://x', log_level: 'loud' }));
      expect(bad.json).toMatchObject({ cniVersion: version, code: 7 });
      for (const p of ['$.mtu', '$.daemon', '$.log_level']) expect(bad.json.details).toContain(p);
      expect((await h.run(env('ADD'), conf(version, { ipam: { type: 'host-local' } }))).json).toMatchObject({ code: 2 });
      expect(leftovers(h)).toEqual(NOTHING);
    });

    it('missing or malformed CNI_* variables are code 4', async () => {
      const h = setup();
      const e = env('ADD', { CNI_IFNAME: 'much-too-long-name0' });
      delete (e as Record<string, string | undefined>).CNI_CONTAINERID;
      const r = await h.run(e, conf(version));
      expect(r.json).toMatchObject({ cniVersion: version, code: 4 });
      expect(r.json.msg).toContain('CNI_CONTAINERID is not set');
      expect(r.json.msg).toContain('CNI_IFNAME');
      expect((await h.run(env('FROB'), conf(version))).json.code).toBe(4);
    });

    it('reads the token from token_file, and an unreadable one is code 7', async () => {
      const h = setup();
      h.files.set('/etc/romana/cni-token', 's3cret\n');
      expect((await h.run(env('ADD'), conf(version, { token_file: '/etc/romana/cni-token' }))).code).toBe(0);
      expect((await h.run(env('ADD'), conf(version, { token_file: '/etc/romana/none' }))).json).toMatchObject({ code: 7 });
    });

    it('logs to log_file instead of stderr when configured, never to stdout', async () => {
      const h = setup();
      const r = await h.run(env('ADD'), conf(version, { log_file: '/var/log/romana/cni.log', log_level: 'debug' }));
      expect(r.stderr).toBe('');
      const lines = h.files.get('/var/log/romana/cni.log')!.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((l) => l.msg)).toContain('ADD done');
      expect(lines[0]).toMatchObject({ name: 'romana-cni', command: 'ADD', pod: 'shop/web-0' });
      expect(Object.keys(r.json)).toContain('ips');
    });
  });
});

describe('the commands an ADD runs', () => {
  it('reads the host end, creates the pair, then one ip -batch per side: four processes', async () => {
    const h = setup();
    expect((await h.run(env('ADD'), conf('1.1.0'))).code).toBe(0);
    expect(h.kernel.calls.map((c) => ({ file: c.file, args: c.args.join(' '), input: c.input }))).toEqual([
      { file: 'ip', args: `-j addr show dev ${VETH}`, input: '' },
      { file: 'ip', args: `link add ${VETH} mtu 1450 type veth peer name eth0 mtu 1450 netns ${NETNS}`, input: '' },
      {
        file: 'ip',
        args: '-n pod-1 -j -batch -',
        input: [
          'link set lo up',
          'link set eth0 mtu 1450 up',
          'addr replace 10.112.0.2/32 dev eth0',
          'route replace 169.254.1.1 dev eth0 scope link',
          'route replace default via 169.254.1.1 dev eth0',
          'link show dev eth0',
          '',
        ].join('\n'),
      },
      {
        file: 'ip',
        args: '-j -batch -',
        input: [`link set ${VETH} mtu 1450 up`, `addr replace 169.254.1.1/32 dev ${VETH}`, `route replace 10.112.0.2/32 dev ${VETH} scope link`, `link show dev ${VETH}`, ''].join('\n'),
      },
    ]);
  });
});

describe('versions and config shapes', () => {
  it('refuses a version it does not speak with code 1, in the newest version', async () => {
    const h = setup();
    for (const v of ['0.2.0', '2.0.0', undefined]) {
      const r = await h.run(env('ADD'), conf(v as string));
      expect(r.json).toMatchObject({ cniVersion: '1.1.0', code: 1 });
    }
    expect(h.daemon.log).toEqual([]);
  });

  it('VERSION answers even for an unknown requested version or an empty stdin', async () => {
    const h = setup();
    expect((await h.run({ CNI_COMMAND: 'VERSION' }, { cniVersion: '9.9.9' })).json.cniVersion).toBe('1.1.0');
    expect((await h.run({ CNI_COMMAND: 'VERSION' }, '')).json).toEqual({ cniVersion: '1.1.0', supportedVersions: [...SUPPORTED_VERSIONS] });
  });

  it('accepts a whole conflist and the original plugin\'s key names', async () => {
    const h = setup();
    const list = {
      cniVersion: '0.4.0',
      name: 'romana-k8s-network',
      plugins: [
        { type: 'romana', daemon: 'http://10.0.0.1:9600', romana_host_name: 'node-a', segment_label_name: 'tier', ipam: { type: 'romana-ipam' } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    };
    const r = await h.run(env('ADD'), list);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json.cniVersion).toBe('0.4.0');
    expect(h.configs[0]).toMatchObject({ name: 'romana-k8s-network', nodeName: 'node-a', segmentLabel: 'tier', daemon: { kind: 'http', baseUrl: 'http://10.0.0.1:9600' } });
  });

  it('defaults: hostname as node_name, MTU 1500, daemon on 127.0.0.1:9600', async () => {
    const h = setup();
    const r = await h.run(env('ADD'), { cniVersion: '1.0.0', name: 'n', type: 'romana' });
    expect(r.code).toBe(0);
    expect(h.configs[0]).toMatchObject({ nodeName: 'node-a', mtu: 1500, daemon: { kind: 'http', baseUrl: 'http://127.0.0.1:9600' }, agent: null });
    expect(h.kernel.ns(HOST_NS).links.get(VETH)!.mtu).toBe(1500);
  });
});
