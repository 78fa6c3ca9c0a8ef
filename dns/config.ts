/**
 * romana-dns configuration: command-line flags, /etc/resolv.conf and the
 * kube-dns ConfigMap directory, parsed once, validated and frozen (STYLE §6).
 *
 * The ConfigMap (`kube-dns` in kube-system) is mounted as a directory with
 * one file per key, as kube-dns's `--config-dir` reads it:
 *   stubDomains:          {"acme.local": ["1.2.3.4", "1.2.3.5:5353"]}
 *   upstreamNameservers:  ["8.8.8.8", "8.8.4.4"]
 * `upstreamNameservers` replaces the resolvers from `--upstream` or
 * /etc/resolv.conf, as in kube-dns where the ConfigMap is the live knob.
 *
 * Concurrency rule: pure functions except the two file readers.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isLogLevel, type LogLevel } from '../src/shared/log.js';
import { parseUpstream, type Upstream, type UpstreamConfig } from './forward.js';
import { ENDPOINTS_APIS, type EndpointsApi } from './kube_objects.js';

export const USAGE = `Usage: romana-dns [options]

Serves Kubernetes DNS-Based Service Discovery (schema 1.1.0) for the cluster
domain, with Romana's extension (service answers carry VIPs/external IPs and
endpoint pod IPs), and forwards other names to upstream resolvers.

The cluster comes from a list+watch of Namespaces, Services and
EndpointSlices on the Kubernetes API (or from --snapshot); Romana VIPs also
come live from the daemon with --daemon. /readyz turns ready once the watch
has synced.

Options:
  --listen ADDR         address to serve DNS on (default 0.0.0.0)
  --port N              UDP and TCP port (default 53; 0 picks a free one)
  --domain NAME         cluster domain (default cluster.local)
  --upstream ADDR:PORT  upstream resolver, repeatable (default: /etc/resolv.conf nameservers)
  --resolv-conf FILE    where to read default upstreams (default /etc/resolv.conf)
  --config-dir DIR      kube-dns ConfigMap directory (files stubDomains, upstreamNameservers)
  --snapshot FILE       serve a static cluster from kubectl get -o yaml/json output
                        instead of watching the Kubernetes API
  --kubeconfig FILE     kubeconfig for the Kubernetes watch (default: in-cluster
                        service account, else ~/.kube/config)
  --server URL          Kubernetes API URL without credentials (kubectl proxy, tests)
  --endpoints-api API   where endpoint addresses come from: endpointslices (default;
                        discovery.k8s.io/v1, as CoreDNS) or endpoints (core v1)
  --daemon URL          romana daemon to read Romana VIPs from, http://host:port or
                        unix:/path (default: none; VIPs then come only through the
                        services' externalIPs, where romana-listener copies them)
  --token-file FILE     daemon bearer token (first line; role read-only suffices)
  --no-endpoint-ips     leave endpoint pod IPs out of service A/AAAA answers
  --ttl SECONDS         TTL of cluster records and negative answers (default 30)
  --health-port N       HTTP /healthz /readyz /metrics (default 8081, kube-dns's
                        readiness port; kube-dns served metrics on 10055; 0 = free port)
  --log-level LEVEL     fatal|error|warn|info|debug|trace|silent (default info)
  --help                this text

kube-dns's names are accepted too, so its Deployment's args work unchanged:
  --dns-port N (= --port), --dns-bind-address ADDR (= --listen),
  --kubecfg-file FILE (= --kubeconfig), --kube-master-url URL (= --server),
  --healthz-port N (= --health-port), --v N (glog verbosity: 0-2 info,
  3-4 debug, 5+ trace; --log-level wins).
`;

/** kube-dns flag → ours (same meaning), so the seed's "swap the kube-dns image" install keeps its args. */
const KUBE_DNS_ALIASES: Readonly<Record<string, string>> = {
  'dns-port': 'port',
  'dns-bind-address': 'listen',
  'kubecfg-file': 'kubeconfig',
  'kube-master-url': 'server',
  'healthz-port': 'health-port',
};

