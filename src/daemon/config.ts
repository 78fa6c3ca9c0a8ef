/**
 * romana-daemon configuration: command-line flags parsed once, validated,
 * defaulted in one place and frozen (STYLE §6).
 *
 * Design: `parseDaemonArgs(argv)` is pure — it never reads files or the
 * environment — and returns either a frozen DaemonConfig or every problem,
 * each naming the flag and the value, which main.ts prints as one line
 * before exiting with status 2. Files named by flags (--initial-network,
 * --token-file) are read at start-up by their own modules; their errors are
 * reported the same way.
 *
 * Flags (defaults in DEFAULTS):
 *   --host, --port, --data-dir, --etcd-endpoints, --etcd-prefix,
 *   --initial-network FILE, --network-cidr-overrides name=CIDR,...,
 *   --cloud aws, --aws-region REGION, --service-cluster-ip-range CIDR,
 *   --token-file FILE, --log-level LEVEL, --watch-buffer-bytes N,
 *   --socket PATH (also serve on a unix socket), --vip-pool CIDR (addresses
 *   for `auto` Romana VIPs), --help.
 */
import { formatCidr, parseCidr4 } from '../core/ip.js';
import { parseNetworkCidrOverrides } from '../core/topology/index.js';
import { DEFAULT_DATA_DIR, parseEndpoints } from '../store/open.js';
import { DEFAULT_STORE_PREFIX } from '../store/store.js';
import { isLogLevel, LOG_LEVELS, type LogLevel } from '../shared/log.js';
import { parseFlags } from '../shared/flags.js';

export interface DaemonConfig {
  readonly host: string;
  /** True when --host was given (a non-loopback default-less bind is then the operator's choice). */
  readonly hostGiven: boolean;
  /** 0 = any free port (the listening log line says which). */
  readonly port: number;
  readonly dataDir: string;
  /** Non-empty selects the etcd store. */
  readonly etcdEndpoints: readonly string[];
  readonly etcdPrefix: string;
  readonly initialNetwork: string | null;
  /** network name -> CIDR */
  readonly networkCidrOverrides: ReadonlyMap<string, string>;
  readonly cloud: 'aws' | null;
  /** With --cloud=aws: the region instead of asking the EC2 metadata service. */
  readonly awsRegion: string | null;
  readonly serviceClusterIpRange: string | null;
  readonly tokenFile: string | null;
  readonly logLevel: LogLevel;
  /** Bytes a /watch client may leave unread before its stream is ended (see watch_stream.ts). */
  readonly watchBufferBytes: number;
  /** Unix socket path served in addition to host:port, or null. */
  readonly socket: string | null;
  /** --publisher: romana-publisher run flags for an embedded route publisher, or null (validated by run.ts). */
  readonly publisher: string | null;
  /** --vip-pool: where `auto` Romana VIPs take their addresses, or null (auto VIPs are refused). Optional for configs built by hand. */
  readonly vipPool?: string | null;
}

export const DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 9600,
  dataDir: DEFAULT_DATA_DIR,
  etcdPrefix: DEFAULT_STORE_PREFIX,
  logLevel: 'info' as LogLevel,
  watchBufferBytes: 4 * 1024 * 1024,
});

