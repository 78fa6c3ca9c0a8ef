/**
 * Flags: defaults, environment fallbacks, every problem reported with the
 * flag and value, the bare --aggregate, the modes `auto` resolves to, and
 * best-match file naming.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bestMatchCandidates, parseSubnet, resolveBestMatch } from '../../publisher/best_match.js';
import { parsePublisherArgs, resolveModes, type RenderConfig, type RunConfig } from '../../publisher/config.js';

const run = (argv: string[], env = {}): RunConfig => {
  const r = parsePublisherArgs(argv, env);
  if (r.kind !== 'config' || r.config.command !== 'run') throw new Error(JSON.stringify(r));
  return r.config;
};
const problems = (argv: string[], env = {}): string[] => {
  const r = parsePublisherArgs(argv, env);
  if (r.kind !== 'error') throw new Error(`expected errors for ${argv.join(' ')}`);
  return r.problems;
};

describe('run flags', () => {
  it('defaults, with the node from $NODENAME and $NODEIP', () => {
    const c = run([], { NODENAME: 'n1', NODEIP: '192.168.20.30' });
    expect(c).toMatchObject({
      command: 'run', node: 'n1', nodeIp: '192.168.20.30', daemon: 'http://127.0.0.1:9600', template: '/etc/romana/publisher/publisher.conf',
      config: '/var/run/romana/bird/conf.d/published-routes.conf', pidFile: '/var/run/romana/bird/bird.pid', localAs: '65534', aggregate: 'none',
      reload: 'auto', validate: 'auto', debounceMs: 200, maxDelayMs: 2000, healthPort: 9608, healthHost: '127.0.0.1', birdSocket: null,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });
  it('a bare --aggregate means blocks; a mode may follow', () => {
    expect(run(['--node', 'n', '--aggregate']).aggregate).toBe('blocks');
    expect(run(['--aggregate', '--node', 'n']).aggregate).toBe('blocks');
    expect(run(['--node', 'n', '--aggregate', 'cluster']).aggregate).toBe('cluster');
    expect(run(['--node', 'n', '--aggregate=group']).aggregate).toBe('group');
  });
  it('--arg pairs', () => {
    expect([...run(['--node', 'n', '--arg', 'a=1', '--arg', 'b=x=y']).args]).toEqual([['a', '1'], ['b', 'x=y']]);
  });
  it('lists every problem with its flag and value', () => {
    expect(problems(['--local-as', 'x', '--aggregate', 'foo', '--neighbor-ip', '1.2.3', '--arg', 'nokey', '--arg', 'HostGroups=x', '--reload', 'socket', '--debounce-ms=-5', '--log-level', 'loud'])).toEqual([
      'invalid --local-as "x": must be an AS number (e.g. 65534, or 1.10 in asdot)',
      'invalid --neighbor-ip "1.2.3": must be an IPv4 address',
      'invalid --arg "nokey": must be KEY=VALUE',
      'invalid --arg "HostGroups=x": .Args.HostGroups is the node\'s prefix groups and cannot be set',
      'invalid --aggregate "foo": must be one of none, blocks, cluster, group',
      "missing --node (or $NODENAME): this node's host name in Romana",
      '--reload/--validate socket needs --bird-socket',
      'invalid --debounce-ms "-5": must be an integer 0-600000',
      'invalid --log-level "loud": must be one of fatal, error, warn, info, debug, trace, silent',
    ]);
    expect(problems(['--nope'])[0]).toMatch(/Unknown option '--nope'/);
    expect(problems(['--node', 'n', 'extra'])[0]).toMatch(/unexpected argument "extra"/);
  });
  it('auto modes: the control socket when given, else SIGHUP and bird -p when possible', () => {
    const base = { reload: 'auto', validate: 'auto', birdSocket: null, birdConfig: null } as const;
    expect(resolveModes({ ...base, birdSocket: '/run/bird.ctl' }, true)).toEqual({ reload: 'socket', validate: 'socket' });
    expect(resolveModes({ ...base, birdConfig: '/etc/bird.conf' }, true)).toEqual({ reload: 'signal', validate: 'bird' });
    expect(resolveModes({ ...base, birdConfig: '/etc/bird.conf' }, false)).toEqual({ reload: 'signal', validate: 'none' });
    expect(resolveModes({ ...base, reload: 'none', validate: 'none', birdSocket: '/x' }, true)).toEqual({ reload: 'none', validate: 'none' });
  });
});

describe('render and select flags', () => {
  it('render parses networks and needs a template', () => {
    const r = parsePublisherArgs(['render', '--template', 't', '--networks', '10.0.0.0/29, 10.0.0.8/29', '--local-as', '65001', '--bird-check']);
    expect(r.kind).toBe('config');
    const c = (r as { config: RenderConfig }).config;
    expect([c.networks?.length, c.localAs, c.birdCheck, c.data]).toEqual([2, '65001', true, null]);
    expect(problems(['render', '--networks', '10.0.0.1/29,10.0.0.0/33'])).toEqual([
      'missing --template: the template file to render',
      'invalid --networks entry "10.0.0.1/29": host bits set',
      'invalid --networks entry "10.0.0.0/33": invalid prefix length "33"',
    ]);
    expect(problems(['render', '--template', 't', '--daemon', 'http://x:1'])).toEqual(['--daemon needs --node: whose data to render']);
  });
  it('select needs a name and an output', () => {
    expect(problems(['select'])).toEqual(['missing --name: the base file name, e.g. /etc/romana/publisher/bird.conf', 'missing --out: where to copy the chosen file']);
  });
  it('--help', () => {
    expect(parsePublisherArgs(['--help']).kind).toBe('help');
    expect(parsePublisherArgs(['render', '-h']).kind).toBe('help');
  });
});

describe('best-match files', () => {
  it('node IP, then the subnet\'s network address, then the plain name', () => {
    expect(bestMatchCandidates('/c/x.conf', '192.168.20.30', parseSubnet('192.168.20.30/24'))).toEqual(['/c/x.conf.192.168.20.30', '/c/x.conf.192.168.20.0', '/c/x.conf']);
    expect(bestMatchCandidates('x.conf', null, null)).toEqual(['x.conf']);
    expect(bestMatchCandidates('x.conf', '10.0.0.0', parseSubnet('10.0.0.0/8'))).toEqual(['x.conf.10.0.0.0', 'x.conf']);
  });
  it('resolves to the most specific file that exists', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'romana-bestmatch-'));
    const base = path.join(dir, 'publisher.conf');
    const subnet = parseSubnet('192.168.20.0/24');
    expect((await resolveBestMatch(base, '192.168.20.30', subnet)).path).toBeNull();
    writeFileSync(base, 'plain');
    expect((await resolveBestMatch(base, '192.168.20.30', subnet)).path).toBe(base);
    writeFileSync(`${base}.192.168.20.0`, 'subnet');
    expect((await resolveBestMatch(base, '192.168.20.30', subnet)).path).toBe(`${base}.192.168.20.0`);
    expect((await resolveBestMatch(base, '192.168.35.7', parseSubnet('192.168.35.0/24'))).path).toBe(base);
    writeFileSync(`${base}.192.168.20.30`, 'node');
    expect((await resolveBestMatch(base, '192.168.20.30', subnet)).path).toBe(`${base}.192.168.20.30`);
  });
});
