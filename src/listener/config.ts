/**
 * romana-listener configuration: flags parsed once, validated, defaulted in
 * one place and frozen (STYLE §6).
 *
 * Design: `parseListenerArgs(argv)` is pure (no files, no environment) and
 * returns a frozen config, `help`, or every problem naming its flag; main
 * prints problems on one line and exits 2. LISTENER_FLAGS is exported so
 * the deploy tests can check manifests against it as well as `--help`.
 *
 * Durations: "500ms", "30s", "5m", "1h", or a bare number of seconds.
 */
import { DEFAULT_DAEMON_URL } from '../shared/api_client.js';
import { isLogLevel, LOG_LEVELS, type LogLevel } from '../shared/log.js';
import { DEFAULT_SEGMENT_LABEL } from './translate.js';
import { parseFlags } from '../shared/flags.js';

export interface ListenerConfig {
  readonly daemon: string;
  readonly token: string | null;
  readonly tokenFile: string | null;
  /** null: --server, else in-cluster, else the default kubeconfig. */
  readonly kubeconfig: string | null;
  /** Kubernetes API URL without credentials (tests, kubectl proxy). */
  readonly server: string | null;
  readonly resyncMs: number;
  readonly nodeGraceMs: number;
  readonly leakGraceMs: number;
  readonly releaseLeaked: boolean;
  readonly segmentLabel: string;
  /** 0 = any free port (logged). */
  readonly healthPort: number;
  readonly healthHost: string;
  readonly logLevel: LogLevel;
}

export const LISTENER_DEFAULTS = Object.freeze({
  daemon: DEFAULT_DAEMON_URL,
  resyncMs: 30_000,
  nodeGraceMs: 5 * 60_000,
  leakGraceMs: 10 * 60_000,
  segmentLabel: DEFAULT_SEGMENT_LABEL,
  // The original listener's port (reference §0).
  healthPort: 9602,
  healthHost: '0.0.0.0',
  logLevel: 'info' as LogLevel,
});

const OPTIONS = {
  daemon: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  kubeconfig: { type: 'string' },
  server: { type: 'string' },
  resync: { type: 'string' },
  'node-grace': { type: 'string' },
  'leak-grace': { type: 'string' },
  'release-leaked': { type: 'boolean' },
  'segment-label': { type: 'string' },
  'health-port': { type: 'string' },
  'health-host': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Every flag romana-listener accepts (without the leading "--"). */
export const LISTENER_FLAGS: readonly string[] = Object.freeze(Object.keys(OPTIONS));

export const USAGE = `Usage: romana-listener [flags]

Watches the Kubernetes API and keeps Romana in step through the daemon:
nodes -> hosts, namespaces -> tenants, pods -> endpoints, NetworkPolicies ->
policies, Services with the romanaip/romanavip annotation -> VIPs (logged).
Reports (and with --release-leaked releases) IPAM addresses of gone pods.

Flags:
  --daemon URL            romana daemon, http://host:port or unix:/path (default ${LISTENER_DEFAULTS.daemon})
  --token TOKEN           daemon bearer token (role admin)
  --token-file FILE       file holding the token (first line)
  --kubeconfig FILE       kubeconfig to use (default: in-cluster, else ~/.kube/config)
  --server URL            Kubernetes API URL, no credentials (tests, kubectl proxy)
  --resync DURATION       full reconcile and leak scan period (default 30s)
  --node-grace DURATION   a deleted node's host (and its blocks) is removed after this (default 5m)
  --leak-grace DURATION   an address whose pod is gone this long is reported (default 10m)
  --release-leaked        also release leaked addresses
  --segment-label KEY     pod label naming the Romana segment (default ${LISTENER_DEFAULTS.segmentLabel})
  --health-port N         port of /healthz /readyz /metrics, 0 = any (default ${LISTENER_DEFAULTS.healthPort})
  --health-host ADDR      address for that port (default ${LISTENER_DEFAULTS.healthHost})
  --log-level LEVEL       ${LOG_LEVELS.join('|')} (default ${LISTENER_DEFAULTS.logLevel})
  -h, --help              print this help

Durations: 500ms, 30s, 5m, 1h, or a number of seconds.
`;

export type ParseResult =
  | { readonly kind: 'config'; readonly config: ListenerConfig }
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly problems: readonly string[] };

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds for "500ms" / "30s" / "5m" / "1h" / "30"; null when malformed. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!);
}

