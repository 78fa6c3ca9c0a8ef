/**
 * romana-publisher's command line, parsed once, validated, defaulted in one
 * place and frozen (STYLE §6). Pure: never reads files or the network
 * (environment defaults — NODENAME, NODEIP — are passed in by run.ts).
 *
 * Commands:
 *   romana-publisher [run] …   follow the daemon, render, reload BIRD (default)
 *   romana-publisher render …  print a template rendered with given data
 *   romana-publisher select …  best-match copy of a file (BIRD's bird.conf at pod start)
 *
 * Errors list every problem, each naming the flag and the value.
 */
import { parseCidr4, parseIPv4, type Cidr4 } from '../src/core/ip.js';
import { isLogLevel, LOG_LEVELS, type LogLevel } from '../src/shared/log.js';
import { parseSubnet } from './best_match.js';
import { AGGREGATE_MODES, DEFAULT_LOCAL_AS, type AggregateMode } from './data.js';
import { parseFlags } from '../src/shared/flags.js';

export const DEFAULTS = Object.freeze({
  daemon: 'http://127.0.0.1:9600',
  template: '/etc/romana/publisher/publisher.conf',
  config: '/var/run/romana/bird/conf.d/published-routes.conf',
  pidFile: '/var/run/romana/bird/bird.pid',
  birdBin: 'bird',
  localAs: DEFAULT_LOCAL_AS,
  debounceMs: 200,
  maxDelayMs: 2000,
  resyncSeconds: 60,
  healthHost: '127.0.0.1',
  healthPort: 9608,
  logLevel: 'info' as LogLevel,
});

export type ReloadChoice = 'auto' | 'socket' | 'signal' | 'none';
export type ValidateChoice = 'auto' | 'socket' | 'bird' | 'none';

/** What run and render share: how the data is made. */
export interface DataFlags {
  readonly localAs: string;
  readonly neighborIp: string;
  readonly neighborAs: string;
  /** --arg key=value */
  readonly args: ReadonlyMap<string, string>;
  readonly aggregate: AggregateMode;
}

export interface RunConfig extends DataFlags {
  readonly command: 'run';
  readonly daemon: string;
  readonly tokenFile: string | null;
  readonly node: string;
  readonly nodeIp: string | null;
  readonly nodeSubnet: Cidr4 | null;
  readonly template: string;
  readonly config: string;
  readonly birdSocket: string | null;
  readonly pidFile: string;
  readonly reload: ReloadChoice;
  readonly validate: ValidateChoice;
  readonly birdBin: string;
  readonly birdConfig: string | null;
  readonly debounceMs: number;
  readonly maxDelayMs: number;
  readonly resyncSeconds: number;
  readonly healthHost: string;
  /** -1: no health server. */
  readonly healthPort: number;
  readonly logLevel: LogLevel;
}

export interface RenderConfig extends DataFlags {
  readonly command: 'render';
  readonly template: string;
  /** --networks: .Networks given directly. */
  readonly networks: readonly Cidr4[] | null;
  readonly data: string | null;
  /** Live data from a daemon for --node. */
  readonly daemon: string | null;
  readonly tokenFile: string | null;
  readonly node: string | null;
  readonly nodeIp: string | null;
  readonly nodeSubnet: Cidr4 | null;
  readonly birdCheck: boolean;
  readonly birdBin: string;
  readonly birdConfig: string | null;
  readonly showData: boolean;
}

export interface SelectConfig {
  readonly command: 'select';
  readonly name: string;
  readonly out: string;
  readonly nodeIp: string | null;
  readonly nodeSubnet: Cidr4 | null;
  /** Also create this (empty) file when missing, so BIRD starts before the first render. */
  readonly placeholder: string | null;
}

export type PublisherConfig = RunConfig | RenderConfig | SelectConfig;

export type ParseResult = { kind: 'config'; config: PublisherConfig } | { kind: 'help'; text: string } | { kind: 'error'; problems: string[] };

