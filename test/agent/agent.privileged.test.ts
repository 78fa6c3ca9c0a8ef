/**
 * romana-agent as a process: a real daemon (embedded store, --socket in a
 * temporary directory, tokens) and the agent inside a network namespace
 * this test creates. Checks readiness after the first sync, remote blocks
 * as routes (also blocks added later), the heartbeat lease, the CNI files,
 * POST /sync covering a policy written just before it, /metrics, SIGTERM
 * leaving every route, rule and set in place, a restart that writes
 * nothing, not-ready without a daemon, and fail-closed exit with a dump.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RomanaClient } from '../../src/shared/api_client.js';
import { cleanupDaemons, REPO, startDaemon, tempDir, type DaemonProcess } from '../helpers/daemon.js';
import { NetnsLab, privilegedSkipReason, type NsProcess } from '../helpers/netns.js';
import { waitFor } from '../helpers/poll.js';

const skip = privilegedSkipReason();
if (skip) console.warn(`skipping romana-agent process tests: ${skip}`);

const AGENT_MAIN = path.join(REPO, 'dist/src/agent/main.js');
const ADMIN = 'admin-token-0123456789';
const AGENT = 'agent-token-0123456789';

const lab = new NetnsLab('agt');

/** A request to the agent's health server over its unix socket. */
function health(sock: string, method: string, p: string): Promise<{ status: number; text: string; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, path: p, method, headers: { 'content-length': 0 } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text, json });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function logLines(p: NsProcess): Array<Record<string, any>> {
  return p
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);
}