const q = (v: string): string => JSON.stringify(v);

export function parseListenerArgs(argv: readonly string[]): ParseResult {
  const parsed = parseFlags([...argv], OPTIONS);
  if (!parsed.ok) return { kind: 'error', problems: [parsed.problem] };
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const positionals = parsed.positionals;
  if (values.help) return { kind: 'help' };
  const problems: string[] = [];
  if (positionals.length > 0) problems.push(`unexpected argument ${q(positionals[0]!)}: romana-listener takes only flags (see --help)`);
  const str = (name: keyof typeof OPTIONS): string | undefined => {
    const v = values[name] as string | undefined;
    if (v !== undefined && v.trim() === '') {
      problems.push(`invalid --${name} ${q(v)}: must not be empty`);
      return undefined;
    }
    return v;
  };
  const duration = (name: keyof typeof OPTIONS, dflt: number, min: number): number => {
    const v = str(name);
    if (v === undefined) return dflt;
    const ms = parseDuration(v);
    if (ms === null || ms < min) {
      problems.push(`invalid --${name} ${q(v)}: must be a duration of at least ${min} ms (e.g. 30s, 5m)`);
      return dflt;
    }
    return ms;
  };

  const daemon = str('daemon') ?? LISTENER_DEFAULTS.daemon;
  if (!/^(https?:\/\/|unix:)/.test(daemon)) problems.push(`invalid --daemon ${q(daemon)}: must be http://host:port, https://… or unix:/path`);
  const token = str('token') ?? null;
  const tokenFile = str('token-file') ?? null;
  if (token !== null && tokenFile !== null) problems.push('--token and --token-file exclude each other');
  const kubeconfig = str('kubeconfig') ?? null;
  const server = str('server') ?? null;
  if (server !== null && !/^https?:\/\/[^\s]+$/.test(server)) problems.push(`invalid --server ${q(server)}: must be an http(s) URL`);
  if (server !== null && kubeconfig !== null) problems.push('--server and --kubeconfig exclude each other');

  let healthPort: number = LISTENER_DEFAULTS.healthPort;
  const hp = str('health-port');
  if (hp !== undefined) {
    if (!/^\d{1,5}$/.test(hp) || Number(hp) > 65535) problems.push(`invalid --health-port ${q(hp)}: must be an integer 0-65535`);
    else healthPort = Number(hp);
  }
  const logLevel = str('log-level') ?? LISTENER_DEFAULTS.logLevel;
  if (!isLogLevel(logLevel)) problems.push(`invalid --log-level ${q(logLevel)}: must be one of ${LOG_LEVELS.join(', ')}`);
  const segmentLabel = str('segment-label') ?? LISTENER_DEFAULTS.segmentLabel;
  if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(segmentLabel)) {
    problems.push(`invalid --segment-label ${q(segmentLabel)}: must be a Kubernetes label key`);
  }

  const config: ListenerConfig = {
    daemon,
    token,
    tokenFile,
    kubeconfig,
    server,
    resyncMs: duration('resync', LISTENER_DEFAULTS.resyncMs, 100),
    nodeGraceMs: duration('node-grace', LISTENER_DEFAULTS.nodeGraceMs, 0),
    leakGraceMs: duration('leak-grace', LISTENER_DEFAULTS.leakGraceMs, 0),
    releaseLeaked: values['release-leaked'] === true,
    segmentLabel,
    healthPort,
    healthHost: str('health-host') ?? LISTENER_DEFAULTS.healthHost,
    logLevel: logLevel as LogLevel,
  };
  if (problems.length > 0) return { kind: 'error', problems };
  return { kind: 'config', config: Object.freeze(config) };
}
