/**
 * The command line itself, in-process (no daemon needed): help, version,
 * usage errors and their exit codes, and input checks that stop before
 * anything is sent. The same paths through the real binary are in
 * e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/run.js';

interface Captured {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[], over: Partial<CliIo> = {}): Promise<Captured> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    readStdin: async () => '',
    stdinIsTty: false,
    readFile: async (p) => {
      throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    },
    columns: undefined,
    // Port 1 on loopback: nothing listens, so a command that got as far as sending would fail with exit 3, not 2.
    env: { HOME: '/nonexistent-home' },
    systemConfigFile: '/nonexistent/cli.yaml',
    ...over,
  };
  const code = await runCli(['-p', '1', ...argv], io);
  return { code, out, err };
}

function oneUsageLine(r: Captured, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  const lines = r.err.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^romana: .* \([A-Z_]+\)$/);
  expect(lines[0]).toMatch(pattern);
}

describe('help and version', () => {
  it('bare `romana` prints the seed-style help on stdout and exits 0', async () => {
    const r = await run([]);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^Usage: romana \[flags\] \[command\]/);
    for (const s of ['Available Commands:', 'host', 'tenant', 'segment', 'policy', 'Flags:', '-c, --config', '-f, --format', '-P, --platform', '-p, --rootPort', '-r, --rootURL', '-v, --verbose', '--version', '-h, --help']) {
      expect(r.out).toContain(s);
    }
  });

  it('every command has help with its arguments and an example', async () => {
    const commands = [
      ['host', 'add'], ['host', 'remove'], ['host', 'list'], ['host', 'show'],
      ['tenant', 'create'], ['tenant', 'delete'], ['tenant', 'list'], ['tenant', 'show'],
      ['segment', 'add'], ['segment', 'remove'], ['segment', 'list'],
      ['policy', 'add'], ['policy', 'remove'], ['policy', 'list'], ['policy', 'show'],
      ['network', 'list'], ['block', 'list'], ['address', 'list'], ['ipam', 'show'], ['topology', 'show'], ['topology', 'update'],
    ];
    for (const c of commands) {
      const r = await run([...c, '--help']);
      expect(r.code, c.join(' ')).toBe(0);
      expect(r.out, c.join(' ')).toContain(`Usage: romana ${c.join(' ')}`);
      expect(r.out, c.join(' ')).toMatch(new RegExp(`Examples:\\n  romana ${c.join(' ')}`));
      expect(r.out, c.join(' ')).toContain('Global Flags:');
    }
  });

  it('host add --help says the romana cidr is ignored; policy remove --help shows -i, --policyid', async () => {
    expect((await run(['host', 'add', '--help'])).out).toMatch(/romana cidr\s+accepted for compatibility with Romana v1 and\s+ignored/);
    expect((await run(['policy', 'remove', '--help'])).out).toContain('-i, --policyid <id>');
  });

  it('a group without a sub-command prints its help; `help <cmd>` works', async () => {
    const r = await run(['tenant']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: romana tenant [flags] [command]');
    expect((await run(['help', 'segment'])).out).toContain('Usage: romana segment');
    expect((await run(['host', 'help', 'add'])).out).toContain('Usage: romana host add');
  });

  it('--version prints build and version information', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^romana version \d+\.\d+\.\d+ \(romana-ts\)\nbuilt .+\nnode v\d+/);
  });
});

describe('usage errors: exit 2, one line, nothing sent', () => {
  it('unknown commands and options', async () => {
    oneUsageLine(await run(['bogus']), /unknown command 'bogus'; see 'romana --help' \(INVALID_ARGUMENT\)/);
    oneUsageLine(await run(['host', 'bogus']), /unknown command 'bogus' for 'romana host'/);
    oneUsageLine(await run(['host', 'list', '--bogus']), /unknown option '--bogus'; see 'romana host list --help'/);
  });

  it('missing and excess arguments', async () => {
    oneUsageLine(await run(['host', 'add', 'node1']), /missing required argument 'hostip'; see 'romana host add --help'/);
    oneUsageLine(await run(['tenant', 'create', 'a', 'b']), /too many arguments/);
    oneUsageLine(await run(['host', 'show']), /missing required argument 'hostname'/);
  });

  it('bad values', async () => {
    oneUsageLine(await run(['host', 'add', 'node1', 'not-an-ip']), /hostip "not-an-ip" is not an IPv4 address/);
    oneUsageLine(await run(['-f', 'xml', 'host', 'list']), /-f\/--format "xml" must be "table" or "json"/);
    oneUsageLine(await run(['-p', 'abc', 'host', 'list']), /-p\/--rootPort "abc"/);
    oneUsageLine(await run(['policy', 'remove', 'p1', '-i', 'x']), /either by name or with -i/);
    oneUsageLine(await run(['policy', 'remove']), /give its name, or its id with -i/);
  });

  it('policy add: no file and a terminal on stdin; unreadable file; invalid JSON with its position', async () => {
    oneUsageLine(await run(['policy', 'add'], { stdinIsTty: true }), /No policy file given and standard input is a terminal/);
    oneUsageLine(await run(['policy', 'add', '/no/such.json']), /Cannot read the policy file "\/no\/such.json": no such file/);
    oneUsageLine(await run(['policy', 'add'], { readStdin: async () => '{"securitypolicies": [}' }), /not valid JSON: Invalid JSON at 1:23: .* \(INVALID_JSON\)$/);
    oneUsageLine(await run(['policy', 'add'], { readStdin: async () => '  \n' }), /is empty \(INVALID_JSON\)/);
  });

  it('a broken config file is a usage error naming it; -c must exist', async () => {
    const readFile = async (p: string): Promise<string> => {
      if (p === '/nonexistent-home/.romana.yaml') return 'RootPort: nine\n';
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    };
    oneUsageLine(await run(['host', 'list'], { readFile }), /Invalid config file "\/nonexistent-home\/.romana.yaml": RootPort: "nine"/);
    oneUsageLine(await run(['-c', '/missing.yaml', 'host', 'list']), /Config file "\/missing.yaml" \(given with -c\/--config\) does not exist/);
  });
});

describe('a daemon that is not there: exit 3', () => {
  it('names the URL it tried', async () => {
    const r = await run(['host', 'list']);
    expect(r.code).toBe(3);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^romana: Cannot reach the romana daemon at http:\/\/127\.0\.0\.1:1 \(GET \/hosts\): .*\(DAEMON_UNREACHABLE\)\n$/);
  });
});