describe.skipIf(skip !== null)('romana-agent process', () => {
  let daemon: DaemonProcess;
  let admin: RomanaClient;
  let dir: string;
  let sock: string;
  let ns: string;

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN)) throw new Error(`${AGENT_MAIN} is missing: run "npx tsc -p tsconfig.json"`);
    dir = tempDir('romana-agent-test-');
    sock = path.join(dir, 'daemon.sock');
    writeFileSync(path.join(dir, 'tokens'), `${ADMIN} admin\n${AGENT} agent\n`);
    writeFileSync(path.join(dir, 'agent-token'), `${AGENT}\n`);
    daemon = await startDaemon(['--socket', sock, '--token-file', path.join(dir, 'tokens')]);
    admin = daemon.client(ADMIN);
    await admin.addHost({ name: 'h1', ip: '10.200.0.1' });
    await admin.addHost({ name: 'h2', ip: '10.200.0.2' });
    await admin.allocate({ name: 'pod-on-h2', host: 'h2', tenant: 'default' });
    await admin.allocate({ name: 'pod-on-h1', host: 'h1', tenant: 'default' });
    ns = await lab.add('h1');
    await lab.ip(ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
    await lab.ip(ns, 'addr', 'add', '10.200.0.1/24', 'dev', 'eth0');
    await lab.ip(ns, 'link', 'set', 'eth0', 'up');
    await lab.ip(ns, 'link', 'set', 'eth1', 'up');
    await lab.ip(ns, 'route', 'add', 'default', 'via', '10.200.0.254');
    writeFileSync(path.join(dir, 'fake-cni'), '#!/bin/sh\necho fake romana-cni\n');
    chmodSync(path.join(dir, 'fake-cni'), 0o644);
  });

  afterAll(async () => {
    await lab.cleanup();
    await cleanupDaemons();
  });

  function agentArgs(extra: string[] = [], healthSocket = 'agent.sock'): string[] {
    return [
      AGENT_MAIN,
      '--node-name', 'h1',
      '--node-ip', '10.200.0.1',
      '--daemon', `unix:${sock}`,
      '--token-file', path.join(dir, 'agent-token'),
      '--health-port', '0',
      '--health-socket', path.join(dir, healthSocket),
      '--cni-bin-dir', path.join(dir, 'bin'),
      '--cni-conf-dir', path.join(dir, 'net.d'),
      '--cni-source', path.join(dir, 'fake-cni'),
      '--heartbeat-ttl', '3',
      ...extra,
    ];
  }

  const routes = async (): Promise<string[]> => (await lab.ip(ns, 'route', 'show', 'table', '10')).split('\n').map((l) => l.trim()).filter(Boolean);
  const kernelState = async (): Promise<string> =>
    [
      (await lab.mustExec(ns, 'iptables-save', [])).split('\n').filter((l) => !l.startsWith('#')).join('\n'),
      await lab.mustExec(ns, 'ipset', ['save']),
      (await routes()).join('\n'),
      await lab.ip(ns, 'rule', 'show'),
    ].join('\n----\n');

  let stateAtExit = '';

  it('syncs, routes remote blocks, heartbeats, installs the CNI plugin, serves /sync and /metrics, and leaves everything in place on SIGTERM', async () => {
    const agent = lab.spawn(ns, process.execPath, agentArgs());
    const asock = path.join(dir, 'agent.sock');
    // The first log line says where health is served (port 0 = any free port).
    const first = await waitFor('the first log line', () => logLines(agent)[0], { timeoutMs: 15_000 });
    expect(first.msg).toMatch(/starting for node "h1"; health on http:\/\/127\.0\.0\.1:\d+/);
    expect(first.healthPort).toBeGreaterThan(0);

    const ready = await waitFor('/readyz 200', async () => {
      if (agent.exitCode() !== undefined) throw new Error(`agent exited: ${agent.stderr()}`);
      const r = await health(asock, 'GET', '/readyz').catch(() => null);
      return r?.status === 200 ? r : undefined;
    }, { timeoutMs: 20_000 });
    expect(ready.json).toMatchObject({ status: 'ready' });
    expect((await health(asock, 'GET', '/healthz')).json).toEqual({ status: 'ok' });
    // The loopback port answers too (from inside the namespace, where the CNI plugin runs).
    const viaPort = await lab.mustExec(ns, process.execPath, ['-e', `fetch('http://127.0.0.1:${first.healthPort}/readyz').then(r => r.text()).then(t => process.stdout.write(t))`]);
    expect(JSON.parse(viaPort)).toMatchObject({ status: 'ready' });

    const h2Block = (await admin.listBlocks({ host: 'h2' })).blocks[0]!.cidr;
    const h1Block = (await admin.listBlocks({ host: 'h1' })).blocks[0]!.cidr;
    const table = await routes();
    expect(table).toContain(`${h2Block} via 10.200.0.2 dev eth0 proto 88`);
    expect(table.some((l) => l.startsWith('throw ') && l.endsWith('proto 88'))).toBe(true);
    // A local block is thrown back to main (default route here), never sent to another host.
    const [viaH1] = await lab.ipJson<{ gateway?: string }>(ns, 'route', 'get', h1Block.replace(/\/\d+$/, ''));
    expect(viaH1!.gateway).toBe('10.200.0.254');
    expect((await lab.ipJson<{ priority: number; table: string }>(ns, 'rule', 'show')).filter((r) => r.table === '10')).toHaveLength(1);
    expect((await lab.mustExec(ns, 'sysctl', ['-n', 'net.ipv4.ip_forward'])).trim()).toBe('1');

    // Firewall base chains and nat.
    const filter = await lab.mustExec(ns, 'iptables-save', ['-t', 'filter']);
    expect(filter).toMatch(/^-A INPUT -i romana\+ -m comment --comment "romana:[0-9a-f]+" -j ROMANA-INPUT$/m);
    const nat = await lab.mustExec(ns, 'iptables-save', ['-t', 'nat']);
    expect(nat).toMatch(/^-A POSTROUTING -s 10\.112\.0\.0\/12 -m comment --comment "romana:[0-9a-f]+" -j ROMANA-MASQ$/m);

    // Heartbeat lease.
    await waitFor('the heartbeat lease of h1', async () => (await admin.snapshot(['leases/agents/'])).records.find((r) => r.key === 'leases/agents/h1'));

    // CNI plugin and configuration.
    const conf = JSON.parse(readFileSync(path.join(dir, 'net.d', '10-romana.conflist'), 'utf8'));
    expect(conf).toEqual({
      cniVersion: '1.0.0',
      name: 'romana',
      plugins: [{ type: 'romana', daemon: `unix:${sock}`, node_name: 'h1', agent: `http://127.0.0.1:${first.healthPort}`, mtu: 1500, token_file: path.join(dir, 'agent-token') }],
    });
    const bin = path.join(dir, 'bin', 'romana');
    expect(readFileSync(bin, 'utf8')).toBe(readFileSync(path.join(dir, 'fake-cni'), 'utf8'));
    expect(statSync(bin).mode & 0o777).toBe(0o755);

    // A host and block added later are followed through the watch.
    await admin.addHost({ name: 'h3', ip: '10.200.0.3' });
    await admin.allocate({ name: 'pod-on-h3', host: 'h3', tenant: 'default' });
    const h3Block = (await admin.listBlocks({ host: 'h3' })).blocks[0]!.cidr;
    await waitFor(`a route to ${h3Block}`, async () => (await routes()).includes(`${h3Block} via 10.200.0.3 dev eth0 proto 88`));

    // POST /sync: a policy and the pod it selects, written just before, are in the kernel when it returns.
    const podIp = await admin.allocate({ name: 'web-1', host: 'h1', tenant: 'default' });
    await admin.putEndpoint('default', 'web-1', { ip: podIp, node: 'h1', labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 80 }] });
    await admin.putNetworkPolicy('default', 'web-in', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'web-in' },
      spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 'http' }] }] },
    });
    const before = (await admin.snapshot(['topology'])).revision;
    const sync = await health(asock, 'POST', '/sync');
    expect(sync.status).toBe(200);
    expect(sync.json.revision).toBeGreaterThanOrEqual(before);
    // No polling: the isolation of web-1 is in place now.
    const sets = await lab.mustExec(ns, 'ipset', ['save']);
    expect(sets).toMatch(new RegExp(`^add romana-isolated-in ${podIp.replace(/\./g, '\\.')}$`, 'm'));
    expect(await lab.mustExec(ns, 'iptables-save', ['-t', 'filter'])).toMatch(/^:ROMANA-P-[0-9a-f]{16}-I - /m);

    const metrics = (await health(asock, 'GET', '/metrics')).text;
    expect(metrics).toMatch(/^romana_agent_sync_duration_seconds_bucket\{le="[^"]+",result="ok"\} [1-9]/m);
    expect(metrics).toMatch(/^romana_agent_routes [1-9]/m);
    expect(metrics).toMatch(/^romana_agent_iptables_rules\{table="filter"\} [1-9]/m);
    expect(metrics).toMatch(/^romana_agent_ready 1$/m);

    stateAtExit = await kernelState();
    agent.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(logLines(agent).at(-1)).toMatchObject({ msg: 'stopped', code: 0 });
    // Nothing deleted on exit.
    expect(await kernelState()).toBe(stateAtExit);
  });

  it('restarts without memory and writes nothing: no duplicates, no flaps', async () => {
    const agent = lab.spawn(ns, process.execPath, agentArgs());
    const synced = await waitFor('the first full sync', () => logLines(agent).find((l) => l.msg === 'first full sync applied'), { timeoutMs: 20_000 });
    expect(synced).toMatchObject({
      filter: { lines: 0, chainsCreated: 0, chainsDeleted: 0 },
      nat: { lines: 0 },
      ipsets: { created: 0, swapped: 0, destroyed: 0, members: 0 },
      routes: { added: 0, replaced: 0, deleted: 0 },
    });
    expect(await kernelState()).toBe(stateAtExit);
    agent.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });

  it('is alive but not ready while the daemon cannot be reached', async () => {
    const other = await lab.add('nodaemon');
    const asock = path.join(dir, 'agent2.sock');
    const agent = lab.spawn(other, process.execPath, [
      AGENT_MAIN, '--node-name', 'h9', '--daemon', `unix:${path.join(dir, 'no-such.sock')}`, '--health-port', '0', '--health-socket', asock, '--install-cni=false',
    ]);
    await waitFor('/healthz', async () => (await health(asock, 'GET', '/healthz').catch(() => null))?.status === 200);
    const r = await health(asock, 'GET', '/readyz');
    expect(r.status).toBe(503);
    expect(r.json).toMatchObject({ code: 'NOT_READY' });
    // It keeps retrying and programs nothing meanwhile.
    await waitFor('a retry', () => logLines(agent).filter((l) => /re-listing after/.test(l.msg)).length >= 2, { timeoutMs: 10_000 });
    expect((await lab.mustExec(other, 'iptables-save', [])).includes('ROMANA')).toBe(false);
    agent.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });

  it('fails closed: exits non-zero with a dump when programming keeps failing', async () => {
    const other = await lab.add('failing');
    // The kubeadm topology (10.112.0.0/12) overlaps this service range: every pass is refused.
    const agent = lab.spawn(other, process.execPath, agentArgs(['--max-failures', '2', '--service-cluster-ip-range', '10.112.0.0/16', '--install-cni=false'], 'agent3.sock'));
    expect(await agent.exited).toBe(1);
    const fatal = logLines(agent).find((l) => l.level === 'fatal');
    expect(fatal?.msg).toMatch(/failed 2 times in a row; exiting \(fail closed/);
    expect(fatal?.dump).toMatchObject({ node: 'h1', failures: 2, lastErrors: [expect.objectContaining({ driver: 'config', message: expect.stringMatching(/overlap the service range 10\.112\.0\.0\/16/) }), expect.anything()] });
  });
});