export const USAGE = `Usage: romana-publisher [run] [flags]
       romana-publisher render --template FILE [--networks CIDR,...] [--local-as N] [--data FILE.json] [--bird-check]
       romana-publisher select --name FILE --out FILE [--node-ip IP] [--node-subnet CIDR] [--placeholder FILE]

Route publisher for BIRD: follows the romana daemon, renders this node's
Go-template publisher.conf into the file BIRD includes, checks it with BIRD
and reloads BIRD. Debounced; a failed render or check keeps the last good
configuration. Every file is looked up best-match first: FILE.<node-ip>,
then FILE.<network address of the node's subnet>, then FILE.

run flags:
  --daemon URL                daemon address, http://host:port or unix:/path (default ${DEFAULTS.daemon})
  --token-file FILE           bearer token for the daemon (first line)
  --node NAME                 this node's host name in Romana (default $NODENAME)
  --node-ip IP                node IP for best-match files (default $NODEIP, else the host record's)
  --node-subnet CIDR          node subnet for best-match files (default: the prefix of the
                              local interface holding the node IP)
  --template FILE             the template (default ${DEFAULTS.template})
  --config FILE               the file BIRD includes (default ${DEFAULTS.config})
  --bird-socket PATH          BIRD's control socket: check with "configure check", reload with "configure"
  --pid-file FILE             BIRD's pid file, for SIGHUP reloads (default ${DEFAULTS.pidFile})
  --reload MODE               auto|socket|signal|none (auto: socket when --bird-socket, else signal)
  --validate MODE             auto|socket|bird|none (auto: socket when --bird-socket, else bird
                              when --bird-config, else none)
  --bird-bin PATH             bird binary for --validate bird and --bird-check (default ${DEFAULTS.birdBin})
  --bird-config FILE          BIRD's main configuration, for --validate bird
  --local-as N                .LocalAS (default ${DEFAULTS.localAs})
  --neighbor-ip IP            .NeighborIP (default "")
  --neighbor-as N             .NeighborAS (default "")
  --arg KEY=VALUE             adds .Args.KEY (repeatable)
  --aggregate [MODE]          .Networks: none (one per block, default), blocks (this node's
                              blocks merged; the default of a bare --aggregate), cluster (share
                              of the cluster-wide minimal table), group (the node's prefix groups)
  --debounce-ms N             quiet time before a render (default ${DEFAULTS.debounceMs})
  --max-delay-ms N            longest wait during a burst (default ${DEFAULTS.maxDelayMs})
  --resync-interval S         re-render every S seconds, 0 = never (default ${DEFAULTS.resyncSeconds})
  --health-host ADDR          /healthz /readyz /metrics address (default ${DEFAULTS.healthHost})
  --health-port N             its port, 0 = any, -1 = none (default ${DEFAULTS.healthPort})
  --log-level LEVEL           ${LOG_LEVELS.join('|')} (default ${DEFAULTS.logLevel})

render flags (prints to stdout, touches nothing):
  --template FILE             the template (required)
  --networks CIDR,...         .Networks
  --data FILE.json            the whole dot as JSON ({"Networks": [...], "LocalAS": ..., "Args": {...}});
                              flags given as well override its fields
  --daemon URL --node NAME    render with this node's live data instead (plus --aggregate)
  --local-as, --neighbor-ip, --neighbor-as, --arg, --aggregate   as for run
  --show-data                 print the data as JSON instead of rendering
  --bird-check                also run "bird -p" on the result (wrapped in --bird-config, whose
                              include "conf.d/*.conf" line is pointed at the result, or in a
                              minimal configuration); exit 1 when BIRD rejects it
  --bird-bin PATH, --bird-config FILE

select flags (BIRD's container start: pick the best-match bird.conf):
  --name FILE                 base name, e.g. /etc/romana/publisher/bird.conf
  --out FILE                  where to copy the chosen file
  --node-ip IP, --node-subnet CIDR   as for run (default $NODEIP, local interface)
  --placeholder FILE          create this file empty when missing (the include target)

Exit codes: 0 ok; 1 runtime failure (render error, BIRD rejected, no file matched); 2 bad flags.
`;

const q = (v: string): string => JSON.stringify(v);

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  'local-as': { type: 'string' },
  'neighbor-ip': { type: 'string' },
  'neighbor-as': { type: 'string' },
  arg: { type: 'string', multiple: true },
  aggregate: { type: 'string' },
  daemon: { type: 'string' },
  'token-file': { type: 'string' },
  node: { type: 'string' },
  'node-ip': { type: 'string' },
  'node-subnet': { type: 'string' },
  template: { type: 'string' },
  'bird-bin': { type: 'string' },
  'bird-config': { type: 'string' },
} as const;