/** Rewrites kube-dns flag names to ours (`--dns-port=10053` and `--dns-port 10053` forms). */
function unalias(argv: readonly string[]): string[] {
  return argv.map((a) => {
    const m = /^--([a-z-]+)(=.*)?$/.exec(a);
    const to = m ? KUBE_DNS_ALIASES[m[1]!] : undefined;
    return to === undefined ? a : `--${to}${m![2] ?? ''}`;
  });
}

const OPTIONS = {
  listen: { type: 'string', default: '0.0.0.0' },
  port: { type: 'string', default: '53' },
  domain: { type: 'string', default: 'cluster.local' },
  upstream: { type: 'string', multiple: true },
  'resolv-conf': { type: 'string', default: '/etc/resolv.conf' },
  'config-dir': { type: 'string' },
  snapshot: { type: 'string' },
  kubeconfig: { type: 'string' },
  server: { type: 'string' },
  'endpoints-api': { type: 'string', default: 'endpointslices' },
  daemon: { type: 'string' },
  'token-file': { type: 'string' },
  'no-endpoint-ips': { type: 'boolean', default: false },
  ttl: { type: 'string', default: '30' },
  'health-port': { type: 'string', default: '8081' },
  'log-level': { type: 'string' },
  v: { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

/** Every flag romana-dns accepts (without the leading "--"), kube-dns's names included, for the deploy tests. */
export const DNS_FLAGS: readonly string[] = Object.freeze([...Object.keys(OPTIONS), ...Object.keys(KUBE_DNS_ALIASES)]);

export interface DnsConfig {
  listen: string;
  port: number;
  domain: string;
  upstreams: Upstream[];
  resolvConf: string;
  configDir?: string;
  snapshot?: string;
  /** Kubernetes access when there is no snapshot: null/null = in-cluster, else the default kubeconfig. */
  kubeconfig: string | null;
  server: string | null;
  endpointsApi: EndpointsApi;
  /** Romana daemon URL for the VIP feed; undefined = no feed. */
  daemon?: string;
  tokenFile?: string;
  endpointIPs: boolean;
  ttl: number;
  healthPort: number;
  logLevel: LogLevel;
}

export class ConfigError extends Error {}

function port(v: string, flag: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new ConfigError(`Invalid ${flag}: "${v}" is not a port number`);
  return n;
}

/** Parses argv; returns 'help' for --help. Throws ConfigError on bad input. */
export function parseDnsArgs(argv: string[]): DnsConfig | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: unalias(argv),
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const domain = v.domain!.toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain)) throw new ConfigError(`Invalid --domain: "${v.domain}"`);
  let logLevel = v['log-level'];
  if (logLevel === undefined && v.v !== undefined) {
    if (!/^\d{1,2}$/.test(v.v)) throw new ConfigError(`Invalid --v: "${v.v}" is not a verbosity number`);
    const n = Number(v.v);
    logLevel = n >= 5 ? 'trace' : n >= 3 ? 'debug' : 'info';
  }
  logLevel ??= 'info';
  if (!isLogLevel(logLevel)) throw new ConfigError(`Invalid --log-level: "${logLevel}"`);
  const ttl = Number(v.ttl);
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 86400) throw new ConfigError(`Invalid --ttl: "${v.ttl}"`);
  const upstreams = (v.upstream ?? []).map((u) => {
    const up = parseUpstream(u);
    if (!Number.isInteger(up.port) || up.port < 1 || up.port > 65535 || !up.host) throw new ConfigError(`Invalid --upstream: "${u}"`);
    return up;
  });
  const kubeconfig = v.kubeconfig || null;
  const server = v.server || null;
  if (server !== null && !/^https?:\/\/\S+$/.test(server)) throw new ConfigError(`Invalid --server: "${server}" is not an http(s) URL`);
  if (server !== null && kubeconfig !== null) throw new ConfigError('--server and --kubeconfig exclude each other');
  if (v.snapshot && (server !== null || kubeconfig !== null)) throw new ConfigError('--snapshot excludes --server and --kubeconfig (the snapshot replaces the watch)');
  const endpointsApi = v['endpoints-api'] as EndpointsApi;
  if (!ENDPOINTS_APIS.includes(endpointsApi)) throw new ConfigError(`Invalid --endpoints-api: "${endpointsApi}" (endpointslices or endpoints)`);
  if (v.daemon !== undefined && !/^(https?:\/\/\S+|unix:\S+)$/.test(v.daemon)) throw new ConfigError(`Invalid --daemon: "${v.daemon}" is not http://host:port, https://… or unix:/path`);
  if (v['token-file'] !== undefined && v.daemon === undefined) throw new ConfigError('--token-file needs --daemon');
  return Object.freeze({
    listen: v.listen!, port: port(v.port!, '--port'), domain, upstreams, resolvConf: v['resolv-conf']!,
    ...(v['config-dir'] ? { configDir: v['config-dir'] } : {}),
    ...(v.snapshot ? { snapshot: v.snapshot } : {}),
    kubeconfig, server, endpointsApi,
    ...(v.daemon ? { daemon: v.daemon } : {}),
    ...(v['token-file'] ? { tokenFile: v['token-file'] } : {}),
    endpointIPs: !v['no-endpoint-ips'], ttl, healthPort: port(v['health-port']!, '--health-port'),
    logLevel,
  });
}

