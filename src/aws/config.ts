/**
 * Command-line configuration of romana-aws and romana-vpcrouter, parsed
 * once, validated (every problem named with its flag), defaulted, frozen
 * (STYLE §6). Pure: the environment is passed in by main.ts.
 *
 * vpc-router's options (reference §10.2) are kept where they make sense,
 * in this project's kebab-case: --region, --vpc, --ignore-routes,
 * --route-recheck-interval, --address/--port (status server), --health
 * (icmpecho | tcp), --icmp-check-interval, --tcp-check-port,
 * --tcp-check-interval. Its etcd and plugin options are replaced by the
 * daemon (--daemon) or files (--topology/--hosts) as the spec source.
 *
 * Durations: "500ms", "30s", "5m", "1h", or a bare number of seconds.
 */
import { parseArgs } from 'node:util';
import { normCidr } from '../core/aws/route_plan.js';
import { parseCidr4 } from '../core/ip.js';
import { DEFAULT_DAEMON_URL } from '../shared/api_client.js';
import { isLogLevel, LOG_LEVELS, type LogLevel } from '../shared/log.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!);
}

type Env = Readonly<Record<string, string | undefined>>;

export type ParseResult<C> = { kind: 'config'; config: C } | { kind: 'help' } | { kind: 'error'; problems: string[] };

interface Common {
  readonly region: string | null;
  readonly endpoint: string | null;
  readonly logLevel: LogLevel;
}

function common(v: Record<string, unknown>, env: Env, problems: string[]): Common {
  const region = (v.region as string | undefined) ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || null);
  if (region !== null && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) problems.push(`--region ${JSON.stringify(region)} is not an AWS region name`);
  const endpoint = (v.endpoint as string | undefined) ?? null;
  if (endpoint !== null && !/^https?:\/\//.test(endpoint)) problems.push(`--endpoint ${JSON.stringify(endpoint)} must be an http(s) URL`);
  const logLevel = (v['log-level'] as string | undefined) ?? 'info';
  if (!isLogLevel(logLevel)) problems.push(`--log-level ${JSON.stringify(logLevel)} must be one of ${LOG_LEVELS.join(', ')}`);
  return { region, endpoint, logLevel: logLevel as LogLevel };
}

function duration(v: Record<string, unknown>, flag: string, def: number, min: number, max: number, problems: string[]): number {
  const t = v[flag] as string | undefined;
  if (t === undefined) return def;
  const ms = parseDuration(t);
  if (ms === null || ms < min || ms > max) {
    problems.push(`--${flag} ${JSON.stringify(t)} must be a duration from ${min / 1000}s to ${max / 1000}s`);
    return def;
  }
  return ms;
}

function port(v: Record<string, unknown>, flag: string, def: number, problems: string[], allowZero = true): number {
  const t = v[flag] as string | undefined;
  if (t === undefined) return def;
  const n = Number(t);
  if (!/^\d+$/.test(t) || n > 65535 || (!allowZero && n === 0)) {
    problems.push(`--${flag} ${JSON.stringify(t)} must be a port number${allowZero ? ' (0: any free port)' : ''}`);
    return def;
  }
  return n;
}

function parse(argv: readonly string[], options: Record<string, { type: 'string' | 'boolean'; short?: string }>, problems: string[]): { values: Record<string, unknown>; positionals: string[] } | null {
  try {
    const r = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    return { values: r.values as Record<string, unknown>, positionals: r.positionals };
  } catch (e) {
    problems.push((e as Error).message);
    return null;
  }
}

// ---------- romana-aws ----------

export interface AwsConfig extends Common {
  readonly daemon: string;
  readonly tokenFile: string | null;
  readonly resyncMs: number;
  readonly address: string;
  readonly port: number;
}

