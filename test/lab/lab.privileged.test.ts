/**
 * The lab, end to end (issue 4, DESIGN §9): three hosts on a bridge, a real
 * daemon on the embedded store, a real romana-agent in each host's network
 * namespace, pods created by the CNI binary and conflist the agents
 * installed. Real packets decide every check, and every check states both
 * what must pass and what must be dropped.
 *
 * The steps build on each other (cluster → agents → pods → traffic →
 * policies → restart) and run in order; a step whose prerequisite failed
 * fails with that reason instead of being skipped.
 *
 * Pods (namespace/name, labels, host):
 *   lab/web1 app=web h1    lab/db1 app=db h1
 *   lab/web2 app=web h2    lab/client2 app=client h2
 *   other/ext3 app=client h3
 * Each serves TCP 8080 and 9090 and UDP 5353 (probe_agent.ts) and reports
 * the source address it saw.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../helpers/daemon.js';
import { invokeCni, privilegedSkipReason } from '../helpers/netns.js';
import { LabCluster, OTHER_TCP_PORT, PROBE_AGENT, Prober, TCP_PORT, UDP_PORT, type LabHost, type LabPod } from './cluster.js';

function skipReason(): string | null {
  const base = privilegedSkipReason();
  if (base) return base;
  for (const bin of ['/usr/sbin/iptables', '/usr/sbin/ipset', '/usr/bin/ping']) {
    if (!existsSync(bin)) return `${bin} is missing (apt-get install iptables ipset iputils-ping; .ci/setup-debian.sh does)`;
  }
  return null;
}
const SKIP = skipReason();

type Proto = 'tcp' | 'udp' | 'icmp';
interface Case {
  from: string;
  to: string;
  proto: Proto;
  port?: number;
  pass: boolean;
}
const FOLLOW_MS = 1000;

describe.skipIf(SKIP !== null)(`lab: three hosts, agents, CNI, real packets${SKIP ? ` (skipped: ${SKIP})` : ''}`, () => {
  const c = new LabCluster();
  /** Why later steps cannot run (the first failing prerequisite), or null. */
  let blocked: string | null = null;
  let baseline: Map<string, { chains: string[]; sets: string[] }> | null = null;

  beforeAll(async () => {
    await c.build();
  }, 90_000);

  afterAll(async () => {
    if (timings.length > 0) console.info(`lab timings (change answered by the daemon -> traffic follows):\n  ${timings.join('\n  ')}`);
    await c.cleanup();
    expect(c.lab.existing()).toEqual([]);
  }, 60_000);

  /**
   * Runs a step unless the infrastructure it stands on failed. Failures of
   * the infrastructure steps (agents, pods, routing) are recorded so the
   * later steps fail with that reason; the policy steps each set up the
   * policies they need and block nothing.
   */
  async function step(name: string, body: () => Promise<void>, opts: { infrastructure?: boolean } = {}): Promise<void> {
    if (blocked) throw new Error(`Not run: an earlier lab step failed — ${blocked}`);
    try {
      await body();
    } catch (e) {
      if (opts.infrastructure) blocked = `${name}: ${(e as Error).message.split('\n')[0]}`;
      throw e;
    }
  }

  /** How long each change took to show in traffic (printed at the end, quoted in the report). */
  const timings: string[] = [];

  const endpointOf = (name: string): { probe: Prober; ip: string; label: string } => {
    const h = c.hosts.find((x) => x.name === name);
    if (h) return { probe: h.probe, ip: h.ip, label: name };
    const p = c.pod(name);
    return { probe: p.probe, ip: p.ip, label: name };
  };

  async function probe(k: Case, timeoutMs: number): Promise<{ ok: boolean; peer?: string; error?: string }> {
    const from = endpointOf(k.from);
    const to = c.pod(k.to);
    if (k.proto === 'icmp') return from.probe.send({ op: 'icmp', host: to.ip, timeoutMs });
    return from.probe.send({ op: k.proto, host: to.ip, port: k.port ?? (k.proto === 'udp' ? UDP_PORT : TCP_PORT), timeoutMs });
  }

  const describeCase = (k: Case): string => `${k.from} -> ${k.to} ${k.proto}${k.proto === 'icmp' ? '' : `/${k.port ?? (k.proto === 'udp' ? UDP_PORT : TCP_PORT)}`}`;

  /**
   * Probes every case at once; a passing case must also show the sender's
   * own address at the receiver (pods: no NAT, no overlay).
   */
  async function expectTraffic(cases: Case[]): Promise<void> {
    const results = await Promise.all(cases.map((k) => probe(k, k.pass ? 2000 : 400)));
    const wrong: string[] = [];
    cases.forEach((k, i) => {
      const r = results[i]!;
      if (r.ok !== k.pass) wrong.push(`${describeCase(k)}: expected ${k.pass ? 'pass' : 'drop'}, got ${r.ok ? 'pass' : `drop (${r.error})`}`);
      else if (r.ok && r.peer !== undefined && c.pods.some((p) => p.name === k.from) && r.peer !== endpointOf(k.from).ip) {
        wrong.push(`${describeCase(k)}: the receiver saw source ${r.peer}, not the pod's ${endpointOf(k.from).ip}`);
      }
    });
    expect(wrong).toEqual([]);
  }

  /** Polls one case until it behaves as expected; resolves with ms since `since` (fails past 5 s). */
  async function follows(k: Case, since: number): Promise<number> {
    const deadline = since + 5000;
    let last = '';
    for (;;) {
      // Short probes: an allowed connection answers in a few ms, so the timeout bounds the measurement error.
      const r = await probe(k, k.pass ? 100 : 250);
      if (r.ok === k.pass) {
        const ms = performance.now() - since;
        timings.push(`${describeCase(k)} ${k.pass ? 'passes' : 'dropped'} after ${ms.toFixed(0)} ms`);
        return ms;
      }
      last = r.error ?? 'passed';
      if (performance.now() > deadline) throw new Error(`${describeCase(k)} still ${k.pass ? `dropped (${last})` : 'passes'} 5 s after the change`);
    }
  }

  async function putNetpol(namespace: string, name: string, spec: Record<string, unknown>): Promise<number> {
    const r = await http(c.daemon.url(), 'PUT', `/k8s/networkpolicies/${namespace}/${name}`, {
      body: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec },
    });
    expect(r.status, r.text).toBeLessThan(300);
    return performance.now();
  }

  /** Deletes a policy; one an earlier failed step never created is fine (404). */
  async function deleteNetpol(namespace: string, name: string): Promise<number> {
    const r = await http(c.daemon.url(), 'DELETE', `/k8s/networkpolicies/${namespace}/${name}`);
    expect(r.status === 404 || r.status < 300, `${r.status} ${r.text}`).toBe(true);
    return performance.now();
  }

  /** Owned chains and sets per host (the agent's marks: ROMANA- chains, romana- sets). */
  async function ownedState(): Promise<Map<string, { chains: string[]; sets: string[] }>> {
    const out = new Map<string, { chains: string[]; sets: string[] }>();
    for (const h of c.hosts) {
      const chains = (await c.filterRules(h)).filter((l) => /^:ROMANA-/.test(l)).map((l) => l.split(' ')[0]!.slice(1)).sort();
      const sets = (await c.ipsetNames(h)).filter((n) => n.startsWith('romana-'));
      out.set(h.name, { chains, sets });
    }
    return out;
  }

  const DB_FROM_WEB = {
    podSelector: { matchLabels: { app: 'db' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ protocol: 'TCP', port: TCP_PORT }] }],
  };

  it('romana-agent starts inside each host namespace, becomes ready and installs the CNI binary and conflist', async () => {
    await step('agents', async () => {
      await Promise.all(c.hosts.map((h) => c.startAgent(h)));
      for (const h of c.hosts) {
        const list = JSON.parse(readFileSync(path.join(h.confDir, '10-romana.conflist'), 'utf8'));
        const plugin = list.plugins.find((p: { type: string }) => p.type === 'romana');
        expect(plugin, JSON.stringify(list)).toMatchObject({ daemon: `unix:${c.socket}`, node_name: h.name });
        expect(plugin.agent).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      }
    }, { infrastructure: true });
  }, 60_000);

  it('pods get addresses from their host\'s blocks through the installed CNI plugin', async () => {
    await step('pods', async () => {
      await c.addPod('h1', 'lab', 'web1', { app: 'web' });
      await c.addPod('h1', 'lab', 'db1', { app: 'db' });
      await c.addPod('h2', 'lab', 'web2', { app: 'web' });
      await c.addPod('h2', 'lab', 'client2', { app: 'client' });
      await c.addPod('h3', 'other', 'ext3', { app: 'client' });
      for (const p of c.pods) {
        const a = await http(c.daemon.url(), 'GET', `/addresses/${encodeURIComponent(`cni:${p.namespace}:${p.name}:${p.cid}:eth0`)}`);
        expect(a.json).toMatchObject({ ip: p.ip, host: p.host.name, tenant: p.namespace });
        expect((await http(c.daemon.url(), 'GET', `/endpoints/${p.namespace}/${p.name}`)).json).toMatchObject({ ip: p.ip, node: p.host.name, labels: p.labels });
      }
      expect(new Set(c.pods.map((p) => p.ip)).size).toBe(c.pods.length);
    }, { infrastructure: true });
  }, 60_000);

  it('no overlay: plain routes via the host addresses, no tunnel devices, packets carry pod addresses (TCP, UDP, ICMP)', async () => {
    await step('routing', async () => {
      for (const h of c.hosts) {
        // Every interface of a host is lo, its uplink veth or a pod veth: nothing that encapsulates.
        const links = await c.lab.ipJson(h.ns, '-d', 'link', 'show');
        const kinds = links.map((l) => `${l.ifname}:${l.linkinfo?.info_kind ?? l.link_type}`);
        expect(kinds.filter((k) => !/:(veth|loopback)$/.test(k)), `${h.name} links: ${kinds.join(' ')}`).toEqual([]);
        // Remote pods are reached through their host's address on the shared link.
        for (const p of c.pods.filter((x) => x.host !== h)) {
          const [r] = await c.lab.ipJson(h.ns, 'route', 'get', p.ip);
          expect({ pod: p.name, gateway: r.gateway, dev: r.dev }).toEqual({ pod: p.name, gateway: p.host.ip, dev: 'eth0' });
        }
      }
      const cases: Case[] = [];
      for (const a of c.pods) {
        for (const b of c.pods) {
          if (a === b) continue;
          for (const proto of ['tcp', 'udp', 'icmp'] as const) cases.push({ from: a.name, to: b.name, proto, pass: true });
        }
      }
      // Hosts reach pods: their own and other hosts' pods.
      for (const h of c.hosts) for (const p of c.pods) cases.push({ from: h.name, to: p.name, proto: 'tcp', pass: true });
      await expectTraffic(cases);
      baseline = await ownedState();
    }, { infrastructure: true });
  }, 60_000);

  it('a NetworkPolicy isolates its pods within 1 s; what it allows passes, everything else to them is dropped', async () => {
    await step('policy added', async () => {
      const t0 = await putNetpol('lab', 'db-from-web', DB_FROM_WEB);
      const took = await follows({ from: 'client2', to: 'db1', proto: 'tcp', pass: false }, t0);
      expect(took, `isolation took ${took.toFixed(0)} ms`).toBeLessThanOrEqual(FOLLOW_MS);
      // The policy shows in owned chains/sets (so the "nothing left behind" check below compares something).
      expect(await ownedState()).not.toEqual(baseline);
      await expectTraffic([
        { from: 'web1', to: 'db1', proto: 'tcp', pass: true }, // same host
        { from: 'web2', to: 'db1', proto: 'tcp', pass: true }, // across hosts
        { from: 'client2', to: 'db1', proto: 'tcp', pass: false },
        { from: 'ext3', to: 'db1', proto: 'tcp', pass: false },
        { from: 'web1', to: 'db1', proto: 'tcp', port: OTHER_TCP_PORT, pass: false },
        { from: 'web2', to: 'db1', proto: 'udp', pass: false },
        { from: 'web1', to: 'db1', proto: 'icmp', pass: false },
        // Not selected: still open; db1's own connections out (and their replies) unaffected.
        { from: 'client2', to: 'web1', proto: 'tcp', pass: true },
        { from: 'ext3', to: 'web2', proto: 'udp', pass: true },
        { from: 'db1', to: 'web2', proto: 'tcp', pass: true },
        { from: 'db1', to: 'client2', proto: 'icmp', pass: true },
      ]);
    });
  }, 60_000);

  it('a changed NetworkPolicy takes effect within 1 s', async () => {
    await step('policy changed', async () => {
      const t0 = await putNetpol('lab', 'db-from-web', {
        ...DB_FROM_WEB,
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ protocol: 'TCP', port: TCP_PORT }] }],
      });
      const opened = await follows({ from: 'client2', to: 'db1', proto: 'tcp', pass: true }, t0);
      const closed = await follows({ from: 'web1', to: 'db1', proto: 'tcp', pass: false }, t0);
      expect(Math.max(opened, closed), `change took ${opened.toFixed(0)} / ${closed.toFixed(0)} ms`).toBeLessThanOrEqual(FOLLOW_MS);
      await expectTraffic([
        { from: 'client2', to: 'db1', proto: 'tcp', pass: true },
        // A podSelector alone means "in the policy's namespace": ext3 is app=client in "other".
        { from: 'ext3', to: 'db1', proto: 'tcp', pass: false },
        { from: 'web1', to: 'db1', proto: 'tcp', pass: false },
        { from: 'web2', to: 'db1', proto: 'tcp', pass: false },
        { from: 'client2', to: 'db1', proto: 'udp', pass: false },
      ]);
    });
  }, 60_000);

  it('namespaceSelector with UDP, a rule without ports (ICMP too), and egress isolation', async () => {
    await step('more policies', async () => {
      await putNetpol('lab', 'db-dns-from-other', {
        podSelector: { matchLabels: { app: 'db' } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'other' } } }], ports: [{ protocol: 'UDP', port: UDP_PORT }] }],
      });
      await putNetpol('lab', 'db-any-from-web2', {
        podSelector: { matchLabels: { app: 'db' } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ ipBlock: { cidr: `${c.pod('web2').ip}/32` } }] }],
      });
      const t0 = await putNetpol('other', 'deny-egress', { podSelector: {}, policyTypes: ['Egress'], egress: [] });
      const took = await follows({ from: 'ext3', to: 'web1', proto: 'tcp', pass: false }, t0);
      expect(took).toBeLessThanOrEqual(FOLLOW_MS);
      await follows({ from: 'web2', to: 'db1', proto: 'icmp', pass: true }, performance.now());
      await expectTraffic([
        // db1: UDP from namespace "other" is allowed — but ext3 may not send at all now.
        { from: 'ext3', to: 'db1', proto: 'udp', pass: false },
        // Everything from web2's address (no ports: every protocol, ICMP included).
        { from: 'web2', to: 'db1', proto: 'icmp', pass: true },
        { from: 'web2', to: 'db1', proto: 'udp', pass: true },
        { from: 'web2', to: 'db1', proto: 'tcp', port: OTHER_TCP_PORT, pass: true },
        { from: 'web1', to: 'db1', proto: 'icmp', pass: false },
        { from: 'web1', to: 'db1', proto: 'udp', pass: false },
        { from: 'client2', to: 'db1', proto: 'tcp', pass: true },
        { from: 'client2', to: 'db1', proto: 'icmp', pass: false },
        // ext3 is egress-isolated with nothing allowed; it still answers what others start.
        { from: 'ext3', to: 'web2', proto: 'tcp', pass: false },
        { from: 'ext3', to: 'client2', proto: 'icmp', pass: false },
        { from: 'web1', to: 'ext3', proto: 'tcp', pass: true },
        { from: 'client2', to: 'ext3', proto: 'udp', pass: true },
      ]);
      // With ext3's egress open again, the namespaceSelector rule is what lets its UDP in.
      const t1 = await deleteNetpol('other', 'deny-egress');
      expect(await follows({ from: 'ext3', to: 'db1', proto: 'udp', pass: true }, t1)).toBeLessThanOrEqual(FOLLOW_MS);
      await expectTraffic([
        { from: 'ext3', to: 'db1', proto: 'udp', pass: true },
        { from: 'ext3', to: 'db1', proto: 'tcp', pass: false },
        { from: 'client2', to: 'db1', proto: 'udp', pass: false },
      ]);
    });
  }, 60_000);

  it('deleted policies restore traffic within 1 s and leave no chains or sets behind', async () => {
    await step('policies deleted', async () => {
      await deleteNetpol('lab', 'db-dns-from-other');
      await deleteNetpol('lab', 'db-any-from-web2');
      const t0 = await deleteNetpol('lab', 'db-from-web');
      const took = await follows({ from: 'web1', to: 'db1', proto: 'icmp', pass: true }, t0);
      expect(took).toBeLessThanOrEqual(FOLLOW_MS);
      await expectTraffic([
        { from: 'web1', to: 'db1', proto: 'tcp', pass: true },
        { from: 'ext3', to: 'db1', proto: 'tcp', port: OTHER_TCP_PORT, pass: true },
        { from: 'client2', to: 'db1', proto: 'udp', pass: true },
        { from: 'web2', to: 'db1', proto: 'icmp', pass: true },
        { from: 'ext3', to: 'web2', proto: 'tcp', pass: true },
      ]);
      expect(baseline, 'the owned state before any policy was recorded').not.toBeNull();
      expect(await ownedState()).toEqual(baseline);
    });
  }, 60_000);

  it('a pod that a policy already selects is isolated when CNI ADD returns', async () => {
    await step('isolated at ADD', async () => {
      const t0 = await putNetpol('lab', 'db-from-web', DB_FROM_WEB);
      await follows({ from: 'client2', to: 'db1', proto: 'tcp', pass: false }, t0);
      // The new pod's server listens before ADD: the first packet after ADD returns is the test.
      const h1 = c.host('h1');
      const ns = await c.lab.add('early');
      const early = new Prober(c.lab.spawn(ns, process.execPath, ['--import', 'tsx', PROBE_AGENT, '--tcp', String(TCP_PORT)]));
      await early.proc.waitForLine(/"ready":true/);
      const pod = await addPodInto(h1, ns, 'db9', { app: 'db' }, early);
      const [fromClient, fromWeb] = await Promise.all([
        c.pod('client2').probe.send({ op: 'tcp', host: pod.ip, port: TCP_PORT, timeoutMs: 400 }),
        c.pod('web1').probe.send({ op: 'tcp', host: pod.ip, port: TCP_PORT, timeoutMs: 2000 }),
      ]);
      expect({ fromClient: fromClient.ok, fromWeb: fromWeb.ok }).toEqual({ fromClient: false, fromWeb: true });
    });
  }, 60_000);

  it('agent restart: established TCP survives, no rule flaps or duplicates, other programs\' rules and sets untouched', async () => {
    await step('agent restart', async () => {
      const h1 = c.host('h1');
      const t0 = await putNetpol('lab', 'db-from-web', DB_FROM_WEB);
      await follows({ from: 'client2', to: 'db1', proto: 'tcp', pass: false }, t0);
      // Another program's chain, rules and set in the same host namespace.
      await c.sh(h1, 'iptables', '-N', 'OTHER-FW');
      await c.sh(h1, 'iptables', '-A', 'OTHER-FW', '-s', '192.0.2.0/24', '-j', 'DROP');
      await c.sh(h1, 'iptables', '-A', 'INPUT', '-j', 'OTHER-FW');
      await c.sh(h1, 'ipset', 'create', 'other-set', 'hash:ip');
      await c.sh(h1, 'ipset', 'add', 'other-set', '192.0.2.7');
      await c.sh(h1, 'iptables', '-A', 'FORWARD', '-m', 'set', '--match-set', 'other-set', 'src', '-j', 'DROP');
      const others = async (): Promise<{ rules: string[]; set: string }> => ({
        rules: (await c.filterRules(h1)).filter((l) => /OTHER-FW|other-set/.test(l)),
        set: (await c.sh(h1, 'ipset', 'save', 'other-set')).trim(),
      });
      const othersBefore = await others();
      expect(othersBefore.rules).toHaveLength(4);

      // web2 -> db1 is allowed (db-from-web); keep a connection open across the restart.
      const web2 = c.pod('web2').probe;
      const hold = await web2.send({ op: 'hold', host: c.pod('db1').ip, port: TCP_PORT, timeoutMs: 2000 });
      expect(hold.ok, hold.error).toBe(true);
      expect((await web2.send({ op: 'held', ref: hold.ref!, timeoutMs: 2000 })).ok).toBe(true);

      const owned = async (): Promise<string[]> => (await c.filterRules(h1)).filter((l) => /ROMANA-/.test(l));
      const before = await owned();
      // Sample the owned rules throughout the restart: any sample that differs is a flap.
      let sampling = true;
      const samples: string[][] = [];
      const sampler = (async () => {
        while (sampling) samples.push(await owned());
      })();
      try {
        expect(await c.stopAgent(h1)).toBe(0);
        await c.startAgent(h1);
        // A full pass after the restart, then one more sample.
        await c.pod('web1').probe.send({ op: 'tcp', host: c.pod('db1').ip, port: TCP_PORT, timeoutMs: 2000 });
      } finally {
        sampling = false;
        await sampler;
      }
      const after = await owned();
      expect(samples.length, 'no iptables-save sample was taken during the restart').toBeGreaterThan(2);
      const flaps = samples.filter((s) => JSON.stringify(s) !== JSON.stringify(before));
      expect(flaps.length, `owned rules differed from the pre-restart state in ${flaps.length} of ${samples.length} samples`).toBe(0);
      expect(after).toEqual(before);
      expect(new Set(after.filter((l) => l.startsWith('-A'))).size, 'duplicate rules').toBe(after.filter((l) => l.startsWith('-A')).length);
      // The agent's jumps stay at the top of the built-in chains, ahead of the other program's rules.
      const all = await c.filterRules(h1);
      for (const chain of ['INPUT', 'FORWARD']) {
        const rules = all.filter((l) => l.startsWith(`-A ${chain} `));
        const firstOther = rules.findIndex((l) => !/-j ROMANA-/.test(l));
        const lastOurs = rules.map((l) => /-j ROMANA-/.test(l)).lastIndexOf(true);
        expect(lastOurs, `${chain}: ${rules.join(' | ')}`).toBeGreaterThanOrEqual(0);
        expect(lastOurs < firstOther || firstOther === -1, `${chain}: ${rules.join(' | ')}`).toBe(true);
      }
      expect(await others()).toEqual(othersBefore);
      expect((await web2.send({ op: 'held', ref: hold.ref!, timeoutMs: 2000 })).ok, 'the established connection did not survive').toBe(true);
      await expectTraffic([
        { from: 'web1', to: 'db1', proto: 'tcp', pass: true },
        { from: 'client2', to: 'db1', proto: 'tcp', pass: false },
      ]);
    });
  }, 90_000);

  /** Like cluster.addPod, but into an existing namespace whose probe agent already runs. */
  async function addPodInto(h: LabHost, ns: string, name: string, labels: Record<string, string>, probe: Prober): Promise<LabPod> {
    const ep = await http(c.daemon.url(), 'PUT', `/endpoints/lab/${name}`, { body: { labels, ports: [{ containerPort: TCP_PORT, protocol: 'TCP' }] } });
    expect(ep.status).toBeLessThan(300);
    const conflist = JSON.parse(readFileSync(path.join(h.confDir, '10-romana.conflist'), 'utf8'));
    const cid = `${c.lab.prefix}early${'0'.repeat(40)}`;
    const add = await invokeCni(
      c.lab,
      h.ns,
      { CNI_COMMAND: 'ADD', CNI_CONTAINERID: cid, CNI_NETNS: c.lab.path(ns), CNI_IFNAME: 'eth0', CNI_PATH: h.binDir, CNI_ARGS: `K8S_POD_NAMESPACE=lab;K8S_POD_NAME=${name}` },
      conflist,
      { entry: path.join(h.binDir, 'romana') },
    );
    expect(add.code, add.stdout + add.stderr).toBe(0);
    const pod: LabPod = { name, namespace: 'lab', host: h, ns, cid, ip: String(add.json.ips[0].address).split('/')[0]!, labels, probe, result: add.json };
    c.pods.push(pod);
    return pod;
  }
});
