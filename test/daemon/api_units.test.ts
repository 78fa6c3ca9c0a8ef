/**
 * The daemon's pure pieces, in-process: flag parsing, token files and
 * roles, content types, routing, request bodies.
 */
import { describe, expect, it } from 'vitest';
import { RomanaError } from '../../src/core/errors.js';
import { authorize, parseTokenFile, roleAllows, TokenTable } from '../../src/daemon/auth.js';
import { DEFAULTS, parseDaemonArgs } from '../../src/daemon/config.js';
import { parseHostBody } from '../../src/daemon/routes_ipam.js';
import { parseWatchQuery } from '../../src/daemon/watch_stream.js';
import { errorFromBody } from '../../src/shared/api_client.js';
import { isJsonContentType, Router } from '../../src/shared/http_server.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as RomanaError).code;
  }
  return 'none';
}

describe('parseDaemonArgs', () => {
  it('defaults everything in one frozen object', () => {
    const r = parseDaemonArgs([]);
    expect(r.kind).toBe('config');
    if (r.kind !== 'config') return;
    expect(r.config).toMatchObject({
      host: '127.0.0.1',
      hostGiven: false,
      port: 9600,
      dataDir: './romana-data',
      etcdEndpoints: [],
      etcdPrefix: '/romana',
      initialNetwork: null,
      cloud: null,
      tokenFile: null,
      logLevel: 'info',
      watchBufferBytes: DEFAULTS.watchBufferBytes,
    });
    expect(Object.isFrozen(r.config)).toBe(true);
  });

  it('parses every flag', () => {
    const r = parseDaemonArgs([
      '--host=0.0.0.0', '--port', '0', '--etcd-endpoints', 'http://10.0.0.1:2379, 10.0.0.2:2379', '--etcd-prefix', '/x',
      '--network-cidr-overrides', 'a=10.0.0.0/8,b=172.16.0.0/12', '--cloud=aws', '--aws-region', 'eu-west-1',
      '--service-cluster-ip-range', '10.96.0.0/12', '--token-file', '/t', '--log-level', 'debug',
    ]);
    expect(r.kind).toBe('config');
    if (r.kind !== 'config') return;
    expect(r.config.etcdEndpoints).toEqual(['http://10.0.0.1:2379', '10.0.0.2:2379']);
    expect([...r.config.networkCidrOverrides]).toEqual([['a', '10.0.0.0/8'], ['b', '172.16.0.0/12']]);
    expect(r.config).toMatchObject({ host: '0.0.0.0', hostGiven: true, port: 0, cloud: 'aws', awsRegion: 'eu-west-1', logLevel: 'debug' });
  });

  it('lists every bad flag with its value', () => {
    const r = parseDaemonArgs(['--port=-1', '--log-level', 'x', '--initial-network', 'f', '--cloud', 'aws', 'stray']);
    expect(r.kind).toBe('error');
    if (r.kind !== 'error') return;
    expect(r.problems).toHaveLength(4);
    expect(r.problems.join('\n')).toContain('--port "-1"');
    expect(r.problems.join('\n')).toContain('--log-level "x"');
    expect(r.problems.join('\n')).toContain('conflicting --initial-network "f" and --cloud "aws"');
    expect(r.problems.join('\n')).toContain('"stray"');
  });
});

describe('tokens and roles', () => {
  it('parses comments, blank lines and spacing; reports bad lines with their numbers', () => {
    const ok = parseTokenFile('# x\n\n  aaaaaaaa   admin  # c\nbbbbbbbb read-only\n');
    expect(ok.ok).toBe(true);
    const bad = parseTokenFile('aaaaaaaa admin\naaaaaaaa agent\nshort admin\nccccccccc root\none\n');
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.problems).toEqual([
      'line 2: the same token as line 1',
      'line 3: token too short (5 characters; use at least 8)',
      'line 4: unknown role "root" (roles: admin, agent, read-only)',
      'line 5: expected "<token> <role>", found 1 field(s)',
    ]);
    expect(parseTokenFile('# nothing\n').ok).toBe(false);
  });

  it('maps tokens to roles and roles to access', () => {
    const r = parseTokenFile('aaaaaaaa admin\nbbbbbbbb agent\ncccccccc read-only\n');
    if (!r.ok) throw new Error('parse failed');
    const t = new TokenTable(r.entries);
    expect(t.lookup('bbbbbbbb')).toBe('agent');
    expect(t.lookup('bbbbbbb')).toBeNull();
    expect(code(() => authorize(t, undefined, 'read', 'x'))).toBe('UNAUTHORIZED');
    expect(code(() => authorize(t, 'Bearer nope-nope', 'read', 'x'))).toBe('UNAUTHORIZED');
    expect(code(() => authorize(t, 'Bearer cccccccc', 'allocate', 'x'))).toBe('FORBIDDEN');
    expect(authorize(t, 'bearer bbbbbbbb', 'heartbeat', 'x')).toBe('agent');
    expect(authorize(t, undefined, 'open', 'x')).toBeNull();
    expect(roleAllows('agent', 'admin')).toBe(false);
    expect(roleAllows('admin', 'admin')).toBe(true);
    expect(roleAllows('read-only', 'read')).toBe(true);
  });
});

