/**
 * romana-agent configuration: flags (and the environment variables the
 * original's DaemonSet set) parsed once, validated, defaulted in one place
 * and frozen (STYLE §6).
 *
 * Design: `parseAgentArgs(argv, env, host)` is pure — the environment and
 * the machine's host name are passed in — and returns either a frozen
 * AgentConfig or every problem, each naming the flag and the value.
 * Boolean flags take `--x`, `--x=true|false` or `--no-x`.
 *
 * Owned marks (STYLE 2), all configurable, documented in USAGE:
 *   routing table 10 (the original's), route protocol 88 (unassigned in
 *   /etc/iproute2/rt_protos; marks every route the agent owns), ip rule
 *   priority 32765 (just before main's 32766, where the original's rule
 *   landed).
 */
import { formatCidr, parseCidr4, parseIPv4 } from '../core/ip.js';
import { isLogLevel, LOG_LEVELS, type LogLevel } from '../shared/log.js';
import { parseDaemonAddress } from '../shared/api_client.js';
import { parseFlags } from '../shared/flags.js';

export type IptablesModeFlag = 'auto' | 'legacy' | 'nft';

export interface AgentConfig {
  readonly nodeName: string;
  readonly nodeIp: string | null;
  /** http://host:port or unix:/path */
  readonly daemon: string;
  readonly token: string | null;
  readonly tokenFile: string | null;
  readonly serviceClusterIpRange: string | null;
  readonly nat: boolean;
  /** null: the MTU of the interface holding the node IP (1500 when unknown). */
  readonly mtu: number | null;
  readonly policies: boolean;
  readonly multihop: boolean;
  readonly routeTable: number;
  readonly routeProto: number;
  readonly routeRulePriority: number;
  readonly healthHost: string;
  /** 0 = any free port (printed in the first log line). */
  readonly healthPort: number;
  readonly healthSocket: string | null;
  readonly installCni: boolean;
  readonly cniBinDir: string;
  readonly cniConfDir: string;
  /** File installed as <cni-bin-dir>/romana; null: the binary is not installed. */
  readonly cniSource: string | null;
  readonly iptablesMode: IptablesModeFlag;
  readonly heartbeatTtlSeconds: number;
  readonly resyncIntervalSeconds: number;
  readonly maxFailures: number;
  readonly logLevel: LogLevel;
  /** --vip-interface: where Romana VIPs this node holds are added; absent = the interface holding --node-ip. */
  readonly vipInterface?: string;
}

export const AGENT_DEFAULTS = Object.freeze({
  daemon: 'http://127.0.0.1:9600',
  nat: true,
  policies: true,
  multihop: false,
  routeTable: 10,
  routeProto: 88,
  routeRulePriority: 32765,
  healthHost: '127.0.0.1',
  healthPort: 9607,
  installCni: true,
  cniBinDir: '/opt/cni/bin',
  cniConfDir: '/etc/cni/net.d',
  iptablesMode: 'auto' as IptablesModeFlag,
  heartbeatTtlSeconds: 15,
  resyncIntervalSeconds: 30,
  maxFailures: 10,
  logLevel: 'info' as LogLevel,
});