const RUN_OPTIONS = {
  ...COMMON,
  config: { type: 'string' },
  'bird-socket': { type: 'string' },
  'pid-file': { type: 'string' },
  reload: { type: 'string' },
  validate: { type: 'string' },
  'debounce-ms': { type: 'string' },
  'max-delay-ms': { type: 'string' },
  'resync-interval': { type: 'string' },
  'health-host': { type: 'string' },
  'health-port': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

const RENDER_OPTIONS = {
  ...COMMON,
  networks: { type: 'string' },
  data: { type: 'string' },
  'bird-check': { type: 'boolean' },
  'show-data': { type: 'boolean' },
} as const;

const SELECT_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  name: { type: 'string' },
  out: { type: 'string' },
  'node-ip': { type: 'string' },
  'node-subnet': { type: 'string' },
  placeholder: { type: 'string' },
} as const;

/** A bare `--aggregate` (no mode after it) means "blocks". */
function expandBareAggregate(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    out.push(argv[i]!);
    if (argv[i] === '--aggregate') {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('-')) out.push('blocks');
    }
  }
  return out;
}

function asNumber(v: string): boolean {
  return /^\d{1,10}$/.test(v);
}

export interface Env {
  NODENAME?: string | undefined;
  NODEIP?: string | undefined;
}

