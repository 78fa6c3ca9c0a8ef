/**
 * The plugin's pure parts: result shapes per version (golden files,
 * UPDATE_GOLDEN=1 rewrites them), names, CNI_ARGS, config validation, and
 * the HTTP client over TCP and a unix socket against a small in-process
 * server (the real daemon is exercised by the privileged tests).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/cni/config.js';
import { AgentClient, DaemonClient, UNSUPPORTED } from '../../src/cni/daemon_client.js';
import { parseCniArgs, parseEnv, validIfname } from '../../src/cni/env.js';
import { CniError } from '../../src/cni/errors.js';
import { addressName, parseAddressName, vethName } from '../../src/cni/naming.js';
import { addressFromPrevResult, encodeResult, SUPPORTED_VERSIONS } from '../../src/cni/versions.js';

const GOLDEN = fileURLToPath(new URL('./golden', import.meta.url));

function expectGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`golden file ${file} is missing: run with UPDATE_GOLDEN=1 and review it`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

const SAMPLE = {
  hostInterface: { name: 'romana1a2b3c4d5', mac: 'be:2f:f8:3a:81:a9', mtu: 1450 },
  podInterface: { name: 'eth0', mac: '46:b0:de:d5:cb:4a', mtu: 1450, sandbox: '/var/run/netns/cni-1234' },
  address: '10.112.0.5/32',
  gateway: '169.254.1.1',
};

describe('ADD result per version', () => {
  it.each(SUPPORTED_VERSIONS)('%s matches its golden file and decodes back as a prevResult', (v) => {
    const r = encodeResult(SAMPLE, v);
    expectGolden(`add-result-${v}.json`, JSON.stringify(r, null, 2) + '\n');
    expect(addressFromPrevResult(r, 'eth0', SAMPLE.podInterface.sandbox)).toBe('10.112.0.5/32');
  });

  it('a prevResult without this interface is refused', () => {
    const r = encodeResult(SAMPLE, '1.0.0');
    expect(() => addressFromPrevResult(r, 'net1', SAMPLE.podInterface.sandbox)).toThrow(CniError);
    expect(() => addressFromPrevResult(null, 'eth0', 'x')).toThrow(/prevResult/);
  });
});

describe('names', () => {
  it('veth names are "romana" + 9 hex digits of sha256(container id): 15 characters, stable, distinct', () => {
    const a = vethName('abc');
    expect(a).toBe('romanaba7816bf8');
    expect(a).toHaveLength(15);
    expect(validIfname(a)).toBe(true);
    // Ids sharing their first 8 characters (the original's collision) get different names.
    expect(vethName('0123456789aaaa')).not.toBe(vethName('0123456789bbbb'));
  });

  it('address names round-trip through the parser; foreign names are not ours', () => {
    const pod = { namespace: 'shop', name: 'web-0.v2' };
    expect(addressName('c1', 'eth0', pod)).toBe('cni:shop:web-0.v2:c1:eth0');
    expect(parseAddressName('cni:shop:web-0.v2:c1:eth0')).toEqual({ containerId: 'c1', ifname: 'eth0', pod });
    expect(parseAddressName(addressName('c.1_x', 'net1', null))).toEqual({ containerId: 'c.1_x', ifname: 'net1', pod: null });
    for (const foreign of ['pod-1', 'cni:', 'cni:a:b:c', 'cni::eth0', 'x:c1:eth0']) expect(parseAddressName(foreign)).toBeNull();
  });
});

describe('environment', () => {
  it('parses CNI_ARGS and takes the pod from K8S_POD_NAMESPACE/K8S_POD_NAME', () => {
    expect([...parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=a=b;')]).toEqual([
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAME', 'a=b'],
    ]);
    const e = parseEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p' });
    expect(e).toMatchObject({ command: 'DEL', netns: '', pod: { namespace: 'ns', name: 'p' } });
  });

  it('lists every problem with code 4', () => {
    try {
      parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: '-bad', CNI_IFNAME: 'a/b', CNI_NETNS: 'relative', CNI_ARGS: 'K8S_POD_NAMESPACE=Bad_NS;K8S_POD_NAME=p' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CniError);
      const err = e as CniError;
      expect(err.code).toBe(4);
      for (const p of ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_NETNS', 'K8S_POD_NAMESPACE']) expect(err.message).toContain(p);
    }
    expect(() => parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_IFNAME: 'eth0', CNI_NETNS: '/x', CNI_ARGS: 'novalue' })).toThrow(/KEY=VALUE/);
  });
});

describe('config', () => {
  it('accepts unix sockets in both spellings and strips a trailing /sync from the agent URL', () => {
    const c = parseConfig({ cniVersion: '1.0.0', name: 'n', daemon: 'unix:///run/romana.sock', agent: 'http://127.0.0.1:9604/sync' }, 'h');
    expect(c.daemon).toEqual({ kind: 'unix', socketPath: '/run/romana.sock', baseUrl: 'http://localhost' });
    expect(c.agent).toBe('http://127.0.0.1:9604');
    expect(parseConfig({ cniVersion: '1.0.0', name: 'n', daemon: 'unix:/run/r.sock' }, 'h').daemon).toMatchObject({ socketPath: '/run/r.sock' });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('refuses token and token_file together, a relative socket, bad MTU and a missing name, all at once', () => {
    try {
      parseConfig({ cniVersion: '1.0.0', daemon: 'unix:run/x.sock', token: 't', token_file: '/f', mtu: 40 }, 'h');
      expect.unreachable();
    } catch (e) {
      const err = e as CniError;
      expect(err.code).toBe(7);
      for (const p of ['$.name', '$.daemon', '$.token_file', '$.mtu']) expect(err.details).toContain(p);
    }
  });
});

describe('daemon client', () => {
  const dirs: string[] = [];
  const servers: http.Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A daemon-shaped server: one address, endpoint routes only when `endpoints`. */
  async function serve(listen: (s: http.Server) => Promise<void>, endpoints: boolean): Promise<string[]> {
    const seen: string[] = [];
    const s = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'} ${body}`);
        const send = (status: number, obj: unknown): void => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(obj));
        };
        if (req.url === '/address' && req.method === 'POST') return send(200, '10.112.0.9');
        if (req.url?.startsWith('/address?') && req.method === 'DELETE') {
          return send(404, { status_code: 404, code: 'ADDRESS_NOT_FOUND', message: 'No address named "x" is allocated' });
        }
        if (req.url?.startsWith('/endpoints/') && !endpoints) {
          return send(404, { status_code: 404, code: 'NOT_FOUND', message: `No route "${req.method} ${req.url}"`, resource_type: 'route' });
        }
        if (req.url === '/endpoints/ns/p' && req.method === 'GET') return send(404, { status_code: 404, code: 'NOT_FOUND', message: 'no endpoint', resource_type: 'endpoint' });
        if (req.url === '/endpoints/ns/p' && req.method === 'PUT') return send(200, JSON.parse(body));
        if (req.url === '/readyz') return send(503, { status_code: 503, code: 'NOT_READY', message: 'Not ready: no topology loaded' });
        return send(500, { status_code: 500, code: 'POOL_EXHAUSTED', message: 'No free address' });
      });
    });
    servers.push(s);
    await listen(s);
    return seen;
  }

  it('speaks to a unix socket: bearer token, JSON bodies, catalogue codes, missing endpoint routes as UNSUPPORTED', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'romana-cni-sock-'));
    dirs.push(dir);
    const sock = path.join(dir, 'daemon.sock');
    const seen = await serve((s) => new Promise((r) => s.listen(sock, () => r())), false);
    const c = new DaemonClient({ kind: 'unix', socketPath: sock, baseUrl: 'http://localhost' }, 'tok', 2000);
    try {
      expect(await c.allocate({ name: 'cni:a:eth0', host: 'h', tenant: 't', segment: 's' })).toBe('10.112.0.9');
      expect(await c.release('cni:a:eth0')).toBeNull();
      expect(await c.getEndpoint('ns', 'p')).toBe(UNSUPPORTED);
      expect(await c.putEndpoint('ns', 'p', { ip: '1.2.3.4' })).toBe(UNSUPPORTED);
      await expect(c.ready()).rejects.toMatchObject({ code: 'NOT_READY' });
      await expect(c.listAddresses('h')).rejects.toMatchObject({ code: 'POOL_EXHAUSTED' });
    } finally {
      c.close();
    }
    expect(seen[0]).toBe('POST /address Bearer tok {"name":"cni:a:eth0","host":"h","tenant":"t","segment":"s"}');
    expect(seen[1]).toBe('DELETE /address?addressName=cni%3Aa%3Aeth0 Bearer tok ');
  });

  it('asks the agent for a sync bounded a little below its own deadline, and reports a refusal', async () => {
    let port = 0;
    const seen = await serve((s) => new Promise((r) => s.listen(0, '127.0.0.1', () => ((port = (s.address() as { port: number }).port), r()))), true);
    const a = new AgentClient(`http://127.0.0.1:${port}`, 5000);
    try {
      // The fake answers anything unknown with 500: the sync is refused and the error keeps the code.
      await expect(a.sync()).rejects.toMatchObject({ code: 'POOL_EXHAUSTED' });
    } finally {
      a.close();
    }
    expect(seen.at(-1)).toMatch(/^POST \/sync\?timeout_ms=4750 /);
  });

  it('over TCP: an endpoint that does not exist is null, a refused connection is DAEMON_UNREACHABLE', async () => {
    let port = 0;
    await serve((s) => new Promise((r) => s.listen(0, '127.0.0.1', () => ((port = (s.address() as { port: number }).port), r()))), true);
    const c = new DaemonClient({ kind: 'http', baseUrl: `http://127.0.0.1:${port}` }, null, 2000);
    try {
      expect(await c.getEndpoint('ns', 'p')).toBeNull();
      await c.putEndpoint('ns', 'p', { ip: '1.2.3.4' });
    } finally {
      c.close();
    }
    const down = new DaemonClient({ kind: 'unix', socketPath: '/nonexistent/romana.sock', baseUrl: 'http://localhost' }, null, 2000);
    await expect(down.allocate({ name: 'x', host: 'h', tenant: 't', segment: 's' })).rejects.toMatchObject({
      code: 'DAEMON_UNREACHABLE',
      message: expect.stringContaining('unix:/nonexistent/romana.sock'),
    });
    down.close();
  });
});
