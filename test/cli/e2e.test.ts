/**
 * The real `romana` binary against a real romana-daemon process (embedded
 * store, built-in kubeadm topology): the seed's command examples in
 * sequence, error cases and exit codes, JSON output, config files, tokens,
 * -v tracing and the views beyond the seed.
 *
 * The `it`s of one describe run in order and share the daemon's state, as a
 * user's session would.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupDaemons, startDaemon, tempDir, type DaemonProcess } from '../helpers/daemon.js';
import { cleanupHomes, emptyHome, runRomana, SEED_CONFIG, type RunResult } from './helpers.js';

/** The policy example of the Romana documentation, verbatim. */
const SEED_POLICY = `{
    "securitypolicies": [{
        "name": "policy1",
        "description": "Opening SSH, HTTP and HTTPS ports as well as ICMP",
        "direction": "ingress",
        "applied_to": [{
            "tenant": "admin",
            "segment": "default"
        }],
        "peers": [{
            "peer": "any"
        }],
        "rules": [
            {
                "protocol": "tcp",
                "ports": [22, 80, 443]
            },
            {
                "protocol": "icmp"
            }
        ]
    }]
}
`;

/** An original v2 policy (id + ingress), as `cat policy.json | romana policy add` would pipe it. */
const V2_POLICY = JSON.stringify({
  id: 'kube.tenant-a.pol2.a8e9618f-ab1d-11e7-a1ea-068bf013416e',
  direction: 'ingress',
  applied_to: [{ tenant_id: 't1', segment_id: 's1' }],
  ingress: [{ peers: [{ tenant_id: 't1', segment_id: 'frontend' }], rules: [{ protocol: 'tcp', ports: [8080] }] }],
});

const files = mkdtempSync(path.join(os.tmpdir(), 'romana-cli-e2e-'));
function fileWith(name: string, text: string): string {
  const p = path.join(files, name);
  writeFileSync(p, text);
  return p;
}

function ok(r: RunResult): RunResult {
  expect(r.stderr, `stderr of a successful command`).toBe('');
  expect(r.code).toBe(0);
  return r;
}

/** A failure: the exit code, nothing on stdout, exactly one "romana: … (CODE)" line on stderr. */
function failed(r: RunResult, code: number, errorCode: string): string {
  expect(r.code).toBe(code);
  expect(r.stdout).toBe('');
  expect(r.errLines).toHaveLength(1);
  expect(r.errLines[0]).toMatch(new RegExp(`^romana: .+ \\(${errorCode}\\)$`));
  return r.errLines[0]!;
}

function json<T = any>(r: RunResult): T {
  ok(r);
  return JSON.parse(r.stdout) as T;
}

afterAll(async () => {
  await cleanupDaemons();
  cleanupHomes();
  rmSync(files, { recursive: true, force: true });
});