export const USAGE = `Usage: romana-daemon [flags]

The Romana daemon: REST API on :9600, IPAM authority, topology, hosts,
tenants/segments and policies. Stores its state in an embedded database
(--data-dir) or in etcd (--etcd-endpoints).

Flags:
  --host ADDR                     address to listen on (default ${DEFAULTS.host})
  --port N                        port to listen on, 0 = any (default ${DEFAULTS.port})
  --data-dir DIR                  embedded store directory (default ${DEFAULTS.dataDir})
  --etcd-endpoints URL[,URL...]   use etcd v3 at these endpoints instead of the embedded store
  --etcd-prefix PREFIX            key prefix in the store (default ${DEFAULTS.etcdPrefix})
  --initial-network FILE          topology to install when the store holds none
  --network-cidr-overrides name=CIDR[,name=CIDR...]
                                  replace network CIDRs of the initial topology
  --cloud aws                     initial topology: built-in aws-<region> (region from EC2 metadata)
  --aws-region REGION             with --cloud=aws: use this region instead of asking EC2 metadata
  --service-cluster-ip-range CIDR Kubernetes service range; no pod network may overlap it
  --token-file FILE               require bearer tokens: one "<token> <role>" per line
                                  (roles: admin, agent, read-only; # comments)
  --log-level LEVEL               ${LOG_LEVELS.join('|')} (default ${DEFAULTS.logLevel})
  --watch-buffer-bytes N          unread bytes a /watch client may lag before its stream
                                  is ended (default ${DEFAULTS.watchBufferBytes})
  --socket PATH                   also serve the API on this unix socket (agents in
                                  network namespaces use it: --daemon unix:PATH)
  --publisher "FLAGS"             also run the route publisher in this process, with these
                                  romana-publisher flags (--daemon defaults to this daemon,
                                  no health server unless --health-port)
  --vip-pool CIDR                 addresses for Romana VIPs annotated {"auto": true}
  -h, --help                      print this help

Without --initial-network or --cloud the built-in "kubeadm" topology
(10.112.0.0/12) is used when the store holds none.
`;

export type ParseResult =
  | { readonly kind: 'config'; readonly config: DaemonConfig }
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly problems: readonly string[] };

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  'etcd-endpoints': { type: 'string' },
  'etcd-prefix': { type: 'string' },
  'initial-network': { type: 'string' },
  'network-cidr-overrides': { type: 'string' },
  cloud: { type: 'string' },
  'aws-region': { type: 'string' },
  'service-cluster-ip-range': { type: 'string' },
  'token-file': { type: 'string' },
  'log-level': { type: 'string' },
  'watch-buffer-bytes': { type: 'string' },
  socket: { type: 'string' },
  publisher: { type: 'string' },
  'vip-pool': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const AWS_REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const q = (v: string): string => JSON.stringify(v);