export function parsePublisherArgs(argvIn: readonly string[], env: Env = {}): ParseResult {
  let argv = [...argvIn];
  let command = 'run' as 'run' | 'render' | 'select';
  if (argv[0] === 'run' || argv[0] === 'render' || argv[0] === 'select') command = argv.shift() as typeof command;
  else if (argv[0] === 'help') return { kind: 'help', text: USAGE };
  argv = expandBareAggregate(argv);
  const options = command === 'run' ? RUN_OPTIONS : command === 'render' ? RENDER_OPTIONS : SELECT_OPTIONS;
  const parsed = parseFlags(argv, options);
  if (!parsed.ok) return { kind: 'error', problems: [parsed.problem] };
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const positionals = parsed.positionals;
  if (values.help) return { kind: 'help', text: USAGE };
  const problems: string[] = [];
  if (positionals.length > 0) problems.push(`unexpected argument ${q(positionals[0]!)} (commands: run, render, select; see --help)`);
  const str = (name: string): string | undefined => {
    const v = values[name];
    if (typeof v !== 'string') return undefined;
    if (v.trim() === '') {
      problems.push(`invalid --${name} ${q(v)}: must not be empty`);
      return undefined;
    }
    return v;
  };
  const ip = (name: string, fallback?: string): string | null => {
    const v = str(name) ?? (fallback === '' ? undefined : fallback);
    if (v === undefined) return null;
    if (parseIPv4(v) === null) {
      problems.push(`invalid --${name} ${q(v)}: must be an IPv4 address`);
      return null;
    }
    return v;
  };
  const subnet = (): Cidr4 | null => {
    const v = str('node-subnet');
    if (v === undefined) return null;
    const c = parseSubnet(v);
    if (c === null) problems.push(`invalid --node-subnet ${q(v)}: must be a CIDR such as 192.168.20.0/24`);
    return c;
  };

  if (command === 'select') {
    const name = str('name');
    const out = str('out');
    if (name === undefined) problems.push('missing --name: the base file name, e.g. /etc/romana/publisher/bird.conf');
    if (out === undefined) problems.push('missing --out: where to copy the chosen file');
    const nodeIp = ip('node-ip', env.NODEIP);
    const nodeSubnet = subnet();
    if (problems.length > 0) return { kind: 'error', problems };
    return { kind: 'config', config: Object.freeze({ command, name: name!, out: out!, nodeIp, nodeSubnet, placeholder: str('placeholder') ?? null }) };
  }

  // ---- data flags (run and render) ----
  const localAs = str('local-as') ?? DEFAULTS.localAs;
  if (!asNumber(localAs) && !/^\d+\.\d+$/.test(localAs)) problems.push(`invalid --local-as ${q(localAs)}: must be an AS number (e.g. 65534, or 1.10 in asdot)`);
  const neighborIp = ip('neighbor-ip') ?? '';
  const neighborAs = str('neighbor-as') ?? '';
  if (neighborAs !== '' && !asNumber(neighborAs) && !/^\d+\.\d+$/.test(neighborAs)) problems.push(`invalid --neighbor-as ${q(neighborAs)}: must be an AS number`);
  const args = new Map<string, string>();
  for (const a of (values.arg as string[] | undefined) ?? []) {
    const eq = a.indexOf('=');
    if (eq <= 0) {
      problems.push(`invalid --arg ${q(a)}: must be KEY=VALUE`);
      continue;
    }
    const k = a.slice(0, eq);
    if (k === 'HostGroups') problems.push(`invalid --arg ${q(a)}: .Args.HostGroups is the node's prefix groups and cannot be set`);
    else args.set(k, a.slice(eq + 1));
  }
  let aggregate: AggregateMode = 'none';
  const agg = str('aggregate');
  if (agg !== undefined) {
    if (!(AGGREGATE_MODES as readonly string[]).includes(agg)) problems.push(`invalid --aggregate ${q(agg)}: must be one of ${AGGREGATE_MODES.join(', ')}`);
    else aggregate = agg as AggregateMode;
  }
  const data: DataFlags = { localAs, neighborIp, neighborAs, args, aggregate };
  const birdBin = str('bird-bin') ?? DEFAULTS.birdBin;
  const birdConfig = str('bird-config') ?? null;
  const tokenFile = str('token-file') ?? null;

  if (command === 'render') {
    const template = str('template');
    if (template === undefined) problems.push('missing --template: the template file to render');
    let networks: Cidr4[] | null = null;
    const nets = str('networks');
    if (nets !== undefined) {
      networks = [];
      for (const t of nets.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
        const r = parseCidr4(t);
        if (!r.ok) problems.push(`invalid --networks entry ${q(t)}: ${r.reason}`);
        else if (r.hostBitsSet) problems.push(`invalid --networks entry ${q(t)}: host bits set`);
        else networks.push(r.cidr);
      }
    }
    const daemon = str('daemon') ?? null;
    const node = str('node') ?? null;
    if (daemon !== null && node === null) problems.push('--daemon needs --node: whose data to render');
    if (daemon !== null && (values.data !== undefined || nets !== undefined)) problems.push('--daemon is an alternative to --data and --networks: give one source of data');
    const nodeIp = ip('node-ip', env.NODEIP);
    const nodeSubnet = subnet();
    if (problems.length > 0) return { kind: 'error', problems };
    return {
      kind: 'config',
      config: Object.freeze({
        command,
        ...data,
        template: template!,
        networks,
        data: str('data') ?? null,
        daemon,
        tokenFile,
        node,
        nodeIp,
        nodeSubnet,
        birdCheck: values['bird-check'] === true,
        birdBin,
        birdConfig,
        showData: values['show-data'] === true,
      }),
    };
  }

  // ---- run ----
  const daemon = str('daemon') ?? DEFAULTS.daemon;
  const node = str('node') ?? (env.NODENAME || undefined);
  if (node === undefined) problems.push('missing --node (or $NODENAME): this node\'s host name in Romana');
  const nodeIp = ip('node-ip', env.NODEIP);
  const nodeSubnet = subnet();
  const birdSocket = str('bird-socket') ?? null;
  const pidFile = str('pid-file') ?? DEFAULTS.pidFile;
  const choice = <T extends string>(name: string, allowed: readonly T[]): T => {
    const v = str(name);
    if (v === undefined) return 'auto' as T;
    if (!(allowed as readonly string[]).includes(v)) {
      problems.push(`invalid --${name} ${q(v)}: must be one of ${allowed.join(', ')}`);
      return 'auto' as T;
    }
    return v as T;
  };
  const reload = choice<ReloadChoice>('reload', ['auto', 'socket', 'signal', 'none']);
  const validate = choice<ValidateChoice>('validate', ['auto', 'socket', 'bird', 'none']);
  if ((reload === 'socket' || validate === 'socket') && birdSocket === null) problems.push(`--reload/--validate socket needs --bird-socket`);
  if (validate === 'bird' && birdConfig === null) problems.push('--validate bird needs --bird-config: the main BIRD configuration to parse');
  const int = (name: string, def: number, min: number, max: number): number => {
    const v = str(name);
    if (v === undefined) return def;
    if (!/^-?\d{1,9}$/.test(v) || Number(v) < min || Number(v) > max) {
      problems.push(`invalid --${name} ${q(v)}: must be an integer ${min}-${max}`);
      return def;
    }
    return Number(v);
  };
  const debounceMs = int('debounce-ms', DEFAULTS.debounceMs, 0, 600_000);
  const maxDelayMs = int('max-delay-ms', DEFAULTS.maxDelayMs, 0, 3_600_000);
  const resyncSeconds = int('resync-interval', DEFAULTS.resyncSeconds, 0, 86_400);
  const healthPort = int('health-port', DEFAULTS.healthPort, -1, 65535);
  const healthHost = str('health-host') ?? DEFAULTS.healthHost;
  let logLevel = DEFAULTS.logLevel;
  const lvl = str('log-level');
  if (lvl !== undefined) {
    if (!isLogLevel(lvl)) problems.push(`invalid --log-level ${q(lvl)}: must be one of ${LOG_LEVELS.join(', ')}`);
    else logLevel = lvl;
  }
  if (problems.length > 0) return { kind: 'error', problems };
  return {
    kind: 'config',
    config: Object.freeze({
      command,
      ...data,
      daemon,
      tokenFile,
      node: node!,
      nodeIp,
      nodeSubnet,
      template: str('template') ?? DEFAULTS.template,
      config: str('config') ?? DEFAULTS.config,
      birdSocket,
      pidFile,
      reload,
      validate,
      birdBin,
      birdConfig,
      debounceMs,
      maxDelayMs: Math.max(maxDelayMs, debounceMs),
      resyncSeconds,
      healthHost,
      healthPort,
      logLevel,
    }),
  };
}