describe('the seed command examples, in sequence', () => {
  let d: DaemonProcess;
  let flags: string[];
  const romana = (args: string[], opts: { input?: string } = {}): Promise<RunResult> => runRomana([...flags, ...args], opts);

  beforeAll(async () => {
    d = await startDaemon();
    flags = ['-r', 'http://127.0.0.1', '-p', new URL(d.url()).port];
  });

  it('host add [hostname][hostip][romana cidr][(optional)agent port]', async () => {
    const r = ok(await romana(['host', 'add', 'node1', '192.168.99.10', '10.0.0.0/16', '9604']));
    expect(r.stdout).toBe('Host "node1" (192.168.99.10) added: host-group-01 10.112.0.0/15.\n');
    ok(await romana(['host', 'add', 'node2', '192.168.99.11']));
    // Repeating an identical add is a no-op, not an error.
    expect(ok(await romana(['host', 'add', 'node1', '192.168.99.10', '10.0.0.0/16', '9604'])).stdout).toMatch(/already exists with the same attributes/);
    const clash = failed(await romana(['host', 'add', 'node1', '192.168.99.77']), 1, 'HOST_EXISTS');
    expect(clash).toContain('node1');
  });

  it('host list', async () => {
    const r = ok(await romana(['host', 'list']));
    expect(r.stdout).toMatch(/^Host List\nHost Name\s+Host IP/);
    expect(r.stdout).toMatch(/node1\s+192\.168\.99\.10\s+9604\s+host-group-01 10\.112\.0\.0\/15/);
    expect(r.stdout).toMatch(/node2\s+192\.168\.99\.11\s+9604\s+host-group-02 10\.114\.0\.0\/15/);
    for (const l of r.stdout.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    const j = json(await romana(['host', 'list', '-f', 'json']));
    expect(j.hosts.map((h: { name: string; ip: string; agent_port: number }) => [h.name, h.ip, h.agent_port])).toEqual([
      ['node1', '192.168.99.10', 9604],
      ['node2', '192.168.99.11', 9604],
    ]);
    expect(typeof j.revision).toBe('number');
  });

  it('host show [hostname1][hostname2]...', async () => {
    const r = ok(await romana(['host', 'show', 'node1', 'node2']));
    expect(r.stdout).toMatch(/^Host node1\n  IP:\s+192\.168\.99\.10\n/);
    expect(r.stdout).toMatch(/\nHost node2\n  IP:\s+192\.168\.99\.11\n/);
    const j = json(await romana(['-f', 'json', 'host', 'show', 'node2']));
    expect(j.hosts).toHaveLength(1);
    expect(j.hosts[0].host).toMatchObject({ name: 'node2', ip: '192.168.99.11' });
    expect(j.hosts[0].blocks).toEqual([]);
  });

  it('an unknown host: exit 1 and one line; the known ones are still shown', async () => {
    const line = failed(await romana(['host', 'show', 'nope']), 1, 'HOST_NOT_FOUND');
    expect(line).toBe('romana: Host "nope" is not registered (HOST_NOT_FOUND)');
    const mixed = await romana(['host', 'show', 'node1', 'nope']);
    expect(mixed.code).toBe(1);
    expect(mixed.stdout).toMatch(/^Host node1\n/);
    expect(mixed.errLines).toEqual(['romana: Host "nope" is not registered (HOST_NOT_FOUND)']);
  });

  it('tenant create [tenantname]', async () => {
    expect(ok(await romana(['tenant', 'create', 't1'])).stdout).toBe('Tenant "t1" created.\n');
    expect(ok(await romana(['tenant', 'create', 't1'])).stdout).toBe('Tenant "t1" already exists; nothing changed.\n');
    const j = json(await romana(['tenant', 'create', 't2', '-f', 'json']));
    expect(j).toEqual({ tenant: { name: 't2', segments: [], addresses: 0 }, created: true });
  });

  it('segment add [tenantName][segmentName]', async () => {
    expect(ok(await romana(['segment', 'add', 't1', 's1'])).stdout).toBe('Segment "s1" added to tenant "t1".\n');
    ok(await romana(['segment', 'add', 't1', 'frontend']));
    ok(await romana(['segment', 'add', 't2', 'db']));
    failed(await romana(['segment', 'add', 'no-such-tenant', 's']), 1, 'NOT_FOUND');
  });

  it('tenant list and tenant show [tenantname1][tenantname2]...', async () => {
    const list = ok(await romana(['tenant', 'list']));
    expect(list.stdout).toMatch(/t1\s+frontend, s1\s+0\n/);
    expect(list.stdout).toMatch(/t2\s+db\s+0\n/);
    const show = ok(await romana(['tenant', 'show', 't1', 't2']));
    expect(show.stdout).toMatch(/^Tenant t1\n  Segments:\s+2\n/);
    expect(show.stdout).toMatch(/\nTenant t2\n/);
    const j = json(await romana(['tenant', 'show', 't1', '-f', 'json']));
    expect(j.tenants[0].tenant.name).toBe('t1');
    expect(j.tenants[0].segments.map((s: { name: string }) => s.name)).toEqual(['frontend', 's1']);
  });

  it('segment list [tenantName][tenantName]...', async () => {
    const all = json(await romana(['segment', 'list', '-f', 'json']));
    expect(all.segments.map((s: { tenant: string; name: string }) => `${s.tenant}/${s.name}`)).toEqual(['t1/frontend', 't1/s1', 't2/db']);
    const one = json(await romana(['segment', 'list', 't2', '-f', 'json']));
    expect(one.segments).toEqual([{ tenant: 't2', name: 'db', addresses: 0 }]);
    expect(ok(await romana(['segment', 'list', 't1'])).stdout).toMatch(/^Segment List\nTenant Name\s+Segment Name\s+Addresses\n/);
  });

  it('policy add [policyFile]', async () => {
    const file = fileWith('policy.json', SEED_POLICY);
    const r = ok(await romana(['policy', 'add', file]));
    expect(r.stdout).toMatch(/^New Policies Processed:\n/);
    expect(r.stdout).toMatch(/policy1\s+ingress\s+created\n/);
    // The same file again changes nothing.
    expect(ok(await romana(['policy', 'add', file])).stdout).toMatch(/policy1\s+ingress\s+unchanged\n/);
  });

  it('cat policy.json | romana policy add', async () => {
    const j = json(await romana(['policy', 'add', '-f', 'json'], { input: V2_POLICY }));
    expect(j.results).toHaveLength(1);
    expect(j.results[0]).toMatchObject({ outcome: 'created', policy: { id: 'kube.tenant-a.pol2.a8e9618f-ab1d-11e7-a1ea-068bf013416e', direction: 'ingress' } });
  });

  it('an invalid policy is refused with every problem listed, exit 1', async () => {
    const bad = JSON.stringify({ securitypolicies: [{ name: 'bad', direction: 'ingress', applied_to: [{ tenant: 't1' }], peers: [{ peer: 'any' }], rules: [{ protocol: 'tcp', ports: [0, 70000] }] }] });
    const line = failed(await romana(['policy', 'add'], { input: bad }), 1, 'VALIDATION_FAILED');
    expect(line).toContain('ports[0]');
    expect(line).toContain('ports[1]');
  });

  it('policy list', async () => {
    const r = ok(await romana(['policy', 'list']));
    expect(r.stdout).toMatch(/^Policy List\n/);
    expect(r.stdout).toContain('policy1');
    expect(r.stdout).toContain('admin/default');
    // Name over id in the first column; the rules wrap within their own column.
    expect(r.stdout).toMatch(/\npolicy1 +admin\/default +ingress from any:\n[0-9a-f-]{36} +icmp; tcp 22,80,443\n/);
    for (const l of r.stdout.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    const j = json(await romana(['policy', 'list', '-f', 'json']));
    expect(j.securitypolicies.map((p: { name: string }) => p.name)).toEqual(['kube.tenant-a.pol2.a8e9618f-ab1d-11e7-a1ea-068bf013416e', 'policy1']);
    const p1 = j.securitypolicies[1];
    expect(p1).toMatchObject({ name: 'policy1', direction: 'ingress', applied_to: [{ tenant: 'admin', segment: 'default' }], peers: [{ peer: 'any' }] });
    expect(p1.id).toMatch(/^[0-9a-f-]{36}$/);
    // The listed JSON is the documented format with ids: adding it back is a no-op.
    const again = json(await romana(['policy', 'add', '-f', 'json'], { input: JSON.stringify({ securitypolicies: [p1] }) }));
    expect(again.results[0].outcome).toBe('unchanged');
  });

  it('policy remove [policyName]', async () => {
    expect(ok(await romana(['policy', 'remove', 'policy1'])).stdout).toMatch(/^Policy "policy1" \(id [0-9a-f-]{36}\) deleted\.\n$/);
    failed(await romana(['policy', 'remove', 'policy1']), 1, 'NOT_FOUND');
  });

  it('policy remove -i, --policyid', async () => {
    const file = fileWith('policy3.json', SEED_POLICY.replace('policy1', 'policy3'));
    const added = json(await romana(['-f', 'json', 'policy', 'add', file]));
    const id = added.results[0].policy.id as string;
    // -i takes ids only: the name is not an id.
    failed(await romana(['policy', 'remove', '-i', 'policy3']), 1, 'NOT_FOUND');
    expect(ok(await romana(['policy', 'remove', '-i', id])).stdout).toBe(`Policy "policy3" (id ${id}) deleted.\n`);
    ok(await romana(['policy', 'remove', '--policyid', 'kube.tenant-a.pol2.a8e9618f-ab1d-11e7-a1ea-068bf013416e']));
    expect(json(await romana(['policy', 'list', '-f', 'json']))).toEqual({ securitypolicies: [] });
  });

  it('segment remove and tenant delete', async () => {
    expect(ok(await romana(['segment', 'remove', 't1', 's1'])).stdout).toBe('Segment "s1" removed from tenant "t1".\n');
    expect(ok(await romana(['tenant', 'delete', 't1'])).stdout).toBe('Tenant "t1" deleted with its segment (frontend).\n');
    failed(await romana(['tenant', 'delete', 't1']), 1, 'NOT_FOUND');
    const j = json(await romana(['tenant', 'list', '-f', 'json']));
    expect(j.tenants.map((t: { name: string }) => t.name)).toEqual(['t2']);
  });

  it('host remove [hostname|hostip]', async () => {
    expect(ok(await romana(['host', 'remove', 'node1'])).stdout).toBe('Host "node1" (192.168.99.10) removed; 0 addresses released.\n');
    expect(ok(await romana(['host', 'remove', '192.168.99.11'])).stdout).toBe('Host "node2" (192.168.99.11) removed; 0 addresses released.\n');
    failed(await romana(['host', 'remove', 'node1']), 1, 'HOST_NOT_FOUND');
    expect(ok(await romana(['host', 'list'])).stdout).toBe('Host List\nNo hosts are registered.\n');
  });

  it('usage errors exit 2 without sending anything', async () => {
    // Pointed at a port where nothing listens: a request would end in exit 3.
    const nowhere = (args: string[], opts: { input?: string } = {}): Promise<RunResult> => runRomana(['-p', '1', ...args], opts);
    failed(await nowhere(['host', 'add', 'node9']), 2, 'INVALID_ARGUMENT');
    failed(await nowhere(['host', 'bogus']), 2, 'INVALID_ARGUMENT');
    failed(await nowhere(['-f', 'yaml', 'host', 'list']), 2, 'INVALID_ARGUMENT');
    failed(await nowhere(['policy', 'add', path.join(files, 'missing.json')]), 2, 'INVALID_ARGUMENT');
    failed(await nowhere(['policy', 'add'], { input: '{"securitypolicies": [' }), 2, 'INVALID_JSON');
    failed(await nowhere(['host', 'list']), 3, 'DAEMON_UNREACHABLE');
  });

  it('-v prints each HTTP request and answer on stderr; stdout stays clean JSON', async () => {
    const home = emptyHome();
    const r = await runRomana([...flags, '-v', '-f', 'json', 'tenant', 'create', 't3'], { home });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ created: true });
    expect(r.stderr).toContain(`> POST ${d.url()}/tenants`);
    expect(r.stderr).toContain('> {"name":"t3"}');
    expect(r.stderr).toMatch(/< 201 Created POST \/tenants \(\d+ ms\)/);
    expect(r.stderr).toContain(`* config file: ${path.join(home, '.romana.yaml')}`);
  });
});

