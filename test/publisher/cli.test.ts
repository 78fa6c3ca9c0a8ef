/**
 * The romana-publisher executable's one-shot commands, as operators run
 * them: `render` (flags, --data JSON, live data from a daemon, --show-data,
 * --bird-check, errors with line and column, exit codes) and `select`
 * (best-match copy of bird.conf with the include placeholder).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupDaemons, http, startDaemon, type DaemonProcess } from '../helpers/daemon.js';
import { PUBLISHER_MAIN, TEMPLATES } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'romana-publisher-cli-'));

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PUBLISHER_MAIN, ...args], { env: { ...process.env, NODEIP: '', NODENAME: '', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('romana-publisher render', () => {
  it('renders the seed\'s BGP example with --networks and --local-as', async () => {
    const r = await cli(['render', '--template', path.join(TEMPLATES, 'bird1/publisher-bgp.conf'), '--networks', '10.112.0.0/29,10.112.0.8/29', '--local-as', '65001']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'protocol static romana_routes {\n    \n    route 10.112.0.0/29 reject;\n    \n    route 10.112.0.8/29 reject;\n    \n}\n\n' +
        'protocol bgp BGP {\n    export where proto = "romana_routes";\n        direct;\n    local as 65001;\n    neighbor 192.168.20.1 as 65001;\n}\n',
    );
  });

  it('--data supplies the whole dot; flags override it; --show-data prints it', async () => {
    const data = path.join(dir, 'data.json');
    writeFileSync(data, JSON.stringify({ Networks: ['10.1.0.0/24'], LocalAS: 64512, Args: { HostGroups: { net: { CIDR: '10.1.0.0/16', Name: 'rack-9' } } } }));
    const r = await cli(['render', '--template', path.join(TEMPLATES, 'bird2/publisher-prefix-groups.conf'), '--data', data]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('    route 10.1.0.0/16 unreachable;   # net (rack-9)\n');
    expect(r.stdout).toContain('local as 64512;');
    const o = await cli(['render', '--template', path.join(TEMPLATES, 'bird2/publisher-bgp.conf'), '--data', data, '--local-as', '65010', '--show-data']);
    expect(JSON.parse(o.stdout)).toMatchObject({ Networks: ['10.1.0.0/24'], LocalAS: '65010', Args: { HostGroups: { net: { Name: 'rack-9' } } } });
  });

  it('a template error names the file, line and column; exit 1', async () => {
    const t = path.join(dir, 'broken.conf');
    writeFileSync(t, 'protocol static x {\n  {{ range .Networks }}route {{ .Adress }};{{ end }}\n}\n');
    const r = await cli(['render', '--template', t, '--networks', '10.0.0.0/29']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('romana-publisher: template: broken.conf:2:33: executing "broken.conf" at <.Adress>: can\'t evaluate field Adress in type *net.IPNet\n');
  });

  it('--bird-check: exit 0 when bird -p accepts, 1 with BIRD\'s message when not', async () => {
    const ok = await cli(['render', '--template', path.join(TEMPLATES, 'bird2/publisher-ospf.conf'), '--networks', '10.0.0.0/29', '--bird-check', '--bird-config', path.join(TEMPLATES, 'bird2/bird.conf')]);
    expect([ok.code, ok.stderr]).toEqual([0, 'romana-publisher: bird -p (bird) accepts the rendered configuration\n']);
    const bad = await cli(['render', '--template', path.join(TEMPLATES, 'bird1/publisher-ospf.conf'), '--networks', '10.0.0.0/29', '--bird-check']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^romana-publisher: bird -p rejected the rendered configuration: <rendered>:\d+:\d+ /);
  });

  it('bad flags: exit 2, one line naming them', async () => {
    const r = await cli(['render', '--template', 'x', '--networks', 'nope', '--aggregate', 'most']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('romana-publisher: invalid --aggregate "most": must be one of none, blocks, cluster, group; invalid --networks entry "nope": missing "/prefix"\n');
  });
});

describe('romana-publisher render --daemon (live data)', () => {
  let daemon: DaemonProcess;
  beforeAll(async () => {
    daemon = await startDaemon();
    expect((await http(daemon.url(), 'POST', '/hosts', { body: { name: 'n1', ip: '192.168.20.30' } })).status).toBe(201);
    for (let i = 0; i < 10; i++) expect((await http(daemon.url(), 'POST', '/address', { body: { name: `p${i}`, host: 'n1' } })).status).toBe(200);
  });
  afterAll(cleanupDaemons);

  it('renders what the running publisher would, in every aggregation mode', async () => {
    const t = path.join(dir, 'nets.conf');
    writeFileSync(t, '{{ range .Networks }}{{ . }} {{ end }}| {{ range $n, $g := .Args.HostGroups }}{{ $n }}={{ $g.CIDR }} hosts={{ len $g.Hosts }}{{ end }}');
    const none = await cli(['render', '--template', t, '--daemon', daemon.url(), '--node', 'n1']);
    expect(none.stderr).toBe('');
    expect(none.stdout).toBe('10.112.0.0/29 10.112.0.8/29 | romana-network=10.112.0.0/15 hosts=1');
    const agg = await cli(['render', '--template', t, '--daemon', daemon.url(), '--node', 'n1', '--aggregate']);
    expect(agg.stdout).toBe('10.112.0.0/28 | romana-network=10.112.0.0/15 hosts=1');
    const unknown = await cli(['render', '--template', t, '--daemon', daemon.url(), '--node', 'ghost']);
    expect([unknown.code, unknown.stderr]).toEqual([1, 'romana-publisher: cannot build the template data: node "ghost" is not registered with the daemon\n']);
  });
});

describe('romana-publisher select', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('copies the best-match file and creates the include placeholder', async () => {
    const base = path.join(dir, 'bird.conf');
    writeFileSync(base, 'generic');
    writeFileSync(`${base}.192.168.20.0`, 'subnet');
    const out = path.join(dir, 'run/bird.conf');
    const placeholder = path.join(dir, 'run/conf.d/published-routes.conf');
    const r = await cli(['select', '--name', base, '--out', out, '--node-subnet', '192.168.20.0/24', '--placeholder', placeholder], { NODEIP: '192.168.20.30' });
    expect([r.code, r.stdout], r.stderr).toEqual([0, `${base}.192.168.20.0\n`]);
    expect(readFileSync(out, 'utf8')).toBe('subnet');
    expect(existsSync(placeholder)).toBe(true);
    const other = await cli(['select', '--name', base, '--out', out, '--node-ip', '10.9.9.9']);
    expect(other.stdout, other.stderr).toBe(`${base}\n`);
    expect(readFileSync(out, 'utf8')).toBe('generic');
    const none = await cli(['select', '--name', path.join(dir, 'nope.conf'), '--out', out]);
    expect(none.code, none.stderr).toBe(1);
  });
});