/** The reload and validate modes `auto` stands for, given what the flags name. */
export function resolveModes(c: Pick<RunConfig, 'reload' | 'validate' | 'birdSocket' | 'birdConfig'>, birdBinFound: boolean): { reload: 'socket' | 'signal' | 'none'; validate: 'socket' | 'bird' | 'none' } {
  const reload = c.reload !== 'auto' ? c.reload : c.birdSocket !== null ? 'socket' : 'signal';
  const validate = c.validate !== 'auto' ? c.validate : c.birdSocket !== null ? 'socket' : c.birdConfig !== null && birdBinFound ? 'bird' : 'none';
  return { reload, validate };
}

/**
 * Splits a flag string the way a shell would for simple cases: white space
 * separates, single or double quotes group, a backslash escapes the next
 * character. For `romana-daemon --publisher "FLAGS"`.
 */
export function splitFlags(text: string): { ok: true; args: string[] } | { ok: false; problem: string } {
  const args: string[] = [];
  let cur: string | null = null;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== null) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i]!;
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      cur ??= '';
    } else if (c === '\\' && i + 1 < text.length) cur = (cur ?? '') + text[++i]!;
    else if (/\s/.test(c)) {
      if (cur !== null) args.push(cur);
      cur = null;
    } else cur = (cur ?? '') + c;
  }
  if (quote !== null) return { ok: false, problem: `unterminated ${quote} quote` };
  if (cur !== null) args.push(cur);
  return { ok: true, args };
}

/**
 * The publisher embedded in a daemon (`romana-daemon --publisher "FLAGS"`):
 * FLAGS are romana-publisher run flags; --daemon defaults to the embedding
 * daemon's own URL and the health server is off unless --health-port is given.
 */
export function parseEmbeddedPublisher(flags: string, daemonUrl: string, env: Env = {}): { ok: true; config: RunConfig } | { ok: false; problems: string[] } {
  const split = splitFlags(flags);
  if (!split.ok) return { ok: false, problems: [split.problem] };
  const r = parsePublisherArgs(['run', '--health-port=-1', '--daemon', daemonUrl, ...split.args], env);
  if (r.kind === 'help') return { ok: false, problems: ['--help is not a publisher flag here'] };
  if (r.kind === 'error') return { ok: false, problems: r.problems };
  return { ok: true, config: r.config as RunConfig };
}