describe('views beyond the seed', () => {
  let d: DaemonProcess;
  let flags: string[];
  const romana = (args: string[]): Promise<RunResult> => runRomana([...flags, ...args]);

  beforeAll(async () => {
    d = await startDaemon();
    flags = ['-p', new URL(d.url()).port];
    const c = d.client();
    await c.addHost({ name: 'node1', ip: '192.168.99.10' });
    await c.addHost({ name: 'node2', ip: '192.168.99.11' });
    for (let i = 0; i < 3; i++) await c.allocate({ name: `kube-system.pod-${i}.abcd`, host: 'node1', tenant: 'kube-system', segment: '' });
    await c.allocate({ name: 'tenant-a.web-0.ef01', host: 'node2', tenant: 'tenant-a', segment: 'frontend' });
  });

  it('network list', async () => {
    const j = json(await romana(['network', 'list', '-f', 'json']));
    expect(j).toEqual([expect.objectContaining({ id: 'romana-network', name: 'romana-network', cidr: '10.112.0.0/12', block_mask: 29, tenants: null, blocks: 2, allocated: 4 })]);
    expect(ok(await romana(['network', 'list'])).stdout).toMatch(/romana-network\s+10\.112\.0\.0\/12\s+\/29\s+\* \(all\)\s+2\s+4\s+\d+\n/);
  });

  it('block list, with filters', async () => {
    const j = json(await romana(['block', 'list', '-f', 'json']));
    expect(j.blocks.map((b: { cidr: string; host: string; allocated_ip_count: number }) => [b.cidr, b.host, b.allocated_ip_count])).toEqual([
      ['10.112.0.0/29', 'node1', 3],
      ['10.114.0.0/29', 'node2', 1],
    ]);
    const only = json(await romana(['block', 'list', '--tenant', 'tenant-a', '-f', 'json']));
    expect(only.blocks.map((b: { cidr: string }) => b.cidr)).toEqual(['10.114.0.0/29']);
    expect(ok(await romana(['block', 'list'])).stdout).toMatch(/10\.112\.0\.0\/29\s+romana-network\s+node1\s+kube-system\s+-\s+3\/8/);
  });

  it('address list [--host H] [--tenant T]', async () => {
    const all = json(await romana(['address', 'list', '-f', 'json']));
    expect(all.addresses.map((a: { name: string; ip: string }) => [a.name, a.ip])).toEqual([
      ['kube-system.pod-0.abcd', '10.112.0.0'],
      ['kube-system.pod-1.abcd', '10.112.0.1'],
      ['kube-system.pod-2.abcd', '10.112.0.2'],
      ['tenant-a.web-0.ef01', '10.114.0.0'],
    ]);
    const byHost = json(await romana(['address', 'list', '--host', 'node2', '-f', 'json']));
    expect(byHost.addresses).toEqual([
      { name: 'tenant-a.web-0.ef01', ip: '10.114.0.0', network: 'romana-network', block: '10.114.0.0/29', host: 'node2', tenant: 'tenant-a', segment: 'frontend' },
    ]);
    const byTenant = json(await romana(['address', 'list', '--tenant', 'kube-system', '-f', 'json']));
    expect(byTenant.addresses).toHaveLength(3);
    expect(ok(await romana(['address', 'list', '--host', 'node2'])).stdout).toMatch(/tenant-a\.web-0\.ef01\s+10\.114\.0\.0\s+node2\s+tenant-a\s+frontend\n/);
  });

  it('ipam show', async () => {
    const j = json(await romana(['ipam', 'show', '-f', 'json']));
    expect(j.networks[0]).toMatchObject({ network: 'romana-network', size: 1048576, blocks: 2, allocated: 4 });
    expect(j.hosts).toEqual([
      { host: 'node1', blocks: 1, block_addresses: 8, allocated: 3 },
      { host: 'node2', blocks: 1, block_addresses: 8, allocated: 1 },
    ]);
    const t = ok(await romana(['ipam', 'show'])).stdout;
    expect(t).toMatch(/^Networks\n/);
    expect(t).toMatch(/romana-network\s+10\.112\.0\.0\/12\s+1048576\s+0\s+4\s+1048572\s+<0\.1%/);
    expect(t).toMatch(/host-group-01\s+10\.112\.0\.0\/15\s+1\s+1\/16384\s+3\s+131069/);
    expect(t).toMatch(/node1\s+1\s+8\s+3\s+5\n/);
  });

  it('topology show', async () => {
    const j = json(await romana(['topology', 'show', '-f', 'json']));
    const net = j.networks[0];
    expect(net).toMatchObject({ name: 'romana-network', cidr: '10.112.0.0/12', allocated: 4 });
    expect(net.groups).toHaveLength(8);
    expect(net.groups[0]).toMatchObject({ path: '/0', name: 'host-group-01', cidr: '10.112.0.0/15', host_count: 1, blocks: 1, allocated: 3 });
    expect(net.groups[0].hosts).toEqual([{ name: 'node1', ip: '192.168.99.10', blocks: 1, allocated: 3 }]);
    const t = ok(await romana(['topology', 'show'])).stdout;
    expect(t).toMatch(/^network romana-network {2}10\.112\.0\.0\/12\n/);
    expect(t).toContain('├── host-group-01  10.112.0.0/15  1 host, 1 block, 3/131072 used (<0.1%)\n│   └── node1  192.168.99.10  1 block, 3 used\n');
    expect(t).toContain('└── host-group-08  10.126.0.0/15  0 hosts, 0 blocks, 0/131072 used (0.0%)\n');
    // The original's spelling.
    expect(ok(await romana(['topology', 'list'])).stdout).toBe(t);
  });

  it('topology update FILE --dry-run changes nothing; without it, applies', async () => {
    const current = await d.client().getTopology();
    const next = {
      networks: [...current.networks, { name: 'net2', cidr: '10.200.0.0/16', block_mask: 28 }],
      topologies: [...current.topologies, { networks: ['net2'], map: [{ name: 'rack1', groups: [] }, { name: 'rack2', groups: [] }] }],
    };
    // With a comment, as the documentation's topology examples have.
    const file = fileWith('topology.json', `# two racks for net2\n${JSON.stringify(next, null, 2)}\n`);
    const dry = ok(await romana(['topology', 'update', file, '--dry-run']));
    expect(dry.stdout).toMatch(/^Dry run: nothing was changed\. The update would be accepted with these effects:\n {2}\+ network "net2"\n/);
    expect(json(await romana(['network', 'list', '-f', 'json'])).map((n: { name: string }) => n.name)).toEqual(['romana-network']);
    const applied = json(await romana(['topology', 'update', file, '-f', 'json']));
    expect(applied).toMatchObject({ dry_run: false, changed: true, diff: { networksAdded: ['net2'] } });
    expect(json(await romana(['network', 'list', '-f', 'json'])).map((n: { name: string }) => n.name)).toEqual(['romana-network', 'net2']);
    expect(ok(await romana(['topology', 'update', file])).stdout).toBe('No change: the topology given equals the installed one.\n');
    // Existing allocations survive.
    expect(json(await romana(['address', 'list', '-f', 'json'])).addresses).toHaveLength(4);
  });

  it('an invalid topology is refused with its problems, exit 1', async () => {
    const file = fileWith('bad-topology.json', JSON.stringify({ networks: [{ name: 'x', cidr: '10.0.0.1/8' }], topologies: [] }));
    const line = failed(await romana(['topology', 'update', file, '--dry-run']), 1, 'VALIDATION_FAILED');
    expect(line).toContain('$.networks[0].cidr');
  });
});

