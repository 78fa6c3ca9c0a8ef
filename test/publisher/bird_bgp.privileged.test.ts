/**
 * romana-publisher against real BIRD 2 over BGP. A "node" namespace runs
 * BIRD with the publisher's include; a "tor" namespace runs BIRD as its
 * eBGP peer over a veth and installs what it learns into its kernel table.
 * The daemon listens on loopback in the root namespace, and so does the
 * publisher, which follows the daemon over HTTP and reaches the node's
 * BIRD through its control socket (a file): only BIRD and its peer need
 * the namespaces. Nothing touches the root namespace's network; namespaces
 * and processes are removed by name and PID afterwards, also on failure.
 *
 * Checked: as pods come and go (allocate/release through the daemon API)
 * the ToR's kernel table gains and loses exactly the node's blocks; the
 * template is found best-match (publisher.conf.<subnet> over a decoy
 * publisher.conf); a burst of allocations is one reload; a template error
 * and a configuration BIRD rejects both keep the last good file in place
 * and BIRD's routes up, are reported by /readyz with where it failed and by
 * metrics, and publishing resumes once the template is fixed.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupDaemons, http, startDaemon, tempDir, type DaemonProcess } from '../helpers/daemon.js';
import { NetnsLab, privilegedSkipReason } from '../helpers/netns.js';
import { waitFor } from '../helpers/poll.js';
import { birdRoutes, getJson, killPublishers, linkPair, metric, sorted, spawnPublisher, startBird, type PublisherProcess } from './helpers.js';

const SKIP = privilegedSkipReason();
const NODE = 'node-a';
const NODE_IP = '10.250.0.1';
const TOR_IP = '10.250.0.2';

describe.skipIf(SKIP !== null)(`publisher + BIRD 2 over BGP${SKIP ? ` (skipped: ${SKIP})` : ''}`, () => {
  let lab: NetnsLab;
  let node: string;
  let tor: string;
  let daemon: DaemonProcess;
  let pub: PublisherProcess;
  let health: string;
  let dir: string;
  let nodeCtl: string;
  let torCtl: string;
  let outFile: string;
  let templateFile: string;
  let seq = 0;

  const blocksOfNode = async (): Promise<string[]> => {
    const r = await http(daemon.url(), 'GET', `/blocks?host=${NODE}`);
    expect(r.status).toBe(200);
    return sorted((r.json.blocks as Array<{ cidr: string }>).map((b) => b.cidr));
  };
  const allocate = async (n: number): Promise<string[]> => {
    const names = Array.from({ length: n }, () => `pod-${++seq}`);
    const ips = await Promise.all(
      names.map(async (name) => {
        const r = await http(daemon.url(), 'POST', '/address', { body: { name, host: NODE, tenant: 'default' } });
        expect(r.status, r.text).toBe(200);
        return r.json as string;
      }),
    );
    return ips;
  };
  const release = async (ips: string[]): Promise<void> => {
    for (const ip of ips) {
      const r = await http(daemon.url(), 'DELETE', `/address?addressName=${ip}`);
      expect(r.status, r.text).toBe(200);
    }
  };
  /** Polls until the ToR's kernel routes from BIRD are exactly the node's blocks in the daemon. */
  const torMatchesDaemon = async (what: string): Promise<string[]> => {
    let want: string[] = [];
    await waitFor(
      `the ToR's kernel table to hold exactly node-a's blocks (${what})`,
      async () => {
        want = await blocksOfNode();
        const have = await birdRoutes(lab, tor);
        return JSON.stringify(have) === JSON.stringify(want);
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    return want;
  };

  beforeAll(async () => {
    lab = new NetnsLab('rpb');
    node = await lab.add('node');
    tor = await lab.add('tor');
    await linkPair(lab, node, `${NODE_IP}/24`, tor, `${TOR_IP}/24`);
    dir = tempDir('romana-publisher-bgp-');
    mkdirSync(path.join(dir, 'node/conf.d'), { recursive: true });
    nodeCtl = path.join(dir, 'node/bird.ctl');
    torCtl = path.join(dir, 'tor.ctl');
    outFile = path.join(dir, 'node/conf.d/published-routes.conf');
    writeFileSync(path.join(dir, 'node/bird.conf'), `router id ${NODE_IP};\nprotocol device { scan time 10; }\ninclude "conf.d/*.conf";\n`);
    writeFileSync(
      path.join(dir, 'tor.conf'),
      [
        `router id ${TOR_IP};`,
        'protocol device { scan time 10; }',
        'protocol kernel { ipv4 { import none; export all; }; }',
        `protocol bgp node_a { local ${TOR_IP} as 65000; neighbor ${NODE_IP} as 65001; hold time 9; connect retry time 1; connect delay time 1;`,
        '  ipv4 { import all; export none; }; }',
        '',
      ].join('\n'),
    );
    // Best match: the subnet-specific file must win over the decoy (which would fail to render).
    templateFile = path.join(dir, 'publisher.conf.10.250.0.0');
    writeFileSync(templateFile, readFileSync(path.join(import.meta.dirname, 'fixtures/bgp-publisher.conf'), 'utf8'));
    writeFileSync(path.join(dir, 'publisher.conf'), '{{ .ThisIsTheDecoy }}\n');
    await startBird(lab, node, path.join(dir, 'node/bird.conf'), nodeCtl, path.join(dir, 'node/bird.pid'));
    await startBird(lab, tor, path.join(dir, 'tor.conf'), torCtl, path.join(dir, 'tor.pid'));

    daemon = await startDaemon();
    const r = await http(daemon.url(), 'POST', '/hosts', { body: { name: NODE, ip: NODE_IP } });
    expect(r.status, r.text).toBe(201);
    pub = spawnPublisher([
      'run',
      '--daemon', daemon.url(),
      '--node', NODE,
      '--node-subnet', '10.250.0.0/24',
      '--template', path.join(dir, 'publisher.conf'),
      '--config', outFile,
      '--bird-socket', nodeCtl,
      '--local-as', '65001',
      '--neighbor-ip', TOR_IP,
      '--neighbor-as', '65000',
      '--debounce-ms', '150',
      '--health-port', '0',
      '--log-level', 'debug',
    ]);
    health = await pub.healthUrl();
  });

  afterAll(async () => {
    await killPublishers();
    await lab?.cleanup();
    await cleanupDaemons();
    if (lab) expect(lab.existing()).toEqual([]);
  });

  it('publishes nothing but is ready once BIRD loaded the empty static protocol', async () => {
    await waitFor('readyz 200', async () => (await getJson(`${health}/readyz`)).status === 200, { timeoutMs: 15_000 });
    const ready = (await getJson(`${health}/readyz`)).json;
    expect(ready.template).toBe(templateFile);
    expect(ready.announced).toBe(0);
    await waitFor('the BGP session to be established', async () => {
      const r = await lab.exec(tor, 'birdc', ['-s', torCtl, 'show', 'protocols', 'node_a']);
      return /Established/.test(r.stdout);
    }, { timeoutMs: 15_000, intervalMs: 100 });
    expect(await birdRoutes(lab, tor)).toEqual([]);
  });

  let first: string[] = [];
  it('the ToR learns the node\'s blocks as pods are allocated', async () => {
    first = await allocate(9); // 8 addresses per /29 block: two blocks
    const blocks = await torMatchesDaemon('after 9 allocations');
    expect(blocks).toHaveLength(2);
    const routes = await lab.ipJson<{ dst: string; gateway: string }>(tor, 'route', 'show', 'proto', 'bird');
    for (const r of routes) expect(r.gateway).toBe(NODE_IP);
    expect(readFileSync(outFile, 'utf8')).toContain(`route ${blocks[0]} unreachable;`);
  });

  it('the ToR loses a block when its last pod goes', async () => {
    const before = await blocksOfNode();
    await release(first.slice(0, 8));
    const after = await torMatchesDaemon('after emptying the first block');
    expect(after).toHaveLength(1);
    expect(before).toEqual(expect.arrayContaining(after));
  });

  it('a burst of allocations is published with one reload', async () => {
    const reloads0 = await metric(health, 'romana_publisher_applies_total{result="reloaded"}');
    await allocate(40);
    const blocks = await torMatchesDaemon('after a burst of 40 allocations');
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    await waitFor('the publisher to settle', async () => (await getJson(`${health}/readyz`)).json?.announced === blocks.length);
    const reloads = (await metric(health, 'romana_publisher_applies_total{result="reloaded"}')) - reloads0;
    expect(reloads).toBeGreaterThanOrEqual(1);
    expect(reloads).toBeLessThanOrEqual(2);
  });

  it('a broken template keeps the last good configuration and BIRD\'s routes, and says where it broke', async () => {
    const good = readFileSync(templateFile, 'utf8');
    const lastGood = readFileSync(outFile, 'utf8');
    const routesBefore = await birdRoutes(lab, tor);
    writeFileSync(templateFile, 'protocol static romana_routes {\n    ipv4;\n{{ range .Networks }}    route {{ .Prefix }} unreachable;\n{{ end }}}\n');
    await allocate(8); // a new block: something to publish
    const r = await waitFor('readyz to report the template error', async () => {
      const x = await getJson(`${health}/readyz`);
      return x.status === 503 && x.json?.details?.checks?.template?.ok === false ? x : undefined;
    });
    const err = r.json.details.checks.template.error;
    expect(err.step).toBe('template');
    expect(err.line).toBe(3);
    expect(err.col).toBe(35);
    expect(err.message).toContain("can't evaluate field Prefix");
    expect(await metric(health, 'romana_publisher_config_ok')).toBe(0);
    expect(await metric(health, 'romana_publisher_renders_total{result="error"}')).toBeGreaterThanOrEqual(1);
    expect(pub.logs.some((l) => l.level === 'error' && /template error/.test(l.msg) && l.line === 3)).toBe(true);
    expect(readFileSync(outFile, 'utf8')).toBe(lastGood);
    expect(await birdRoutes(lab, tor)).toEqual(routesBefore);

    // Renders, but BIRD refuses it: the check catches it before any reload.
    writeFileSync(templateFile, 'protocol static romana_routes {\n    ipv4;\n{{ range .Networks }}    route {{ . }}/33 unreachable;\n{{ end }}}\n');
    process.kill(pub.pid, 'SIGHUP');
    const v = await waitFor('readyz to report BIRD\'s rejection', async () => {
      const x = await getJson(`${health}/readyz`);
      return x.status === 503 && x.json?.details?.checks?.bird?.error?.step === 'validate' ? x : undefined;
    });
    expect(v.json.details.checks.bird.error.message).toMatch(/published-routes\.conf:\d+:\d+/);
    expect(await metric(health, 'romana_publisher_apply_errors_total{step="validate"}')).toBeGreaterThanOrEqual(1);
    expect(readFileSync(outFile, 'utf8')).toBe(lastGood);
    const status = await lab.exec(node, 'birdc', ['-s', nodeCtl, 'show', 'status']);
    expect(status.stdout).toMatch(/Daemon is up and running/);
    expect(await birdRoutes(lab, tor)).toEqual(routesBefore);

    // Fixed: the pending block is published.
    writeFileSync(templateFile, good);
    process.kill(pub.pid, 'SIGHUP');
    const now = await torMatchesDaemon('after fixing the template');
    expect(now.length).toBe(routesBefore.length + 1);
    await waitFor('readyz 200 again', async () => (await getJson(`${health}/readyz`)).status === 200);
    expect(await metric(health, 'romana_publisher_config_ok')).toBe(1);
  });

  it('the ToR loses everything when the node\'s pods are all gone', async () => {
    const all = await http(daemon.url(), 'GET', `/addresses?host=${NODE}`);
    await release((all.json.addresses as Array<{ ip: string }>).map((a) => a.ip));
    expect(await torMatchesDaemon('after releasing every address')).toEqual([]);
  });
});