/** `nameserver` lines of a resolv.conf text. */
export function parseResolvConf(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) out.push({ host: m[1]!.replace(/%.*$/, ''), port: 53 });
  }
  return out;
}

/** The two kube-dns ConfigMap keys; absent keys are undefined. Throws on malformed JSON. */
export function parseKubeDnsConfig(files: { stubDomains?: string; upstreamNameservers?: string }): {
  stubDomains?: Map<string, Upstream[]>;
  upstreamNameservers?: Upstream[];
} {
  const out: { stubDomains?: Map<string, Upstream[]>; upstreamNameservers?: Upstream[] } = {};
  if (files.stubDomains?.trim()) {
    const raw = JSON.parse(files.stubDomains) as unknown;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('stubDomains is not a JSON object');
    out.stubDomains = new Map(Object.entries(raw as Record<string, unknown>).map(([d, list]) => {
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw new ConfigError(`stubDomains["${d}"] is not a list of addresses`);
      return [d.toLowerCase().replace(/\.$/, ''), (list as string[]).map((x) => parseUpstream(x))];
    }));
  }
  if (files.upstreamNameservers?.trim()) {
    const raw = JSON.parse(files.upstreamNameservers) as unknown;
    if (!Array.isArray(raw) || !raw.every((x) => typeof x === 'string')) throw new ConfigError('upstreamNameservers is not a list of addresses');
    out.upstreamNameservers = raw.map((x: string) => parseUpstream(x));
  }
  return out;
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The upstream configuration now: ConfigMap directory over flags over resolv.conf. */
export function loadUpstreamConfig(cfg: DnsConfig): UpstreamConfig {
  const base = cfg.upstreams.length > 0 ? cfg.upstreams : parseResolvConf(readOptional(cfg.resolvConf) ?? '');
  if (!cfg.configDir) return { upstreams: base, stubDomains: new Map() };
  const km = parseKubeDnsConfig({
    stubDomains: readOptional(path.join(cfg.configDir, 'stubDomains')),
    upstreamNameservers: readOptional(path.join(cfg.configDir, 'upstreamNameservers')),
  });
  return { upstreams: km.upstreamNameservers ?? base, stubDomains: km.stubDomains ?? new Map() };
}