export function parseDaemonArgs(argv: readonly string[]): ParseResult {
  const parsed = parseFlags([...argv], OPTIONS);
  if (!parsed.ok) return { kind: 'error', problems: [parsed.problem] };
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const positionals = parsed.positionals;
  if (values.help) return { kind: 'help' };
  const problems: string[] = [];
  if (positionals.length > 0) problems.push(`unexpected argument ${q(positionals[0]!)}: romana-daemon takes only flags (see --help)`);
  const str = (name: keyof typeof OPTIONS): string | undefined => values[name] as string | undefined;
  const nonEmpty = (name: keyof typeof OPTIONS): string | undefined => {
    const v = str(name);
    if (v !== undefined && v.trim() === '') {
      problems.push(`invalid --${name} ${q(v)}: must not be empty`);
      return undefined;
    }
    return v;
  };

  const host = nonEmpty('host') ?? DEFAULTS.host;
  if (/\s/.test(host)) problems.push(`invalid --host ${q(host)}: must be an address or host name without spaces`);

  let port: number = DEFAULTS.port;
  const portText = str('port');
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) problems.push(`invalid --port ${q(portText)}: must be an integer 0-65535`);
    else port = Number(portText);
  }

  const dataDir = nonEmpty('data-dir') ?? DEFAULTS.dataDir;

  const endpointsText = str('etcd-endpoints');
  const etcdEndpoints = parseEndpoints(endpointsText);
  if (endpointsText !== undefined && etcdEndpoints.length === 0) problems.push(`invalid --etcd-endpoints ${q(endpointsText)}: no endpoint given`);
  for (const e of etcdEndpoints) {
    if (!/^(https?:\/\/)?[^\s/:]+:\d{1,5}\/?$/.test(e)) {
      problems.push(`invalid --etcd-endpoints entry ${q(e)}: must be http://host:port (or host:port)`);
    }
  }

  const etcdPrefix = nonEmpty('etcd-prefix') ?? DEFAULTS.etcdPrefix;
  if (/\s/.test(etcdPrefix)) problems.push(`invalid --etcd-prefix ${q(etcdPrefix)}: must not contain spaces`);

  const initialNetwork = nonEmpty('initial-network') ?? null;

  let networkCidrOverrides: ReadonlyMap<string, string> = new Map();
  const ovText = str('network-cidr-overrides');
  if (ovText !== undefined) {
    const r = parseNetworkCidrOverrides(ovText);
    if (r.ok) networkCidrOverrides = r.overrides;
    else for (const p of r.problems) problems.push(`invalid --network-cidr-overrides ${q(ovText)}: ${p.message}`);
  }

  let cloud: 'aws' | null = null;
  const cloudText = str('cloud');
  if (cloudText !== undefined) {
    if (cloudText !== 'aws') problems.push(`invalid --cloud ${q(cloudText)}: the only supported cloud is "aws"`);
    else cloud = 'aws';
  }
  const awsRegion = nonEmpty('aws-region') ?? null;
  if (awsRegion !== null) {
    if (cloudText === undefined) problems.push(`invalid --aws-region ${q(awsRegion)}: it only applies with --cloud=aws`);
    if (!AWS_REGION_RE.test(awsRegion)) problems.push(`invalid --aws-region ${q(awsRegion)}: must look like "us-east-1"`);
  }
  if (initialNetwork !== null && cloudText !== undefined) {
    problems.push(`conflicting --initial-network ${q(initialNetwork)} and --cloud ${q(cloudText)}: give one source for the initial topology`);
  }

  let serviceClusterIpRange: string | null = null;
  const svc = str('service-cluster-ip-range');
  if (svc !== undefined) {
    const r = parseCidr4(svc);
    if (!r.ok) problems.push(`invalid --service-cluster-ip-range ${q(svc)}: ${r.reason}`);
    else if (r.hostBitsSet) problems.push(`invalid --service-cluster-ip-range ${q(svc)}: host bits set (the network is ${q(formatCidr(r.cidr))})`);
    else serviceClusterIpRange = svc;
  }

  const tokenFile = nonEmpty('token-file') ?? null;

  let logLevel = DEFAULTS.logLevel;
  const lvl = str('log-level');
  if (lvl !== undefined) {
    if (!isLogLevel(lvl)) problems.push(`invalid --log-level ${q(lvl)}: must be one of ${LOG_LEVELS.join(', ')}`);
    else logLevel = lvl;
  }

  let watchBufferBytes: number = DEFAULTS.watchBufferBytes;
  const wb = str('watch-buffer-bytes');
  if (wb !== undefined) {
    if (!/^\d{1,12}$/.test(wb) || Number(wb) < 1024) problems.push(`invalid --watch-buffer-bytes ${q(wb)}: must be an integer >= 1024`);
    else watchBufferBytes = Number(wb);
  }

  const socket = nonEmpty('socket') ?? null;
  // sockaddr_un holds 108 bytes including the terminating NUL.
  if (socket !== null && Buffer.byteLength(socket) > 107) problems.push(`invalid --socket ${q(socket)}: longer than 107 bytes (the unix socket limit)`);

  let vipPool: string | null = null;
  const vp = str('vip-pool');
  if (vp !== undefined) {
    const r = parseCidr4(vp);
    if (!r.ok) problems.push(`invalid --vip-pool ${q(vp)}: ${r.reason}`);
    else if (r.hostBitsSet) problems.push(`invalid --vip-pool ${q(vp)}: host bits set (the network is ${q(formatCidr(r.cidr))})`);
    else vipPool = vp;
  }

  if (problems.length > 0) return { kind: 'error', problems };
  const config: DaemonConfig = Object.freeze({
    host,
    hostGiven: str('host') !== undefined,
    port,
    dataDir,
    etcdEndpoints: Object.freeze([...etcdEndpoints]),
    etcdPrefix,
    initialNetwork,
    networkCidrOverrides,
    cloud,
    awsRegion,
    serviceClusterIpRange,
    tokenFile,
    logLevel,
    watchBufferBytes,
    socket,
    publisher: str('publisher') ?? null,
    vipPool,
  });
  return { kind: 'config', config };
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
