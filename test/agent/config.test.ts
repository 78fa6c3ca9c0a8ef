/**
 * romana-agent flags: defaults, environment fallbacks, boolean forms, and
 * every problem reported at once with the flag and the value.
 */
import { describe, expect, it } from 'vitest';
import { AGENT_DEFAULTS, AGENT_USAGE, parseAgentArgs, serviceRangeFromEnv } from '../../src/agent/config.js';

function config(argv: string[], env: Record<string, string> = {}) {
  const r = parseAgentArgs(argv, env, 'node-from-hostname');
  if (r.kind !== 'config') throw new Error(`expected a config, got ${JSON.stringify(r)}`);
  return r.config;
}

function problems(argv: string[], env: Record<string, string> = {}): readonly string[] {
  const r = parseAgentArgs(argv, env, 'h');
  if (r.kind !== 'error') throw new Error(`expected problems, got ${JSON.stringify(r)}`);
  return r.problems;
}

describe('parseAgentArgs', () => {
  it('defaults everything, frozen', () => {
    const c = config([]);
    expect(c).toEqual({
      nodeName: 'node-from-hostname',
      nodeIp: null,
      daemon: 'http://127.0.0.1:9600',
      token: null,
      tokenFile: null,
      serviceClusterIpRange: null,
      nat: true,
      mtu: null,
      policies: true,
      multihop: false,
      routeTable: 10,
      routeProto: 88,
      routeRulePriority: 32765,
      healthHost: '127.0.0.1',
      healthPort: 9607,
      healthSocket: null,
      installCni: true,
      cniBinDir: '/opt/cni/bin',
      cniConfDir: '/etc/cni/net.d',
      cniSource: null,
      iptablesMode: 'auto',
      heartbeatTtlSeconds: 15,
      resyncIntervalSeconds: 30,
      maxFailures: 10,
      logLevel: 'info',
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(AGENT_USAGE).toContain(`--route-proto N`);
    expect(AGENT_DEFAULTS.routeProto).toBe(88);
  });

  it('takes the node, daemon and token from the environment, flags winning', () => {
    const env = { NODENAME: 'env-node', NODEIP: '10.0.0.7', ROMANA_DAEMON: 'unix:/run/romana/d.sock', ROMANA_TOKEN: 'secret-token-1', KUBERNETES_SERVICE_HOST: '10.96.0.1' };
    expect(config([], env)).toMatchObject({ nodeName: 'env-node', nodeIp: '10.0.0.7', daemon: 'unix:/run/romana/d.sock', token: 'secret-token-1', serviceClusterIpRange: '10.96.0.0/12' });
    expect(config(['--node-name', 'flag-node', '--node-ip=10.0.0.8', '--service-cluster-ip-range', '100.64.0.0/13'], env)).toMatchObject({
      nodeName: 'flag-node',
      nodeIp: '10.0.0.8',
      serviceClusterIpRange: '100.64.0.0/13',
    });
    // A token file replaces the environment's token.
    expect(config(['--token-file', '/etc/romana/token'], env)).toMatchObject({ token: null, tokenFile: '/etc/romana/token' });
    expect(serviceRangeFromEnv({ KUBERNETES_SERVICE_HOST: '100.64.0.1' })).toBe('100.64.0.0/13');
    expect(serviceRangeFromEnv({ KUBERNETES_SERVICE_HOST: '10.0.0.1' })).toBeNull();
  });

  it('accepts --x, --x=BOOL and --no-x for boolean flags', () => {
    expect(config(['--no-nat', '--policies=false', '--multihop', '--install-cni=0'])).toMatchObject({ nat: false, policies: false, multihop: true, installCni: false });
    expect(config(['--nat=true', '--no-multihop'])).toMatchObject({ nat: true, multihop: false });
  });

  it('parses every other flag', () => {
    expect(
      config([
        '--daemon', 'http://10.0.0.1:9600', '--token', 'abcdefgh1', '--mtu', '8950', '--route-table', '20', '--route-proto', '99', '--route-rule-priority', '1000',
        '--health-port', '0', '--health-socket', '/run/romana/agent.sock', '--cni-bin-dir', '/b', '--cni-conf-dir', '/c', '--cni-source', '/s/romana',
        '--iptables-mode', 'legacy', '--heartbeat-ttl', '30', '--resync-interval', '90', '--max-failures', '3', '--log-level', 'debug',
      ]),
    ).toMatchObject({
      daemon: 'http://10.0.0.1:9600', token: 'abcdefgh1', mtu: 8950, routeTable: 20, routeProto: 99, routeRulePriority: 1000, healthPort: 0,
      healthSocket: '/run/romana/agent.sock', cniBinDir: '/b', cniConfDir: '/c', cniSource: '/s/romana', iptablesMode: 'legacy',
      heartbeatTtlSeconds: 30, resyncIntervalSeconds: 90, maxFailures: 3, logLevel: 'debug',
    });
  });

  it('lists every problem, naming the flag and the value', () => {
    const p = problems([
      '--node-ip', '10.0.0.300', '--daemon', 'ftp://x', '--nat=maybe', '--route-table', '254', '--route-proto', '2', '--route-rule-priority', '32766',
      '--health-port', '70000', '--iptables-mode', 'iptables', '--service-cluster-ip-range', '10.96.0.1/12', '--mtu', '100', '--token', 'x', '--token-file', '/t',
    ]);
    expect(p).toEqual([
      'invalid --node-ip "10.0.0.300": must be an IPv4 address',
      'invalid --daemon "ftp://x": must be http://host:port or unix:/path',
      'conflicting --token and --token-file: give one',
      'invalid --service-cluster-ip-range "10.96.0.1/12": host bits set (the network is "10.96.0.0/12")',
      'invalid --nat "maybe": must be true or false',
      'invalid --mtu "100": must be an integer 576-65535',
      "invalid --route-table \"254\": must be an integer 1-252 (253-255 are the kernel's default, main and local tables)",
      'invalid --route-proto "2": must be an integer 5-255 (0-4 are reserved by the kernel)',
      'invalid --route-rule-priority "32766": must be an integer 1-32765 (it must come before main at 32766)',
      'invalid --health-port "70000": must be an integer 0-65535',
      'invalid --iptables-mode "iptables": must be auto, legacy or nft',
    ]);
    expect(problems(['--daemon', 'unix:relative'])[0]).toMatch(/absolute path/);
    expect(problems(['--bogus'])[0]).toMatch(/Unknown option '--bogus'/);
    expect(problems(['stray'])[0]).toMatch(/unexpected argument "stray"/);
    expect(parseAgentArgs(['--help']).kind).toBe('help');
  });
});
