import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfigText, parseRootUrl, resolveSettings, type ConfigFs, type LoadedConfigFile } from '../../src/cli/config.js';
import { UsageError } from '../../src/cli/errors.js';
import { SEED_CONFIG } from './helpers.js';

const NO_FILE: LoadedConfigFile = { path: null, values: { ignoredKeys: [] } };

function file(values: LoadedConfigFile['values'], p = '/x/.romana.yaml'): LoadedConfigFile {
  return { path: p, values };
}

function thrown(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('parseConfigText', () => {
  it("reads the seed's sample file as printed", () => {
    expect(parseConfigText(SEED_CONFIG, '~/.romana.yaml')).toEqual({
      rootUrl: 'http://192.168.99.10',
      rootPort: 9600,
      logFile: '/var/tmp/romana.log',
      format: 'table',
      platform: 'openstack',
      verbose: false,
      ignoredKeys: [],
    });
  });

  it('matches keys case-insensitively and ignores unknown ones', () => {
    const v = parseConfigText('rooturl: http://10.0.0.1\nROOTPORT: "9700"\nformat: JSON\nverbose: "true"\ntoken: abc\nAgentThing: 1\n', 'f');
    expect(v).toEqual({ rootUrl: 'http://10.0.0.1', rootPort: 9700, format: 'json', verbose: true, token: 'abc', ignoredKeys: ['AgentThing'] });
  });

  it('treats an empty file and keys without values as unset', () => {
    expect(parseConfigText('', 'f')).toEqual({ ignoredKeys: [] });
    expect(parseConfigText('# only comments\n', 'f')).toEqual({ ignoredKeys: [] });
    expect(parseConfigText('Token:\nRootPort: 9601\n', 'f')).toEqual({ rootPort: 9601, ignoredKeys: [] });
  });

  it('reads JSON too (viper accepted any format)', () => {
    expect(parseConfigText('{"RootURL": "http://h", "RootPort": 1}', 'f')).toMatchObject({ rootUrl: 'http://h', rootPort: 1 });
  });

  it('lists every bad value with its key and the file', () => {
    const e = thrown(() => parseConfigText('RootURL: "ftp://x"\nRootPort: 70000\nFormat: xml\nVerbose: maybe\n', '/home/u/.romana.yaml'));
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toContain('"/home/u/.romana.yaml"');
    for (const key of ['RootURL', 'RootPort', 'Format', 'Verbose']) expect(e.message).toContain(`${key}:`);
  });

  it('rejects a key written twice in different case', () => {
    expect(thrown(() => parseConfigText('RootPort: 1\nrootport: 2\n', 'f')).message).toContain('given twice');
  });

  it('rejects YAML that does not parse, and a document that is not a mapping', () => {
    expect(thrown(() => parseConfigText('RootURL: [unclosed\n', 'f')).code).toBe('INVALID_JSON');
    expect(thrown(() => parseConfigText('- a\n- b\n', 'f')).message).toContain('a list');
  });
});

describe('parseRootUrl', () => {
  it('accepts bare addresses as http and keeps explicit ports and path prefixes', () => {
    expect(parseRootUrl('192.168.99.10')).toEqual({ protocol: 'http:', hostname: '192.168.99.10', port: undefined, pathname: '' });
    expect(parseRootUrl('https://r.example:443/api/')).toEqual({ protocol: 'https:', hostname: 'r.example', port: 443, pathname: '/api' });
    expect(parseRootUrl('http://[::1]:9600')).toMatchObject({ hostname: '[::1]', port: 9600 });
  });

  it('explains what is wrong', () => {
    expect(parseRootUrl('ftp://x')).toMatch(/only http and https/);
    expect(parseRootUrl('http://u:p@x')).toMatch(/credentials/);
    expect(parseRootUrl('http://x?a=1')).toMatch(/query/);
  });
});

describe('resolveSettings precedence', () => {
  it('defaults to http://127.0.0.1:9600 and table', () => {
    const s = resolveSettings({}, NO_FILE, {});
    expect(s).toMatchObject({ daemonUrl: 'http://127.0.0.1:9600', format: 'table', verbose: false, token: undefined, configFile: null });
  });

  it("the seed's file means http://192.168.99.10:9600", () => {
    const s = resolveSettings({}, file(parseConfigText(SEED_CONFIG, 'f')), {});
    expect(s).toMatchObject({ daemonUrl: 'http://192.168.99.10:9600', format: 'table', platform: 'openstack', verbose: false, logFile: '/var/tmp/romana.log' });
  });

  it('flags override the file', () => {
    const f = file(parseConfigText(SEED_CONFIG, 'f'));
    const s = resolveSettings({ rootURL: 'http://10.1.1.1', rootPort: '9700', format: 'json', platform: 'kubernetes', verbose: true }, f, {});
    expect(s).toMatchObject({ daemonUrl: 'http://10.1.1.1:9700', format: 'json', platform: 'kubernetes', verbose: true });
  });

  it('-p alone changes only the port; -r alone keeps the file port', () => {
    const f = file(parseConfigText(SEED_CONFIG, 'f'));
    expect(resolveSettings({ rootPort: '9701' }, f, {}).daemonUrl).toBe('http://192.168.99.10:9701');
    expect(resolveSettings({ rootURL: 'http://10.2.2.2' }, f, {}).daemonUrl).toBe('http://10.2.2.2:9600');
  });

  it('a port written in -r beats RootPort; -p beats both', () => {
    const f = file({ rootUrl: 'http://h', rootPort: 9000, ignoredKeys: [] });
    expect(resolveSettings({ rootURL: 'http://x:8000' }, f, {}).daemonUrl).toBe('http://x:8000');
    expect(resolveSettings({ rootURL: 'http://x:8000', rootPort: '7000' }, f, {}).daemonUrl).toBe('http://x:7000');
  });

  it('RootPort beats a port written in RootURL (the more specific key wins at the same level)', () => {
    expect(resolveSettings({}, file({ rootUrl: 'http://h:8000', rootPort: 9000, ignoredKeys: [] }), {}).daemonUrl).toBe('http://h:9000');
    expect(resolveSettings({}, file({ rootUrl: 'http://h:8000', ignoredKeys: [] }), {}).daemonUrl).toBe('http://h:8000');
  });

  it('token: --token, then ROMANA_TOKEN, then Token', () => {
    const f = file({ token: 'from-file', ignoredKeys: [] });
    expect(resolveSettings({}, f, {}).token).toBe('from-file');
    expect(resolveSettings({}, f, { ROMANA_TOKEN: 'from-env' }).token).toBe('from-env');
    expect(resolveSettings({ token: 'from-flag' }, f, { ROMANA_TOKEN: 'from-env' }).token).toBe('from-flag');
    expect(resolveSettings({}, f, { ROMANA_TOKEN: '' }).token).toBe('from-file');
  });

  it('Verbose in the file turns tracing on; the file Format applies without -f', () => {
    expect(resolveSettings({}, file({ verbose: true, format: 'json', ignoredKeys: [] }), {})).toMatchObject({ verbose: true, format: 'json' });
  });

  it('reports every bad flag value at once', () => {
    const e = thrown(() => resolveSettings({ rootURL: 'ftp://x', rootPort: 'abc', format: 'xml' }, NO_FILE, {}));
    expect(e.message).toContain('-r/--rootURL');
    expect(e.message).toContain('-p/--rootPort');
    expect(e.message).toContain('-f/--format');
  });
});

describe('loadConfigFile', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'romana-cli-config-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const fs: ConfigFs = {
    readText: async (p) => {
      try {
        return await readFile(p, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
  };

  it('prefers $HOME/.romana.yaml over the system file', async () => {
    const home = tmp();
    const sys = path.join(tmp(), 'cli.yaml');
    writeFileSync(path.join(home, '.romana.yaml'), 'RootPort: 1111\n');
    writeFileSync(sys, 'RootPort: 2222\n');
    const r = await loadConfigFile(undefined, { home, system: sys }, fs);
    expect(r.path).toBe(path.join(home, '.romana.yaml'));
    expect(r.values.rootPort).toBe(1111);
  });

  it('falls back to the system file (/etc/romana/cli.yaml) when $HOME has none', async () => {
    const sys = path.join(tmp(), 'cli.yaml');
    writeFileSync(sys, 'RootPort: 2222\n');
    const r = await loadConfigFile(undefined, { home: tmp(), system: sys }, fs);
    expect(r).toMatchObject({ path: sys, values: { rootPort: 2222 } });
  });

  it('uses defaults when no file exists', async () => {
    expect(await loadConfigFile(undefined, { home: tmp(), system: path.join(tmp(), 'none.yaml') }, fs)).toEqual({ path: null, values: { ignoredKeys: [] } });
  });

  it('-c must name an existing file, and wins over $HOME', async () => {
    const home = tmp();
    writeFileSync(path.join(home, '.romana.yaml'), 'RootPort: 1111\n');
    const other = path.join(tmp(), 'other.yaml');
    writeFileSync(other, 'RootPort: 3333\n');
    expect((await loadConfigFile(other, { home, system: '/nonexistent' }, fs)).values.rootPort).toBe(3333);
    await expect(loadConfigFile(path.join(home, 'missing.yaml'), { home, system: '/nonexistent' }, fs)).rejects.toThrow(/does not exist/);
  });

  it('a default file that exists but is broken is an error, not skipped', async () => {
    const home = tmp();
    writeFileSync(path.join(home, '.romana.yaml'), 'Format: xml\n');
    await expect(loadConfigFile(undefined, { home, system: '/nonexistent' }, fs)).rejects.toThrow(/Format/);
  });
});
