/**
 * CLI settings: the config file, the environment and the global flags,
 * merged once into a frozen `CliSettings` (STYLE §6).
 *
 * The config file is the one the seed documents (`~/.romana.yaml`, keys
 * RootURL, RootPort, LogFile, Format, Platform, Verbose) plus `Token`. Keys
 * are case-insensitive as they were under viper; unknown keys are ignored
 * (the agent writes /etc/romana/cli.yaml and may add keys of its own) but
 * reported under -v. Values are checked and every problem is reported at
 * once, naming the file and the key.
 *
 * Where the file comes from: `-c FILE` (must exist), else the first of
 * $HOME/.romana.yaml, $HOME/.romana.yml, $HOME/.romana.json that exists,
 * else /etc/romana/cli.yaml if it exists, else none (defaults only).
 *
 * Precedence: flags > environment (ROMANA_TOKEN) > config file > defaults
 * (http://127.0.0.1, port 9600, table). The daemon address is built from a
 * URL and a port resolved separately: the URL from -r, else RootURL, else
 * http://127.0.0.1; the port from the first of -p, a port written in -r's
 * URL, RootPort, a port written in RootURL's URL, 9600. So the seed's
 * `RootURL: "http://192.168.99.10"` + `RootPort: 9600` means
 * http://192.168.99.10:9600, and `-p 9700` alone changes only the port.
 *
 * Pure except `loadConfigFile`, whose file reader is injected.
 */
import path from 'node:path';
import { parseDocument } from 'yaml';
import { UsageError } from './errors.js';

export type OutputFormat = 'json' | 'table';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['json', 'table'];

export const DEFAULT_ROOT_URL = 'http://127.0.0.1';
export const DEFAULT_ROOT_PORT = 9600;
export const DEFAULT_FORMAT: OutputFormat = 'table';
export const DEFAULT_PLATFORM = 'kubernetes';
export const DEFAULT_LOG_FILE = '/var/tmp/romana-cli.log';
export const SYSTEM_CONFIG_FILE = '/etc/romana/cli.yaml';
/** Tried in this order under $HOME (viper accepted any extension; these are the ones yaml can read). */
export const HOME_CONFIG_NAMES: readonly string[] = ['.romana.yaml', '.romana.yml', '.romana.json'];

/** Values of the global flags as commander parsed them (strings, unvalidated). */
export interface GlobalFlags {
  config?: string;
  format?: string;
  platform?: string;
  rootPort?: string;
  rootURL?: string;
  verbose?: boolean;
  token?: string;
}

/** What a config file says, validated. */
export interface ConfigFileValues {
  rootUrl?: string;
  rootPort?: number;
  logFile?: string;
  format?: OutputFormat;
  platform?: string;
  verbose?: boolean;
  token?: string;
  /** Keys we do not know (as written), ignored. */
  ignoredKeys: string[];
}

export interface LoadedConfigFile {
  /** null when no file was found (and none was asked for). */
  path: string | null;
  values: ConfigFileValues;
}

export interface CliSettings {
  /** Base URL of the daemon with the port always explicit, e.g. "http://127.0.0.1:9600". */
  readonly daemonUrl: string;
  readonly format: OutputFormat;
  readonly platform: string;
  readonly verbose: boolean;
  readonly token: string | undefined;
  /** Accepted for compatibility with the seed's file; the CLI writes no log file. */
  readonly logFile: string;
  readonly configFile: string | null;
  readonly ignoredKeys: readonly string[];
}

/** Environment variables the CLI reads. */
export interface CliEnv {
  HOME?: string;
  ROMANA_TOKEN?: string;
}

// ---------- config file ----------

/** Lower-cased key → our field. */
const KEYS: Record<string, keyof Omit<ConfigFileValues, 'ignoredKeys'>> = {
  rooturl: 'rootUrl',
  rootport: 'rootPort',
  logfile: 'logFile',
  format: 'format',
  platform: 'platform',
  verbose: 'verbose',
  token: 'token',
};