describe('HTTP plumbing', () => {
  it('accepts JSON media types with parameters and refuses others', () => {
    for (const ok of [undefined, '', 'application/json', 'application/json; charset=UTF-8', 'application/vnd.romana.v1+json', 'application/x-www-form-urlencoded']) {
      expect(isJsonContentType(ok), String(ok)).toBe(true);
    }
    for (const bad of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/jsonx']) {
      expect(isJsonContentType(bad), bad).toBe(false);
    }
  });

  it('routes by pattern, decodes params, and reports allowed methods', () => {
    const r = new Router<string>();
    const h = async () => ({ body: null });
    r.add('GET', '/hosts/{name}', 'read', h).add('DELETE', '/hosts/{name}', 'admin', h).add('GET', '/hosts', 'read', h);
    const m = r.match('GET', '/hosts/node%2Da/');
    expect(m.route?.pattern).toBe('/hosts/{name}');
    expect(m.route && 'params' in m ? m.params : null).toEqual({ name: 'node-a' });
    expect(r.match('PUT', '/hosts/x')).toEqual({ route: null, allowed: ['GET', 'DELETE'] });
    expect(r.match('GET', '/nope')).toEqual({ route: null, allowed: [] });
  });

  it('reads host bodies in the original format', () => {
    expect(parseHostBody({ name: 'n', ip: '1.2.3.4', agent_port: 0, tags: { a: 'b' }, k8s_info: null })).toEqual({ name: 'n', ip: '1.2.3.4', labels: { a: 'b' } });
    expect(parseHostBody({ name: 'n', ip: '1.2.3.4', labels: { a: 'b' }, agent_port: 9000 })).toEqual({ name: 'n', ip: '1.2.3.4', labels: { a: 'b' }, agentPort: 9000 });
    expect(code(() => parseHostBody({ name: 'n', ip: '1.2.3.4', tags: { a: 'b' }, labels: { a: 'c' } }))).toBe('INVALID_ARGUMENT');
    expect(code(() => parseHostBody([]))).toBe('INVALID_ARGUMENT');
  });

  it('validates watch queries', () => {
    expect(parseWatchQuery(new URLSearchParams('since=5&prefix=blocks/'))).toEqual({ since: 5, prefix: 'blocks/' });
    expect(parseWatchQuery(new URLSearchParams(''))).toEqual({ since: undefined, prefix: '' });
    expect(code(() => parseWatchQuery(new URLSearchParams('since=-1')))).toBe('INVALID_ARGUMENT');
    expect(code(() => parseWatchQuery(new URLSearchParams('prefix=/romana/x')))).toBe('INVALID_ARGUMENT');
  });

  it('turns error bodies back into RomanaErrors with the server code', () => {
    const e = errorFromBody(409, { status_code: 409, code: 'HOST_EXISTS', message: 'm', details: { a: 1 }, resource_type: 'host', resource_id: 'h' });
    expect(e).toMatchObject({ code: 'HOST_EXISTS', status: 409, message: 'm', details: { a: 1 }, resourceType: 'host', resourceId: 'h' });
    const unknown = errorFromBody(418, { code: 'TEAPOT' });
    expect(unknown.code).toBe('INTERNAL');
    expect(unknown.details).toMatchObject({ http_status: 418, server_code: 'TEAPOT' });
  });
});
