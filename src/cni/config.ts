/**
 * The network configuration romana-cni reads from stdin: parsed once,
 * validated (every problem listed with its JSON path), defaulted in one
 * place and frozen (STYLE §6).
 *
 * Accepted input: a plugin's network configuration as runtimes pass it
 * (`name` and `cniVersion` injected from the conflist), or a whole conflist
 * (the first plugin of type "romana" is used, with the list's name and
 * version), which is what people pipe in by hand.
 *
 * Keys (defaults in CONFIG_DEFAULTS):
 *   daemon         "http://host:port[/prefix]" or "unix:/path/to.sock"
 *   token          bearer token for the daemon, or
 *   token_file     a file holding it (first line; read by the plugin)
 *   node_name      this node's host name in Romana (default: hostname)
 *   agent          the node agent's base URL (or its /sync URL); when set,
 *                  ADD asks it for a full firewall sync before returning
 *   mtu            MTU of both veth ends
 *   segment_label  pod label naming the Romana segment
 *   log_file       append JSON log lines here instead of stderr
 *   log_level      debug | info | warn | error
 *   timeout_ms     deadline of each daemon/agent request
 * The original plugin's `romana_host_name` and `segment_label_name` are
 * accepted as aliases. An `ipam` section may only name Romana's built-in
 * allocation ("romana" / "romana-ipam"): anything else would be ignored,
 * so it is refused (code 2) rather than silently overridden.
 */
import { CniError, CNI_CODE } from './errors.js';
import { isSupportedVersion, SUPPORTED_VERSIONS, type CniVersion } from './versions.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export const CONFIG_DEFAULTS = Object.freeze({
  daemon: 'http://127.0.0.1:9600',
  mtu: 1500,
  segmentLabel: 'romana.io/segment',
  logLevel: 'info' as LogLevel,
  timeoutMs: 10_000,
});

/** Where the daemon listens: TCP (base URL) or a unix socket (requests still carry an http:// URL for the path). */
export type Endpoint = { readonly kind: 'http'; readonly baseUrl: string } | { readonly kind: 'unix'; readonly socketPath: string; readonly baseUrl: string };

export interface Attachment {
  readonly containerID: string;
  readonly ifname: string;
}

export interface CniConfig {
  readonly cniVersion: CniVersion;
  readonly name: string;
  readonly daemon: Endpoint;
  readonly token: string | null;
  readonly tokenFile: string | null;
  readonly nodeName: string;
  /** Base URL of the agent ("http://127.0.0.1:9604"); null: no sync on ADD. */
  readonly agent: string | null;
  readonly mtu: number;
  readonly segmentLabel: string;
  readonly logFile: string | null;
  readonly logLevel: LogLevel;
  readonly timeoutMs: number;
  /** CHECK (and DEL in 0.4.0+): the result of the previous ADD. */
  readonly prevResult: unknown;
  /** GC: `cni.dev/valid-attachments`; null when absent. */
  readonly validAttachments: readonly Attachment[] | null;
}

interface Problem {
  path: string;
  message: string;
}

