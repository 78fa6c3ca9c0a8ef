/**
 * romana-cni on the real kernel with a real daemon: the built executable
 * runs inside a "host" network namespace this test creates (as a runtime
 * would run it), reaches the daemon through the daemon's unix socket
 * (--socket), and plumbs pods into further namespaces. Nothing runs in, or
 * changes, the root namespace's network configuration; every namespace
 * and process is removed by name/PID afterwards, also on failure.
 *
 * Per spec version: ADD programs exactly the recipe (machine-notes §3), a
 * retried ADD returns the same result, CHECK passes and then catches
 * damage, DEL removes everything and is idempotent (also after the
 * namespace is gone), and failures roll back (bad namespace, interface
 * clash mid-way, agent sync refused).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vethName } from '../../src/cni/naming.js';
import { compareVersions, SUPPORTED_VERSIONS } from '../../src/cni/versions.js';
import { cleanupDaemons, http, startDaemon, tempDir, type DaemonProcess } from '../helpers/daemon.js';
import { CNI_BUNDLE, invokeCni, NetnsLab, privilegedSkipReason, type CniInvocation } from '../helpers/netns.js';

const SKIP = privilegedSkipReason();
const NODE = 'node-a';

describe.skipIf(SKIP !== null)(`romana-cni on the real kernel${SKIP ? ` (skipped: ${SKIP})` : ''}`, () => {
  let lab: NetnsLab;
  let host: string;
  let daemon: DaemonProcess;
  let socket: string;
  let seq = 0;

  beforeAll(async () => {
    lab = new NetnsLab('rc');
    host = await lab.add('host');
    await lab.mustExec(host, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    const dir = tempDir('romana-cni-priv-');
    socket = path.join(dir, 'daemon.sock');
    daemon = await startDaemon(['--socket', socket]);
    const r = await http(daemon.url(), 'POST', '/hosts', { body: { name: NODE, ip: '10.250.0.1' } });
    expect(r.status, r.text).toBe(201);
  });

  afterAll(async () => {
    await lab?.cleanup();
    await cleanupDaemons();
    // Nothing of ours may survive: no namespace with this run's prefix.
    if (lab) expect(lab.existing()).toEqual([]);
  });

  function conf(version: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { cniVersion: version, name: 'romana-test', type: 'romana', daemon: `unix:${socket}`, node_name: NODE, mtu: 1450, ...extra };
  }

  interface Pod {
    ns: string;
    path: string;
    cid: string;
    veth: string;
    name: string;
    vars(command: string, extra?: Record<string, string>): Record<string, string>;
  }

  async function newPod(): Promise<Pod> {
    const name = `p${++seq}`;
    const ns = await lab.add(name);
    const cid = randomBytes(32).toString('hex');
    return {
      ns,
      path: lab.path(ns),
      cid,
      veth: vethName(cid),
      name,
      vars: (command, extra = {}) => ({
        CNI_COMMAND: command,
        CNI_CONTAINERID: cid,
        CNI_NETNS: lab.path(ns),
        CNI_IFNAME: 'eth0',
        CNI_PATH: '/opt/cni/bin',
        CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=lab;K8S_POD_NAME=${name}`,
        ...extra,
      }),
    };
  }

  const cni = (vars: Record<string, string>, config: unknown, entry?: string): Promise<CniInvocation> =>
    invokeCni(lab, host, vars, config, entry === undefined ? {} : { entry });

  const addressOf = async (pod: Pod): Promise<{ status: number; json: any }> =>
    http(daemon.url(), 'GET', `/addresses/${encodeURIComponent(`cni:lab:${pod.name}:${pod.cid}:eth0`)}`);

  /**
   * What the kernel and the daemon hold for one pod, for exact comparisons:
   * its host veth, host routes through it, the pod namespace's interfaces,
   * its address and endpoint record at the daemon.
   */
  async function snapshot(pod: Pod): Promise<Record<string, unknown>> {
    const hostLinks = (await lab.ipJson(host, 'link', 'show')).map((l) => l.ifname).filter((n) => n === pod.veth);
    const podAlive = lab.existing().includes(pod.ns);
    const podLinks = podAlive ? (await lab.ipJson(pod.ns, 'link', 'show')).map((l) => l.ifname).filter((n) => n !== 'lo').sort() : 'gone';
    const hostRoutes = (await lab.ipJson(host, 'route', 'show')).filter((r) => r.dev === pod.veth).map((r) => `${r.dst} ${r.dev}`);
    const ep = await http(daemon.url(), 'GET', `/endpoints/lab/${pod.name}`);
    return { hostLinks, podLinks, hostRoutes, address: (await addressOf(pod)).status, endpoint: ep.status };
  }

  describe.each(SUPPORTED_VERSIONS)('cniVersion %s', (version) => {
    it('ADD plumbs the veth, addresses and routes exactly; a retry returns the same; CHECK passes; DEL twice removes everything', async () => {
      const pod = await newPod();
      const add = await cni(pod.vars('ADD'), conf(version));
      expect(add.code, add.stdout + add.stderr).toBe(0);
      const ip: string = add.json.ips[0].address.split('/')[0];
      expect(add.json.cniVersion).toBe(version);
      expect(add.json.ips[0]).toEqual({
        ...(compareVersions(version, '1.0.0') < 0 ? { version: '4' } : {}),
        address: `${ip}/32`,
        gateway: '169.254.1.1',
        interface: 1,
      });
      expect(add.json.interfaces.map((i: { name: string }) => i.name)).toEqual([pod.veth, 'eth0']);

      // Pod side: exactly <ip>/32, the link-local gateway route and the default route.
      const [eth0] = await lab.ipJson(pod.ns, 'addr', 'show', 'dev', 'eth0');
      expect(eth0.mtu).toBe(1450);
      expect(eth0.flags).toContain('UP');
      expect(eth0.address).toBe(add.json.interfaces[1].mac);
      expect(eth0.addr_info.filter((a: any) => a.family === 'inet').map((a: any) => `${a.local}/${a.prefixlen}`)).toEqual([`${ip}/32`]);
      const podRoutes = (await lab.ipJson(pod.ns, 'route', 'show')).map((r) => ({ dst: r.dst, gateway: r.gateway, dev: r.dev, scope: r.scope }));
      expect(podRoutes).toEqual([
        { dst: 'default', gateway: '169.254.1.1', dev: 'eth0', scope: undefined },
        { dst: '169.254.1.1', gateway: undefined, dev: 'eth0', scope: 'link' },
      ]);
      // Host side: the gateway address and the pod's /32, nothing else.
      const [veth] = await lab.ipJson(host, 'addr', 'show', 'dev', pod.veth);
      expect(veth.mtu).toBe(1450);
      expect(veth.flags).toContain('UP');
      expect(veth.addr_info.filter((a: any) => a.family === 'inet').map((a: any) => `${a.local}/${a.prefixlen}`)).toEqual(['169.254.1.1/32']);
      expect((await lab.ipJson(host, 'route', 'show', 'dev', pod.veth)).map((r) => `${r.dst} ${r.scope}`)).toEqual([`${ip} link`]);
      // It forwards: the pod reaches its gateway, the host reaches the pod.
      expect((await lab.exec(pod.ns, 'ping', ['-c1', '-W2', '169.254.1.1'])).code).toBe(0);
      expect((await lab.exec(host, 'ping', ['-c1', '-W2', ip])).code).toBe(0);
      // The daemon: the address on this node, the endpoint record with ip and node.
      expect((await addressOf(pod)).json).toMatchObject({ ip, host: NODE, tenant: 'lab', segment: 'default' });
      expect((await http(daemon.url(), 'GET', `/endpoints/lab/${pod.name}`)).json).toMatchObject({ ip, node: NODE });

      const again = await cni(pod.vars('ADD'), conf(version));
      expect(again.code, again.stdout).toBe(0);
      expect(again.json).toEqual(add.json);

      if (compareVersions(version, '0.4.0') >= 0) {
        const check = await cni(pod.vars('CHECK'), conf(version, { prevResult: add.json }));
        expect(check.code, check.stdout).toBe(0);
        expect(check.stdout).toBe('');
        // Damage is reported, and CHECK repairs nothing.
        await lab.ip(pod.ns, 'route', 'del', 'default');
        const bad = await cni(pod.vars('CHECK'), conf(version, { prevResult: add.json }));
        expect(bad.json).toMatchObject({ cniVersion: version, code: 999, msg: expect.stringContaining('no default route') });
        expect(await lab.ipJson(pod.ns, 'route', 'show', 'default')).toEqual([]);
      }

      for (let i = 0; i < 2; i++) {
        const del = await cni(pod.vars('DEL'), conf(version));
        expect(del.code, del.stdout).toBe(0);
        expect(del.stdout).toBe('');
        expect(await snapshot(pod)).toEqual({ hostLinks: [], podLinks: [], hostRoutes: [], address: 404, endpoint: 404 });
      }
    });

    it('DEL succeeds after the namespace is deleted, and without CNI_NETNS', async () => {
      const pod = await newPod();
      expect((await cni(pod.vars('ADD'), conf(version))).code).toBe(0);
      await lab.del(pod.ns);
      const del = await cni(pod.vars('DEL'), conf(version));
      expect(del.code, del.stdout).toBe(0);
      expect(await snapshot(pod)).toEqual({ hostLinks: [], podLinks: 'gone', hostRoutes: [], address: 404, endpoint: 404 });
      const again = await cni(pod.vars('DEL', { CNI_NETNS: '' }), conf(version));
      expect(again.code, again.stdout).toBe(0);
    });

    it('ADD into a namespace path that does not exist is code 3 and leaves nothing', async () => {
      const pod = await newPod();
      const r = await cni(pod.vars('ADD', { CNI_NETNS: `/var/run/netns/${lab.prefix}-missing` }), conf(version));
      expect(r.json).toMatchObject({ cniVersion: version, code: 3 });
      expect(await snapshot(pod)).toEqual({ hostLinks: [], podLinks: [], hostRoutes: [], address: 404, endpoint: 404 });
    });

    it('ADD failing mid-way (the pod already has an eth0) rolls back the address', async () => {
      const pod = await newPod();
      await lab.ip(pod.ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'clash0');
      const r = await cni(pod.vars('ADD'), conf(version));
      expect(r.json).toMatchObject({ cniVersion: version, code: 5 });
      expect(r.json.msg).toContain('already exists');
      expect(r.stderr).toContain('rolled back');
      expect(await snapshot(pod)).toEqual({ hostLinks: [], podLinks: ['clash0', 'eth0'], hostRoutes: [], address: 404, endpoint: 404 });
    });

    it('ADD whose agent sync is refused rolls back veth, routes, endpoint and address (fail closed, code 11)', async () => {
      const pod = await newPod();
      // Nothing listens on port 1 inside the host namespace.
      const r = await cni(pod.vars('ADD'), conf(version, { agent: 'http://127.0.0.1:1' }));
      expect(r.json).toMatchObject({ cniVersion: version, code: 11 });
      expect(await snapshot(pod)).toEqual({ hostLinks: [], podLinks: [], hostRoutes: [], address: 404, endpoint: 404 });
    });
  });

  it('two pods on one host share the gateway address yet reach each other; removing one leaves the other working', async () => {
    const a = await newPod();
    const b = await newPod();
    const ra = await cni(a.vars('ADD'), conf('1.1.0'));
    const rb = await cni(b.vars('ADD'), conf('1.1.0'));
    expect([ra.code, rb.code]).toEqual([0, 0]);
    const ipA = ra.json.ips[0].address.split('/')[0];
    const ipB = rb.json.ips[0].address.split('/')[0];
    expect((await lab.exec(a.ns, 'ping', ['-c1', '-W2', ipB])).code).toBe(0);
    expect((await lab.exec(b.ns, 'ping', ['-c1', '-W2', ipA])).code).toBe(0);
    expect((await cni(a.vars('DEL'), conf('1.1.0'))).code).toBe(0);
    expect((await lab.exec(b.ns, 'ping', ['-c1', '-W2', '169.254.1.1'])).code).toBe(0);
    expect((await lab.exec(host, 'ping', ['-c1', '-W2', ipB])).code).toBe(0);
    expect((await cni(b.vars('DEL'), conf('1.1.0'))).code).toBe(0);
  });

  it('a namespace given as /proc/PID/ns/net is entered with nsenter', async () => {
    const pod = await newPod();
    const holder = lab.spawn(pod.ns, 'sleep', ['600']);
    const netns = `/proc/${holder.pid}/ns/net`;
    // `ip netns exec` execs sleep in place, so the PID is the process inside the namespace.
    const add = await cni(pod.vars('ADD', { CNI_NETNS: netns }), conf('1.0.0'));
    expect(add.code, add.stdout).toBe(0);
    expect(add.json.interfaces[1].sandbox).toBe(netns);
    const [eth0] = await lab.ipJson(pod.ns, 'addr', 'show', 'dev', 'eth0');
    expect(eth0.addr_info.some((x: any) => `${x.local}/${x.prefixlen}` === add.json.ips[0].address)).toBe(true);
    const check = await cni(pod.vars('CHECK', { CNI_NETNS: netns }), conf('1.0.0', { prevResult: add.json }));
    expect(check.code, check.stdout).toBe(0);
    expect((await cni(pod.vars('DEL', { CNI_NETNS: netns }), conf('1.0.0'))).code).toBe(0);
    holder.kill();
  });

  it('GC releases the attachments the runtime no longer lists, and STATUS reflects the daemon', async () => {
    const keep = await newPod();
    const stale = await newPod();
    expect((await cni(keep.vars('ADD'), conf('1.1.0'))).code).toBe(0);
    expect((await cni(stale.vars('ADD'), conf('1.1.0'))).code).toBe(0);
    const gc = await cni({ CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' }, conf('1.1.0', { 'cni.dev/valid-attachments': [{ containerID: keep.cid, ifname: 'eth0' }] }));
    expect(gc.code, gc.stdout).toBe(0);
    expect((await addressOf(stale)).status).toBe(404);
    expect((await addressOf(keep)).status).toBe(200);
    expect((await lab.ipJson(host, 'link', 'show')).map((l) => l.ifname)).not.toContain(stale.veth);
    expect((await cni({ CNI_COMMAND: 'STATUS' }, conf('1.1.0'))).code).toBe(0);
    const down = await cni({ CNI_COMMAND: 'STATUS' }, conf('1.1.0', { daemon: `unix:${socket}.missing` }));
    expect(down.json).toMatchObject({ code: 50 });
    expect((await cni(keep.vars('DEL'), conf('1.1.0'))).code).toBe(0);
  });

  it('the single-file bundle (dist/romana-cni.cjs) behaves like the tsc build', async () => {
    expect(existsSync(CNI_BUNDLE), `${CNI_BUNDLE} is missing: "npm run build" bundles it`).toBe(true);
    const pod = await newPod();
    const add = await cni(pod.vars('ADD'), conf('1.0.0'), CNI_BUNDLE);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    const del = await cni(pod.vars('DEL'), conf('1.0.0'), CNI_BUNDLE);
    expect(del.code).toBe(0);
    const ver = await cni({ CNI_COMMAND: 'VERSION' }, { cniVersion: '1.1.0' }, CNI_BUNDLE);
    expect(ver.json).toEqual({ cniVersion: '1.1.0', supportedVersions: [...SUPPORTED_VERSIONS] });
  });
});