describe('config files', () => {
  let d: DaemonProcess;
  let port: string;
  beforeAll(async () => {
    d = await startDaemon();
    port = new URL(d.url()).port;
    await d.client().createTenant('from-config');
  });

  it("the seed's sample ~/.romana.yaml is accepted as printed; flags override it", async () => {
    const home = emptyHome();
    writeFileSync(path.join(home, '.romana.yaml'), SEED_CONFIG);
    // The file points at 192.168.99.10:9600 and says table; the flags win.
    const r = await runRomana(['-r', 'http://127.0.0.1', '-p', port, '-f', 'json', 'tenant', 'list'], { home });
    expect(json(r).tenants.map((t: { name: string }) => t.name)).toEqual(['from-config']);
    const v = await runRomana(['-v', '-r', 'http://127.0.0.1', '-p', port, 'tenant', 'list'], { home });
    expect(v.code).toBe(0);
    expect(v.stderr).toContain(`* config file: ${path.join(home, '.romana.yaml')}`);
    expect(v.stdout).toMatch(/^Tenant List\n/);
  });

  it('RootURL/RootPort/Format from ~/.romana.yaml are used without flags', async () => {
    const home = emptyHome();
    writeFileSync(path.join(home, '.romana.yaml'), `RootURL: "http://127.0.0.1"\nRootPort: ${port}\nFormat: "json" # options are table/json\n`);
    expect(json(await runRomana(['tenant', 'list'], { home })).tenants).toHaveLength(1);
  });

  it('-c names another file', async () => {
    const cfg = path.join(tempDir('romana-cli-cfg-'), 'cli.yaml');
    writeFileSync(cfg, `rooturl: 127.0.0.1:${port}\nformat: json\n`);
    expect(json(await runRomana(['-c', cfg, 'tenant', 'list'])).tenants).toHaveLength(1);
  });
});