/** Parses and checks a config file's text (YAML, so JSON too). Throws a UsageError listing every problem. */
export function parseConfigText(text: string, file: string): ConfigFileValues {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new UsageError(`Invalid config file ${JSON.stringify(file)}: not valid YAML${where}: ${e.message.split('\n')[0]}`, 'INVALID_JSON');
  }
  const data: unknown = doc.toJS();
  const out: ConfigFileValues = { ignoredKeys: [] };
  if (data === null || data === undefined) return out;
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new UsageError(`Invalid config file ${JSON.stringify(file)}: expected "Key: value" lines (a mapping), got ${Array.isArray(data) ? 'a list' : `a ${typeof data}`}`, 'VALIDATION_FAILED');
  }
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const field = KEYS[key.toLowerCase()];
    if (field === undefined) {
      out.ignoredKeys.push(key);
      continue;
    }
    const earlier = seen.get(field);
    if (earlier !== undefined) {
      problems.push(`${key}: given twice (also as ${earlier}); keys are case-insensitive`);
      continue;
    }
    seen.set(field, key);
    // A key written with no value ("Token:") means "not set", as under viper.
    if (value === null) continue;
    const bad = (what: string): void => {
      problems.push(`${key}: ${JSON.stringify(value)} ${what}`);
    };
    switch (field) {
      case 'rootUrl': {
        if (typeof value !== 'string' || value.trim() === '') bad('must be a URL such as "http://192.168.99.10"');
        else {
          const r = parseRootUrl(value);
          if (typeof r === 'string') bad(r);
          else out.rootUrl = value.trim();
        }
        break;
      }
      case 'rootPort': {
        const p = parsePort(value);
        if (p === null) bad('must be a port number from 1 to 65535');
        else out.rootPort = p;
        break;
      }
      case 'format': {
        const f = typeof value === 'string' ? value.trim().toLowerCase() : '';
        if (f === 'json' || f === 'table') out.format = f;
        else bad('must be "table" or "json"');
        break;
      }
      case 'verbose': {
        if (typeof value === 'boolean') out.verbose = value;
        else if (value === 'true' || value === 'false') out.verbose = value === 'true';
        else bad('must be true or false');
        break;
      }
      case 'logFile':
      case 'platform':
      case 'token': {
        if (typeof value !== 'string' && typeof value !== 'number') bad('must be a string');
        else out[field] = String(value);
        break;
      }
    }
  }
  if (problems.length > 0) {
    throw new UsageError(`Invalid config file ${JSON.stringify(file)}: ${problems.join('; ')}`, 'VALIDATION_FAILED');
  }
  return out;
}

export interface ConfigFs {
  /** Resolves with the text, or null when the file does not exist; rejects on other errors. */
  readText(file: string): Promise<string | null>;
}

/**
 * Finds and reads the config file. `explicit` (from -c) must exist; the
 * default locations are tried in order and skipped when absent. A file that
 * exists but cannot be read or parsed is an error either way: silently
 * falling back to another file would hide the problem.
 */
export async function loadConfigFile(
  explicit: string | undefined,
  locations: { home: string | undefined; system: string },
  fs: ConfigFs,
): Promise<LoadedConfigFile> {
  const candidates: string[] = [];
  if (explicit !== undefined) candidates.push(explicit);
  else {
    if (locations.home) for (const n of HOME_CONFIG_NAMES) candidates.push(path.join(locations.home, n));
    candidates.push(locations.system);
  }
  for (const file of candidates) {
    let text: string | null;
    try {
      text = await fs.readText(file);
    } catch (e) {
      throw new UsageError(`Cannot read config file ${JSON.stringify(file)}: ${(e as Error).message}`);
    }
    if (text === null) {
      if (explicit !== undefined) throw new UsageError(`Config file ${JSON.stringify(file)} (given with -c/--config) does not exist`);
      continue;
    }
    return { path: file, values: parseConfigText(text, file) };
  }
  return { path: null, values: { ignoredKeys: [] } };
}

