/**
 * --token-file: bearer tokens and roles against a real daemon.
 * admin: everything; agent: reads, POST/DELETE /address, heartbeats;
 * read-only: GETs; /healthz and /readyz need no token.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RomanaError } from '../../src/core/errors.js';
import { cleanupDaemons, http, spawnDaemon, startDaemon, tempDir, type DaemonProcess } from '../helpers/daemon.js';

const ADMIN = 'admin-token-0123456789';
const AGENT = 'agent-token-0123456789';
const READER = 'reader-token-0123456789';

let d: DaemonProcess;
let base: string;

beforeAll(async () => {
  const file = path.join(tempDir(), 'tokens');
  writeFileSync(file, `# romana tokens\n${ADMIN} admin\n\n${AGENT}   agent   # node agents\n${READER} read-only\n`);
  d = await startDaemon(['--token-file', file]);
  base = d.url();
});

afterAll(cleanupDaemons);

describe('bearer tokens', () => {
  it('refuses requests without a token or with an unknown one (401, WWW-Authenticate)', async () => {
    const none = await http(base, 'GET', '/hosts');
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ status_code: 401, code: 'UNAUTHORIZED' });
    expect(none.headers['www-authenticate']).toContain('Bearer');
    const wrong = await http(base, 'GET', '/hosts', { token: `${ADMIN}x` });
    expect(wrong.status).toBe(401);
    const malformed = await http(base, 'GET', '/hosts', { headers: { authorization: `Basic ${ADMIN}` } });
    expect(malformed.status).toBe(401);
    // Probes carry no secret.
    expect((await http(base, 'GET', '/healthz')).status).toBe(200);
    expect((await http(base, 'GET', '/readyz')).status).toBe(200);
  });

  it('lets admin do everything', async () => {
    const admin = d.client(ADMIN);
    expect((await admin.addHost({ name: 'n1', ip: '192.168.50.1' })).created).toBe(true);
    expect((await admin.createTenant('t1')).created).toBe(true);
    expect(await admin.allocate({ name: 'a1', host: 'n1', tenant: 't1' })).toMatch(/^10\./);
    expect((await admin.listHosts()).hosts).toHaveLength(1);
  });

  it('lets agents read, allocate, release and heartbeat, and nothing else (403)', async () => {
    const agent = d.client(AGENT);
    expect((await agent.listHosts()).hosts).toHaveLength(1);
    const ip = await agent.allocate({ name: 'a2', host: 'n1', tenant: 't1' });
    expect((await agent.release(ip)).name).toBe('a2');
    expect((await agent.heartbeat('n1')).host).toBe('n1');
    const streamed = await agent.watch({ since: 0, prefix: 'hosts/' });
    streamed.close();
    for (const [method, p, body] of [
      ['POST', '/hosts', { name: 'n2', ip: '192.168.50.2' }],
      ['DELETE', '/hosts/n1', undefined],
      ['POST', '/tenants', { name: 't2' }],
      ['POST', '/topology', { networks: [], topologies: [] }],
      ['POST', '/policies', { name: 'p' }],
    ] as const) {
      const r = await http(base, method, p, { token: AGENT, ...(body === undefined ? {} : { body }) });
      expect(r.status, `${method} ${p}`).toBe(403);
      expect(r.json).toMatchObject({ status_code: 403, code: 'FORBIDDEN' });
      expect(r.json.message).toContain('agent');
    }
  });

  it('lets read-only tokens GET and nothing else', async () => {
    const reader = d.client(READER);
    expect((await reader.listTenants()).tenants.map((t) => t.name)).toEqual(['t1']);
    expect(await reader.metrics()).toContain('romana_daemon_http_requests_total');
    try {
      await reader.allocate({ name: 'a3', host: 'n1', tenant: 't1' });
      throw new Error('allocation by a read-only token succeeded');
    } catch (e) {
      expect((e as RomanaError).code).toBe('FORBIDDEN');
    }
    expect((await http(base, 'POST', '/hosts/n1/heartbeat', { token: READER })).status).toBe(403);
    expect((await http(base, 'DELETE', '/address?addressName=a1', { token: READER })).status).toBe(403);
  });

  it('refuses to start with a malformed token file, naming the flag and the line', async () => {
    const file = path.join(tempDir(), 'bad-tokens');
    writeFileSync(file, `${ADMIN} admin\nshort agent\n${READER} superuser\n`);
    const p = spawnDaemon(['--port', '0', '--data-dir', tempDir(), '--token-file', file]);
    expect(await p.exited).toBe(2);
    const err = p.stderr().trim();
    expect(err.split('\n')).toHaveLength(1);
    expect(err).toContain('--token-file');
    expect(err).toContain('line 2');
    expect(err).toContain('"superuser"');
  });
});