describe('a daemon that cannot be reached', () => {
  it('exits 3 with one line naming the URL', async () => {
    const d = await startDaemon();
    const url = d.url();
    await d.stop();
    const r = await runRomana(['-r', url, 'host', 'list']);
    const line = failed(r, 3, 'DAEMON_UNREACHABLE');
    expect(line).toContain(`Cannot reach the romana daemon at ${url} (GET /hosts)`);
  });
});

describe('a daemon started with --token-file', () => {
  let d: DaemonProcess;
  let flags: string[];
  beforeAll(async () => {
    const dir = tempDir('romana-cli-token-');
    const tokens = path.join(dir, 'tokens');
    writeFileSync(tokens, 'cli-admin-token admin\ncli-reader-token read-only\n');
    d = await startDaemon(['--token-file', tokens]);
    flags = ['-p', new URL(d.url()).port];
  });

  it('refuses a CLI without a token (exit 1, with a hint)', async () => {
    const line = failed(await runRomana([...flags, 'tenant', 'list']), 1, 'UNAUTHORIZED');
    expect(line).toContain('--token');
  });

  it('accepts --token, ROMANA_TOKEN and the Token config key', async () => {
    ok(await runRomana([...flags, '--token', 'cli-admin-token', 'tenant', 'create', 'a']));
    ok(await runRomana([...flags, 'tenant', 'list'], { env: { ROMANA_TOKEN: 'cli-reader-token' } }));
    const home = emptyHome();
    writeFileSync(path.join(home, '.romana.yaml'), 'Token: cli-admin-token\n');
    ok(await runRomana([...flags, 'tenant', 'create', 'b'], { home }));
  });

  it('a read-only token may list but not change: exit 1, FORBIDDEN', async () => {
    failed(await runRomana([...flags, 'tenant', 'create', 'c'], { env: { ROMANA_TOKEN: 'cli-reader-token' } }), 1, 'FORBIDDEN');
  });
});