export const AGENT_USAGE = `Usage: romana-agent [flags]

The Romana node agent: follows the daemon, programs this node's routes to
other hosts' blocks (table ${AGENT_DEFAULTS.routeTable}, proto ${AGENT_DEFAULTS.routeProto}), the policy firewall (iptables +
ipset, ROMANA- chains and romana- sets only), pod masquerading, and installs
the CNI plugin. Serves /healthz, /readyz, /metrics and POST /sync on
${AGENT_DEFAULTS.healthHost}:--health-port.

Flags (environment variable in brackets):
  --node-name NAME                this node's host name in Romana [NODENAME] (default: hostname)
  --node-ip IP                    this node's address [NODEIP]
  --daemon URL                    http://host:port or unix:/path [ROMANA_DAEMON] (default ${AGENT_DEFAULTS.daemon})
  --token TOKEN                   daemon bearer token (role agent) [ROMANA_TOKEN]
  --token-file FILE               file holding the token (first line)
  --service-cluster-ip-range CIDR refuse pod networks overlapping it (default from
                                  KUBERNETES_SERVICE_HOST: 10.96.0.1 -> 10.96.0.0/12,
                                  100.64.0.1 -> 100.64.0.0/13)
  --nat[=BOOL]                    masquerade pod traffic leaving the pod networks
                                  (nat chain ROMANA-MASQ; default true; --no-nat)
  --mtu N                         pod veth MTU written to the CNI config (default:
                                  the MTU of the interface holding --node-ip, else 1500)
  --policies[=BOOL]               enforce network policies (default true)
  --multihop[=BOOL]               also route blocks of hosts that are not on a shared
                                  link, via the gateway that reaches them (default false:
                                  such hosts are left to BGP / the ToR, as in Romana)
  --route-table N                 owned routing table (default ${AGENT_DEFAULTS.routeTable})
  --route-proto N                 protocol number marking owned routes, 5-255
                                  (default ${AGENT_DEFAULTS.routeProto}, unassigned in rt_protos)
  --route-rule-priority N         priority of "ip rule lookup <table>", below main's
                                  32766 (default ${AGENT_DEFAULTS.routeRulePriority})
  --health-port N                 port of /healthz /readyz /metrics /sync on
                                  ${AGENT_DEFAULTS.healthHost}; 0 = any free port (default ${AGENT_DEFAULTS.healthPort})
  --health-socket PATH            also serve them on this unix socket
  --install-cni[=BOOL]            install the CNI binary and conflist (default true)
  --cni-bin-dir DIR               (default ${AGENT_DEFAULTS.cniBinDir})
  --cni-conf-dir DIR              (default ${AGENT_DEFAULTS.cniConfDir})
  --cni-source FILE               romana-cni file to install as <cni-bin-dir>/romana
                                  (default: none, the binary is not installed)
  --iptables-mode auto|legacy|nft which iptables backend (default auto: detected,
                                  never mixed)
  --heartbeat-ttl SECONDS         lease TTL, renewed every TTL/3 (default ${AGENT_DEFAULTS.heartbeatTtlSeconds})
  --resync-interval SECONDS       re-read kernel state and re-apply this often (default ${AGENT_DEFAULTS.resyncIntervalSeconds})
  --max-failures N                apply passes failing in a row before exiting non-zero
                                  with a dump (fail closed; default ${AGENT_DEFAULTS.maxFailures})
  --log-level LEVEL               ${LOG_LEVELS.join('|')} (default ${AGENT_DEFAULTS.logLevel})
  --vip-interface IF              interface for the Romana VIPs this node holds (/32,
                                  gratuitous ARP; default: the interface holding --node-ip;
                                  a short --heartbeat-ttl, e.g. 2, makes VIP failover fast)
  -h, --help                      print this help
`;

export type AgentParseResult =
  | { readonly kind: 'config'; readonly config: AgentConfig }
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly problems: readonly string[] };

const BOOL_FLAGS = ['nat', 'policies', 'multihop', 'install-cni'] as const;