const AWS_OPTIONS = {
  daemon: { type: 'string' },
  'token-file': { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  resync: { type: 'string' },
  address: { type: 'string' },
  port: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Every flag romana-aws accepts (without "--"); the deploy tests check manifests against it. */
export const AWS_FLAGS: readonly string[] = Object.freeze(Object.keys(AWS_OPTIONS));

export const AWS_DEFAULTS = Object.freeze({ resyncMs: 60_000, address: '0.0.0.0', port: 9608 });

export const AWS_USAGE = `Usage: romana-aws [flags]

Turns EC2 Source/Dest-Check off on the instance of every Romana host (the
daemon's hosts; instance from the host's provider-ID/instance-id tag or its
private IP), at start, when the daemon reports a host change, and every
--resync. Needs ec2:DescribeInstances and ec2:ModifyInstanceAttribute.

Flags:
  --daemon URL          romana daemon (default ${DEFAULT_DAEMON_URL})
  --token-file FILE     bearer token for the daemon
  --region REGION       AWS region (default $AWS_REGION, else the instance metadata)
  --endpoint URL        EC2 endpoint (VPC endpoint; tests)
  --resync DURATION     reconcile interval (default 60s)
  --address ADDR        /healthz, /status, /metrics listen address (default ${AWS_DEFAULTS.address})
  --port PORT           their port (default ${AWS_DEFAULTS.port}; 0: any)
  --log-level LEVEL     ${LOG_LEVELS.join('|')} (default info)
  -h, --help            this text
`;

export function parseAwsArgs(argv: readonly string[], env: Env = {}): ParseResult<AwsConfig> {
  const problems: string[] = [];
  const r = parse(argv, AWS_OPTIONS, problems);
  if (!r) return { kind: 'error', problems };
  const v = r.values;
  if (v.help) return { kind: 'help' };
  if (r.positionals.length > 0) problems.push(`unexpected argument ${JSON.stringify(r.positionals[0])}`);
  const c = common(v, env, problems);
  const config: AwsConfig = Object.freeze({
    ...c,
    daemon: (v.daemon as string | undefined) ?? DEFAULT_DAEMON_URL,
    tokenFile: (v['token-file'] as string | undefined) ?? null,
    resyncMs: duration(v, 'resync', AWS_DEFAULTS.resyncMs, 1000, 86_400_000, problems),
    address: (v.address as string | undefined) ?? AWS_DEFAULTS.address,
    port: port(v, 'port', AWS_DEFAULTS.port, problems),
  });
  return problems.length > 0 ? { kind: 'error', problems } : { kind: 'config', config };
}

// ---------- romana-vpcrouter ----------

export type HealthMode = 'icmpecho' | 'tcp';

export interface VpcRouterConfig extends Common {
  /** Spec source: the daemon unless --topology is given. */
  readonly daemon: string | null;
  readonly tokenFile: string | null;
  readonly topologyFile: string | null;
  readonly hostsFile: string | null;
  readonly vpc: string | null;
  readonly ignoreRoutes: readonly string[];
  readonly recheckMs: number;
  readonly address: string;
  readonly port: number;
  readonly health: HealthMode;
  readonly icmpIntervalMs: number;
  readonly tcpPort: number;
  readonly tcpIntervalMs: number;
  readonly routeLimit: number;
  readonly dryRun: boolean;
  readonly format: 'table' | 'json';
}

const VPC_OPTIONS = {
  daemon: { type: 'string' },
  'token-file': { type: 'string' },
  topology: { type: 'string' },
  hosts: { type: 'string' },
  region: { type: 'string', short: 'r' },
  vpc: { type: 'string', short: 'v' },
  endpoint: { type: 'string' },
  'ignore-routes': { type: 'string' },
  'route-recheck-interval': { type: 'string' },
  address: { type: 'string', short: 'a' },
  port: { type: 'string', short: 'p' },
  health: { type: 'string', short: 'H' },
  'icmp-check-interval': { type: 'string' },
  'tcp-check-port': { type: 'string' },
  'tcp-check-interval': { type: 'string' },
  'route-limit': { type: 'string' },
  'dry-run': { type: 'boolean' },
  format: { type: 'string', short: 'f' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Every flag romana-vpcrouter accepts (without "--"); the deploy tests check manifests against it. */
export const VPCROUTER_FLAGS: readonly string[] = Object.freeze(Object.keys(VPC_OPTIONS));

export const VPCROUTER_DEFAULTS = Object.freeze({
  recheckMs: 30_000,
  address: '0.0.0.0',
  port: 33289,
  health: 'icmpecho' as HealthMode,
  icmpIntervalMs: 2000,
  tcpPort: 22,
  tcpIntervalMs: 2000,
  routeLimit: 50,
});

export const VPCROUTER_USAGE = `Usage: romana-vpcrouter [flags]
       romana-vpcrouter spec [--topology FILE|NAME --hosts FILE | --daemon URL] [-f json]

Keeps the VPC route tables of the cluster's subnets pointing each prefix
group's CIDR at a healthy host of that group (route spec {cidr: [host IPs]}
from the daemon's topology and hosts). "spec" prints that spec and the
routes per route table without calling AWS; with -f json it prints
{"routes": {"<cidr>": ["<host ip>", ...]}}.

Flags:
  --daemon URL                    romana daemon, the spec source (default ${DEFAULT_DAEMON_URL})
  --token-file FILE               bearer token for the daemon
  --topology FILE|NAME            spec from a topology file (or built-in name) ...
  --hosts FILE                    ... and a JSON list of {name, ip, tags} (POST /hosts shape)
  -r, --region REGION             AWS region (default $AWS_REGION, else the instance metadata)
  -v, --vpc VPC-ID                VPC (default: the VPC of the routers' instances)
  --endpoint URL                  EC2 endpoint (VPC endpoint; tests)
  --ignore-routes CIDR[,CIDR]     never touch these routes (0.0.0.0/0 matches only the default route)
  --route-recheck-interval DUR    full re-check interval (default 30s)
  -a, --address ADDR              status server address (default ${VPCROUTER_DEFAULTS.address})
  -p, --port PORT                 status server port: /healthz /status /metrics (default ${VPCROUTER_DEFAULTS.port}; 0: any)
  -H, --health MODE               icmpecho (system ping) or tcp (default icmpecho)
  --icmp-check-interval DUR       ping interval (default 2s; timeout 0.75 x interval)
  --tcp-check-port PORT           TCP health port (default 22)
  --tcp-check-interval DUR        TCP check interval (default 2s)
  --route-limit N                 routes per table before a warning (default 50, the VPC default limit)
  --dry-run                       log the CreateRoute/ReplaceRoute/DeleteRoute calls, make none
  -f, --format table|json         output of "spec" (default table)
  --log-level LEVEL               ${LOG_LEVELS.join('|')} (default info)
  -h, --help                      this text
`;

export function parseVpcRouterArgs(argv: readonly string[], env: Env = {}): ParseResult<VpcRouterConfig> & { command?: 'run' | 'spec' } {
  const problems: string[] = [];
  const r = parse(argv, VPC_OPTIONS, problems);
  if (!r) return { kind: 'error', problems };
  const v = r.values;
  if (v.help) return { kind: 'help' };
  let command: 'run' | 'spec' = 'run';
  const pos = [...r.positionals];
  if (pos[0] === 'spec') {
    command = 'spec';
    pos.shift();
  }
  if (pos.length > 0) problems.push(`unexpected argument ${JSON.stringify(pos[0])}`);
  const c = common(v, env, problems);
  const topologyFile = (v.topology as string | undefined) ?? null;
  const hostsFile = (v.hosts as string | undefined) ?? null;
  if ((topologyFile === null) !== (hostsFile === null)) problems.push('--topology and --hosts go together');
  if (topologyFile !== null && v.daemon !== undefined) problems.push('--daemon and --topology/--hosts are alternative spec sources: give one');
  const ignoreRoutes: string[] = [];
  for (const t of ((v['ignore-routes'] as string | undefined) ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const p = parseCidr4(t);
    if (!p.ok) problems.push(`--ignore-routes ${JSON.stringify(t)}: ${p.reason}`);
    else ignoreRoutes.push(normCidr(t));
  }
  const health = (v.health as string | undefined) ?? VPCROUTER_DEFAULTS.health;
  if (health !== 'icmpecho' && health !== 'tcp') problems.push(`--health ${JSON.stringify(health)} must be icmpecho or tcp`);
  const format = (v.format as string | undefined) ?? 'table';
  if (format !== 'table' && format !== 'json') problems.push(`-f/--format ${JSON.stringify(format)} must be "table" or "json"`);
  const vpc = (v.vpc as string | undefined) ?? null;
  if (vpc !== null && !/^vpc-[0-9a-f]+$/.test(vpc)) problems.push(`--vpc ${JSON.stringify(vpc)} is not a VPC id`);
  const limitText = v['route-limit'] as string | undefined;
  const routeLimit = limitText === undefined ? VPCROUTER_DEFAULTS.routeLimit : Number(limitText);
  if (!Number.isInteger(routeLimit) || routeLimit < 1 || routeLimit > 1000) problems.push(`--route-limit ${JSON.stringify(limitText)} must be an integer 1-1000`);
  const config: VpcRouterConfig = Object.freeze({
    ...c,
    daemon: topologyFile === null ? ((v.daemon as string | undefined) ?? DEFAULT_DAEMON_URL) : null,
    tokenFile: (v['token-file'] as string | undefined) ?? null,
    topologyFile,
    hostsFile,
    vpc,
    ignoreRoutes: Object.freeze(ignoreRoutes),
    recheckMs: duration(v, 'route-recheck-interval', VPCROUTER_DEFAULTS.recheckMs, 1000, 86_400_000, problems),
    address: (v.address as string | undefined) ?? VPCROUTER_DEFAULTS.address,
    port: port(v, 'port', VPCROUTER_DEFAULTS.port, problems),
    health: health as HealthMode,
    // The original allows 1 s to 1 h; shorter intervals (from 100 ms) serve tests and small labs.
    icmpIntervalMs: duration(v, 'icmp-check-interval', VPCROUTER_DEFAULTS.icmpIntervalMs, 100, 3_600_000, problems),
    tcpPort: port(v, 'tcp-check-port', VPCROUTER_DEFAULTS.tcpPort, problems, false),
    tcpIntervalMs: duration(v, 'tcp-check-interval', VPCROUTER_DEFAULTS.tcpIntervalMs, 100, 3_600_000, problems),
    routeLimit,
    dryRun: v['dry-run'] === true,
    format: format as 'table' | 'json',
  });
  return problems.length > 0 ? { kind: 'error', problems } : { kind: 'config', config, command };
}