// ---------- values ----------

/** A port from a flag or a file: an integer 1..65535, as a number or a decimal string. */
export function parsePort(value: unknown): number | null {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) n = Number(value);
  else return null;
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : null;
}

export interface RootUrl {
  protocol: 'http:' | 'https:';
  /** As URL.hostname gives it (IPv6 in brackets). */
  hostname: string;
  /** The port written in the URL, if any. */
  port: number | undefined;
  /** Path prefix without a trailing slash ("" for none). */
  pathname: string;
}

/**
 * "http://192.168.99.10", "192.168.99.10:9600", "https://romana.example/api".
 * A missing scheme means http (the original accepted bare addresses).
 * Returns a problem text instead of throwing so that callers can collect it.
 */
export function parseRootUrl(text: string): RootUrl | string {
  const t = text.trim();
  const withScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(t) ? t : `http://${t}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    return 'is not a valid URL (expected e.g. "http://192.168.99.10")';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `has scheme "${u.protocol.slice(0, -1)}": only http and https are supported`;
  if (u.search !== '' || u.hash !== '') return 'must not have a query or fragment';
  if (u.username !== '' || u.password !== '') return 'must not carry credentials (use --token or Token for a bearer token)';
  // An explicit default port (":80") disappears from URL.port; look at the text for it.
  const portText = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:\[[^\]]*\]|[^/:?#]*):(\d+)/.exec(withScheme)?.[1];
  return {
    protocol: u.protocol,
    hostname: u.hostname,
    port: portText === undefined ? undefined : Number(portText),
    pathname: u.pathname.replace(/\/+$/, ''),
  };
}

/** Applies the precedence rules (module header) to produce the frozen settings. */
export function resolveSettings(flags: GlobalFlags, file: LoadedConfigFile, env: CliEnv): CliSettings {
  const problems: string[] = [];
  let flagUrl: RootUrl | undefined;
  if (flags.rootURL !== undefined) {
    const r = parseRootUrl(flags.rootURL);
    if (typeof r === 'string') problems.push(`-r/--rootURL ${JSON.stringify(flags.rootURL)} ${r}`);
    else flagUrl = r;
  }
  let flagPort: number | undefined;
  if (flags.rootPort !== undefined) {
    const p = parsePort(flags.rootPort);
    if (p === null) problems.push(`-p/--rootPort ${JSON.stringify(flags.rootPort)} must be a port number from 1 to 65535`);
    else flagPort = p;
  }
  let format: OutputFormat = file.values.format ?? DEFAULT_FORMAT;
  if (flags.format !== undefined) {
    const f = flags.format.trim().toLowerCase();
    if (f === 'json' || f === 'table') format = f;
    else problems.push(`-f/--format ${JSON.stringify(flags.format)} must be "table" or "json"`);
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));

  const fileUrl = file.values.rootUrl === undefined ? undefined : (parseRootUrl(file.values.rootUrl) as RootUrl);
  const url = flagUrl ?? fileUrl ?? (parseRootUrl(DEFAULT_ROOT_URL) as RootUrl);
  const port = flagPort ?? flagUrl?.port ?? file.values.rootPort ?? fileUrl?.port ?? DEFAULT_ROOT_PORT;
  const token = nonEmpty(flags.token) ?? nonEmpty(env.ROMANA_TOKEN) ?? nonEmpty(file.values.token);
  return Object.freeze({
    daemonUrl: `${url.protocol}//${url.hostname}:${port}${url.pathname}`,
    format,
    platform: flags.platform ?? file.values.platform ?? DEFAULT_PLATFORM,
    verbose: flags.verbose === true || file.values.verbose === true,
    token,
    logFile: file.values.logFile ?? DEFAULT_LOG_FILE,
    configFile: file.path,
    ignoredKeys: Object.freeze([...file.values.ignoredKeys]),
  });
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}
