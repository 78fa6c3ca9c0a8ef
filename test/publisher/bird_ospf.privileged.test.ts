/**
 * romana-publisher against real BIRD 2 over OSPF: a "node" namespace runs
 * BIRD exporting the publisher's static routes into OSPF (as external
 * routes), a "router" namespace runs BIRD as its OSPF neighbour over a
 * point-to-point veth and installs what it learns into its kernel table.
 * The publisher (root namespace) reloads the node's BIRD with SIGHUP to the
 * pid in BIRD's pid file, validating with `bird -p` on the main
 * configuration first — the other reload and check path than the BGP
 * test's control socket. Cleanup by name and PID, also on failure.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupDaemons, http, startDaemon, tempDir, type DaemonProcess } from '../helpers/daemon.js';
import { NetnsLab, privilegedSkipReason } from '../helpers/netns.js';
import { waitFor } from '../helpers/poll.js';
import { birdRoutes, getJson, killPublishers, linkPair, sorted, spawnPublisher, startBird } from './helpers.js';

const SKIP = privilegedSkipReason();
const NODE = 'node-o';
const NODE_IP = '10.251.0.1';
const ROUTER_IP = '10.251.0.2';

describe.skipIf(SKIP !== null)(`publisher + BIRD 2 over OSPF${SKIP ? ` (skipped: ${SKIP})` : ''}`, () => {
  let lab: NetnsLab;
  let node: string;
  let router: string;
  let daemon: DaemonProcess;
  let health: string;
  let seq = 0;
  const ctls = { node: '', router: '' };

  const blocksOfNode = async (): Promise<string[]> => {
    const r = await http(daemon.url(), 'GET', `/blocks?host=${NODE}`);
    return sorted((r.json.blocks as Array<{ cidr: string }>).map((b) => b.cidr));
  };
  const routerMatchesDaemon = async (what: string): Promise<string[]> => {
    let want: string[] = [];
    try {
      await waitFor(
        `the router's kernel table to hold exactly ${NODE}'s blocks (${what})`,
        async () => {
          want = await blocksOfNode();
          return JSON.stringify(await birdRoutes(lab, router)) === JSON.stringify(want);
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
    } catch (e) {
      // What BIRD saw, for whoever reads a failed run.
      const show = async (ns: string, ctl: string, ...cmd: string[]): Promise<string> => (await lab.exec(ns, 'birdc', ['-s', ctl, ...cmd])).stdout;
      const diag = [
        await show(node, ctls.node, 'show', 'route'),
        await show(node, ctls.node, 'show', 'ospf', 'neighbors'),
        await show(router, ctls.router, 'show', 'route'),
        await show(router, ctls.router, 'show', 'ospf', 'state'),
      ].join('\n');
      throw new Error(`${(e as Error).message}; want ${want.join(' ')}\n${diag}`);
    }
    return want;
  };

  beforeAll(async () => {
    lab = new NetnsLab('rpo');
    node = await lab.add('node');
    router = await lab.add('rtr');
    await linkPair(lab, node, `${NODE_IP}/24`, router, `${ROUTER_IP}/24`);
    const dir = tempDir('romana-publisher-ospf-');
    mkdirSync(path.join(dir, 'node/conf.d'), { recursive: true });
    const nodeConf = path.join(dir, 'node/bird.conf');
    writeFileSync(nodeConf, `router id ${NODE_IP};\nprotocol device { scan time 10; }\ninclude "conf.d/*.conf";\n`);
    const ospf = (self: string): string =>
      [
        `router id ${self};`,
        'protocol device { scan time 10; }',
        'protocol kernel { ipv4 { import none; export where source = RTS_OSPF_EXT2; }; }', // only what the node exports, not the shared link
        'protocol ospf v2 OSPF { ipv4 { import all; export none; }; area 0.0.0.0 { interface "eth0" { type ptp; hello 1; dead 4; }; }; }',
        '',
      ].join('\n');
    writeFileSync(path.join(dir, 'rtr.conf'), ospf(ROUTER_IP));
    writeFileSync(path.join(dir, 'publisher.conf'), readFileSync(path.join(import.meta.dirname, 'fixtures/ospf-publisher.conf'), 'utf8'));
    const pidFile = path.join(dir, 'node/bird.pid');
    ctls.node = path.join(dir, 'node/bird.ctl');
    ctls.router = path.join(dir, 'rtr.ctl');
    await startBird(lab, node, nodeConf, ctls.node, pidFile);
    await startBird(lab, router, path.join(dir, 'rtr.conf'), ctls.router, path.join(dir, 'rtr.pid'));
    daemon = await startDaemon();
    const r = await http(daemon.url(), 'POST', '/hosts', { body: { name: NODE, ip: NODE_IP } });
    expect(r.status, r.text).toBe(201);
    const pub = spawnPublisher([
      '--daemon', daemon.url(),
      '--node', NODE,
      '--template', path.join(dir, 'publisher.conf'),
      '--config', path.join(dir, 'node/conf.d/published-routes.conf'),
      '--pid-file', pidFile,
      '--bird-config', nodeConf,
      '--debounce-ms', '100',
      '--health-port', '0',
    ]);
    health = await pub.healthUrl();
    const start = pub.logs.find((l) => typeof l.health === 'string')!;
    expect(start.reload).toBe('signal');
    expect(start.validate).toBe('bird');
  });

  afterAll(async () => {
    await killPublishers();
    await lab?.cleanup();
    await cleanupDaemons();
    if (lab) expect(lab.existing()).toEqual([]);
  });

  it('the neighbour learns the node\'s blocks over OSPF and forgets them when the pods go', async () => {
    await waitFor('readyz 200', async () => (await getJson(`${health}/readyz`)).status === 200, { timeoutMs: 15_000 });
    const ips: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await http(daemon.url(), 'POST', '/address', { body: { name: `pod-${++seq}`, host: NODE } });
      expect(r.status, r.text).toBe(200);
      ips.push(r.json as string);
    }
    const blocks = await routerMatchesDaemon('after 12 allocations');
    expect(blocks).toHaveLength(2);
    const routes = await lab.ipJson<{ dst: string; gateway: string }>(router, 'route', 'show', 'proto', 'bird');
    for (const r of routes) expect(r.gateway).toBe(NODE_IP);

    for (const ip of ips.slice(0, 8)) expect((await http(daemon.url(), 'DELETE', `/address?addressName=${ip}`)).status).toBe(200);
    expect(await routerMatchesDaemon('after emptying the first block')).toHaveLength(1);
    for (const ip of ips.slice(8)) expect((await http(daemon.url(), 'DELETE', `/address?addressName=${ip}`)).status).toBe(200);
    expect(await routerMatchesDaemon('after releasing everything')).toEqual([]);
  });
});