const OPTIONS = {
  'node-name': { type: 'string' },
  'node-ip': { type: 'string' },
  daemon: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  'service-cluster-ip-range': { type: 'string' },
  nat: { type: 'string' },
  mtu: { type: 'string' },
  policies: { type: 'string' },
  multihop: { type: 'string' },
  'route-table': { type: 'string' },
  'route-proto': { type: 'string' },
  'route-rule-priority': { type: 'string' },
  'health-port': { type: 'string' },
  'health-socket': { type: 'string' },
  'install-cni': { type: 'string' },
  'cni-bin-dir': { type: 'string' },
  'cni-conf-dir': { type: 'string' },
  'cni-source': { type: 'string' },
  'iptables-mode': { type: 'string' },
  'heartbeat-ttl': { type: 'string' },
  'resync-interval': { type: 'string' },
  'max-failures': { type: 'string' },
  'log-level': { type: 'string' },
  'vip-interface': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Name = keyof typeof OPTIONS;
const q = (v: string): string => JSON.stringify(v);

/** `--x` → `--x=true`, `--no-x` → `--x=false` for the boolean flags. */
function normaliseBooleans(argv: readonly string[]): string[] {
  return argv.map((a) => {
    for (const f of BOOL_FLAGS) {
      if (a === `--${f}`) return `--${f}=true`;
      if (a === `--no-${f}`) return `--${f}=false`;
    }
    return a;
  });
}

/** The original's default service range from the in-cluster API address (reference §4.1). */
export function serviceRangeFromEnv(env: Readonly<Record<string, string | undefined>>): string | null {
  const h = env.KUBERNETES_SERVICE_HOST;
  if (h === '10.96.0.1') return '10.96.0.0/12';
  if (h === '100.64.0.1') return '100.64.0.0/13';
  return null;
}

export function parseAgentArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}, hostname = 'localhost'): AgentParseResult {
  const parsed = parseFlags(normaliseBooleans(argv), OPTIONS);
  if (!parsed.ok) return { kind: 'error', problems: [parsed.problem] };
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const positionals = parsed.positionals;
  if (values.help) return { kind: 'help' };
  const problems: string[] = [];
  if (positionals.length > 0) problems.push(`unexpected argument ${q(positionals[0]!)}: romana-agent takes only flags (boolean flags as --x=false; see --help)`);
  const str = (name: Name, envName?: string): string | undefined => {
    const v = (values[name] as string | undefined) ?? (envName === undefined ? undefined : env[envName]);
    if (v !== undefined && v.trim() === '') {
      problems.push(`invalid --${name} ${q(v)}: must not be empty`);
      return undefined;
    }
    return v;
  };
  const bool = (name: Name, def: boolean): boolean => {
    const v = str(name);
    if (v === undefined) return def;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    problems.push(`invalid --${name} ${q(v)}: must be true or false`);
    return def;
  };
  const int = (name: Name, def: number, min: number, max: number, extra = ''): number => {
    const v = str(name);
    if (v === undefined) return def;
    if (!/^\d{1,10}$/.test(v) || Number(v) < min || Number(v) > max) {
      problems.push(`invalid --${name} ${q(v)}: must be an integer ${min}-${max}${extra}`);
      return def;
    }
    return Number(v);
  };

  const nodeName = str('node-name', 'NODENAME') ?? hostname;
  if (/\s|\//.test(nodeName)) problems.push(`invalid --node-name ${q(nodeName)}: must be a host name`);
  const nodeIp = str('node-ip', 'NODEIP') ?? null;
  if (nodeIp !== null && parseIPv4(nodeIp) === null) problems.push(`invalid --node-ip ${q(nodeIp)}: must be an IPv4 address`);

  const daemon = str('daemon', 'ROMANA_DAEMON') ?? AGENT_DEFAULTS.daemon;
  try {
    const a = parseDaemonAddress(daemon);
    if (a.socketPath === undefined && !/^https?:\/\/[^\s/]+/.test(daemon)) problems.push(`invalid --daemon ${q(daemon)}: must be http://host:port or unix:/path`);
  } catch (e) {
    problems.push(`invalid --daemon ${q(daemon)}: ${(e as Error).message}`);
  }

  const tokenFlag = str('token');
  const tokenFile = str('token-file') ?? null;
  const token = tokenFlag ?? (tokenFile === null ? (env.ROMANA_TOKEN ?? null) : null);
  if (tokenFlag !== undefined && tokenFile !== null) problems.push('conflicting --token and --token-file: give one');

  let serviceClusterIpRange: string | null = serviceRangeFromEnv(env);
  const svc = str('service-cluster-ip-range');
  if (svc !== undefined) {
    const r = parseCidr4(svc);
    if (!r.ok) problems.push(`invalid --service-cluster-ip-range ${q(svc)}: ${r.reason}`);
    else if (r.hostBitsSet) problems.push(`invalid --service-cluster-ip-range ${q(svc)}: host bits set (the network is ${q(formatCidr(r.cidr))})`);
    else serviceClusterIpRange = svc;
  }

  const nat = bool('nat', AGENT_DEFAULTS.nat);
  const mtuText = str('mtu');
  const mtu = mtuText === undefined ? null : int('mtu', 1500, 576, 65535);
  const policies = bool('policies', AGENT_DEFAULTS.policies);
  const multihop = bool('multihop', AGENT_DEFAULTS.multihop);
  const routeTable = int('route-table', AGENT_DEFAULTS.routeTable, 1, 252, ' (253-255 are the kernel\'s default, main and local tables)');
  const routeProto = int('route-proto', AGENT_DEFAULTS.routeProto, 5, 255, ' (0-4 are reserved by the kernel)');
  const routeRulePriority = int('route-rule-priority', AGENT_DEFAULTS.routeRulePriority, 1, 32765, ' (it must come before main at 32766)');
  const healthPort = int('health-port', AGENT_DEFAULTS.healthPort, 0, 65535);
  const healthSocket = str('health-socket') ?? null;
  const installCni = bool('install-cni', AGENT_DEFAULTS.installCni);
  const cniBinDir = str('cni-bin-dir') ?? AGENT_DEFAULTS.cniBinDir;
  const cniConfDir = str('cni-conf-dir') ?? AGENT_DEFAULTS.cniConfDir;
  const cniSource = str('cni-source') ?? null;

  let iptablesMode = AGENT_DEFAULTS.iptablesMode;
  const im = str('iptables-mode');
  if (im !== undefined) {
    if (im !== 'auto' && im !== 'legacy' && im !== 'nft') problems.push(`invalid --iptables-mode ${q(im)}: must be auto, legacy or nft`);
    else iptablesMode = im;
  }
  const heartbeatTtlSeconds = int('heartbeat-ttl', AGENT_DEFAULTS.heartbeatTtlSeconds, 2, 300);
  const resyncIntervalSeconds = int('resync-interval', AGENT_DEFAULTS.resyncIntervalSeconds, 1, 86400);
  const maxFailures = int('max-failures', AGENT_DEFAULTS.maxFailures, 1, 1000);

  let logLevel = AGENT_DEFAULTS.logLevel;
  const lvl = str('log-level');
  if (lvl !== undefined) {
    if (!isLogLevel(lvl)) problems.push(`invalid --log-level ${q(lvl)}: must be one of ${LOG_LEVELS.join(', ')}`);
    else logLevel = lvl;
  }

  const vipInterface = str('vip-interface');
  // IFNAMSIZ is 16 with the NUL; the owned-address label "<if>:rv" must fit it too.
  if (vipInterface !== undefined && !/^[^\s/:]{1,12}$/.test(vipInterface)) {
    problems.push(`invalid --vip-interface ${q(vipInterface)}: must be an interface name of at most 12 characters`);
  }

  if (problems.length > 0) return { kind: 'error', problems };
  return {
    kind: 'config',
    config: Object.freeze({
      nodeName,
      nodeIp,
      daemon,
      token,
      tokenFile,
      serviceClusterIpRange,
      nat,
      mtu,
      policies,
      multihop,
      routeTable,
      routeProto,
      routeRulePriority,
      healthHost: AGENT_DEFAULTS.healthHost,
      healthPort,
      healthSocket,
      installCni,
      cniBinDir,
      cniConfDir,
      cniSource,
      iptablesMode,
      heartbeatTtlSeconds,
      resyncIntervalSeconds,
      maxFailures,
      logLevel,
      vipInterface,
    }),
  };
}