/** Decodes stdin: JSON errors are code 6 (the spec's "failed to decode content"). */
export function decodeStdin(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CniError(CNI_CODE.DECODE_FAILED, `The network configuration on stdin is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new CniError(CNI_CODE.DECODE_FAILED, 'The network configuration on stdin must be a JSON object');
  }
  return v as Record<string, unknown>;
}

/** A conflist's romana entry merged with the list's name and version; a plain config unchanged. */
function pluginEntry(doc: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(doc.plugins)) return doc;
  const entry = (doc.plugins as unknown[]).find((p) => typeof p === 'object' && p !== null && (p as Record<string, unknown>).type === 'romana');
  if (entry === undefined) {
    throw new CniError(CNI_CODE.INVALID_CONFIG, 'The network configuration list has no plugin of type "romana"');
  }
  return { ...(entry as Record<string, unknown>), name: doc.name, cniVersion: doc.cniVersion };
}

/** Version check first: an unsupported version is code 1 whatever else is wrong. */
export function configVersion(doc: Record<string, unknown>): CniVersion {
  const v = pluginEntry(doc).cniVersion;
  if (!isSupportedVersion(v)) {
    throw new CniError(
      CNI_CODE.INCOMPATIBLE_VERSION,
      `Incompatible CNI version ${JSON.stringify(v ?? null)}: romana-cni supports ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  return v;
}

export function parseEndpoint(url: string): Endpoint | string {
  if (url.startsWith('unix:')) {
    const socketPath = url.replace(/^unix:(\/\/)?/, '');
    if (!socketPath.startsWith('/')) return 'a unix socket must be an absolute path ("unix:/run/romana/daemon.sock")';
    return { kind: 'unix', socketPath, baseUrl: 'http://localhost' };
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'must be "http://host:port" or "unix:/path/to.sock"';
  }
  if (u.protocol !== 'http:') return `unsupported scheme "${u.protocol}": use http:// or unix:`;
  if (u.search !== '' || u.hash !== '') return 'must not have a query or fragment';
  return { kind: 'http', baseUrl: `${u.origin}${u.pathname}`.replace(/\/+$/, '') };
}

/** Parses and validates the whole configuration; `hostname` is the node_name default. */
export function parseConfig(doc: Record<string, unknown>, hostname: string): CniConfig {
  const cniVersion = configVersion(doc);
  const c = pluginEntry(doc);
  const problems: Problem[] = [];
  const str = (key: string, alias?: string): string | undefined => {
    const k = c[key] !== undefined ? key : alias !== undefined && c[alias] !== undefined ? alias : key;
    const v = c[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.trim() === '') {
      problems.push({ path: `$.${k}`, message: `must be a non-empty string, got ${JSON.stringify(v)}` });
      return undefined;
    }
    return v;
  };
  const int = (key: string, min: number, max: number): number | undefined => {
    const v = c[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      problems.push({ path: `$.${key}`, message: `must be an integer ${min}-${max}, got ${JSON.stringify(v)}` });
      return undefined;
    }
    return v;
  };

  const name = str('name');
  if (name === undefined && c.name === undefined) problems.push({ path: '$.name', message: 'is required' });
  if (c.type !== undefined && c.type !== 'romana') problems.push({ path: '$.type', message: `must be "romana", got ${JSON.stringify(c.type)}` });

  const daemonText = str('daemon') ?? CONFIG_DEFAULTS.daemon;
  const daemon = parseEndpoint(daemonText);
  if (typeof daemon === 'string') problems.push({ path: '$.daemon', message: `${JSON.stringify(daemonText)}: ${daemon}` });

  const token = str('token') ?? null;
  const tokenFile = str('token_file') ?? null;
  if (token !== null && tokenFile !== null) problems.push({ path: '$.token_file', message: 'give "token" or "token_file", not both' });

  const nodeName = str('node_name', 'romana_host_name') ?? hostname;

  let agent: string | null = null;
  const agentText = str('agent');
  if (agentText !== undefined) {
    const a = parseEndpoint(agentText);
    if (typeof a === 'string') problems.push({ path: '$.agent', message: `${JSON.stringify(agentText)}: ${a}` });
    else if (a.kind !== 'http') problems.push({ path: '$.agent', message: `${JSON.stringify(agentText)}: the agent is reached over http://` });
    else agent = a.baseUrl.replace(/\/sync$/, '');
  }

  const mtu = int('mtu', 68, 65535) ?? CONFIG_DEFAULTS.mtu;
  const segmentLabel = str('segment_label', 'segment_label_name') ?? CONFIG_DEFAULTS.segmentLabel;
  const logFile = str('log_file') ?? null;
  let logLevel = CONFIG_DEFAULTS.logLevel;
  const lvl = str('log_level');
  if (lvl !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(lvl)) problems.push({ path: '$.log_level', message: `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(lvl)}` });
    else logLevel = lvl as LogLevel;
  }
  const timeoutMs = int('timeout_ms', 100, 600_000) ?? CONFIG_DEFAULTS.timeoutMs;

  if (c.ipam !== undefined && c.ipam !== null) {
    const t = typeof c.ipam === 'object' ? (c.ipam as Record<string, unknown>).type : undefined;
    if (t !== 'romana' && t !== 'romana-ipam') {
      throw new CniError(
        CNI_CODE.UNSUPPORTED_FIELD,
        `Unsupported "ipam" ${JSON.stringify(c.ipam)}: romana-cni allocates from the Romana daemon; remove the section or use {"type": "romana"}`,
      );
    }
  }

  let validAttachments: Attachment[] | null = null;
  const va = c['cni.dev/valid-attachments'];
  if (va !== undefined && va !== null) {
    if (!Array.isArray(va)) problems.push({ path: '$["cni.dev/valid-attachments"]', message: 'must be a list' });
    else {
      validAttachments = [];
      va.forEach((x, i) => {
        const o = (typeof x === 'object' && x !== null ? x : {}) as Record<string, unknown>;
        if (typeof o.containerID !== 'string' || typeof o.ifname !== 'string') {
          problems.push({ path: `$["cni.dev/valid-attachments"][${i}]`, message: 'must be {"containerID": string, "ifname": string}' });
        } else validAttachments!.push({ containerID: o.containerID, ifname: o.ifname });
      });
    }
  }

  if (problems.length > 0) {
    const shown = problems.map((p) => `${p.path} ${p.message}`);
    throw new CniError(CNI_CODE.INVALID_CONFIG, `Invalid network configuration: ${shown.slice(0, 3).join('; ')}${shown.length > 3 ? ` (and ${shown.length - 3} more)` : ''}`, shown.join('\n'));
  }
  return Object.freeze({
    cniVersion,
    name: name!,
    daemon: daemon as Endpoint,
    token,
    tokenFile,
    nodeName,
    agent,
    mtu,
    segmentLabel,
    logFile,
    logLevel,
    timeoutMs,
    prevResult: c.prevResult ?? null,
    validAttachments: validAttachments === null ? null : Object.freeze(validAttachments),
  });
}
