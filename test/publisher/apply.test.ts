/**
 * Putting configurations in front of BIRD without root: the atomic write
 * and the rollback when BIRD's parser (real `bird -p` on a main
 * configuration including the file) rejects the new text, the control
 * socket protocol against a scripted BIRD on a unix socket (greeting,
 * multi-line replies, continuation lines, error codes, silence), and
 * SIGHUP through a pid file.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApplyError, BirdApplier } from '../../publisher/apply.js';
import { birdCheck, birdCommand, birdConfigure, BirdError, birdSighup } from '../../publisher/bird.js';
import { findBinary } from '../../publisher/run.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'romana-apply-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('BirdApplier with bird -p', () => {
  const confd = path.join(dir, 'conf.d');
  mkdirSync(confd);
  const main = path.join(dir, 'bird.conf');
  writeFileSync(main, 'router id 10.0.0.1;\nprotocol device {}\ninclude "conf.d/*.conf";\n');
  const target = path.join(confd, 'published-routes.conf');
  const applier = new BirdApplier({ configPath: target, validate: 'bird', reload: 'none', birdBin: 'bird', birdConfig: main });
  const good = 'protocol static romana_routes { ipv4; route 10.1.0.0/29 unreachable; }\n';

  it('writes a new file, then only when the text changes', async () => {
    expect(findBinary('bird'), 'bird2 must be installed').toBe(true);
    expect(await applier.apply(good, false)).toMatchObject({ written: true, reloaded: false });
    expect(readFileSync(target, 'utf8')).toBe(good);
    expect(await applier.apply(good, false)).toEqual({ written: false, reloaded: false, detail: 'unchanged' });
    // No temporary files left behind (they would never match BIRD's *.conf glob anyway).
    expect(readdirSync(confd)).toEqual(['published-routes.conf']);
  });

  it('puts the previous file back when BIRD rejects the new one', async () => {
    const bad = 'protocol static romana_routes { ipv4; route 10.1.0.0/33 unreachable; }\n';
    const e = await applier.apply(bad, false).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApplyError);
    expect((e as ApplyError).step).toBe('validate');
    expect((e as ApplyError).retryable).toBe(false);
    expect((e as ApplyError).message).toMatch(/published-routes\.conf:1:\d+ Invalid prefix length 33/);
    expect(readFileSync(target, 'utf8')).toBe(good);
  });

  it('removes the file again when there was none before', async () => {
    const other = new BirdApplier({ configPath: path.join(confd, 'second.conf'), validate: 'bird', reload: 'none', birdBin: 'bird', birdConfig: main });
    await expect(other.apply('this is not bird syntax\n', false)).rejects.toThrow(/BIRD rejected the configuration/);
    expect(existsSync(path.join(confd, 'second.conf'))).toBe(false);
  });

  it('a missing bird binary is a retryable failure', async () => {
    const none = new BirdApplier({ configPath: path.join(confd, 'third.conf'), validate: 'bird', reload: 'none', birdBin: '/nonexistent/bird', birdConfig: main });
    const e = (await none.apply(good, false).catch((x: unknown) => x)) as ApplyError;
    expect([e.step, e.retryable]).toEqual(['validate', true]);
    expect(existsSync(path.join(confd, 'third.conf'))).toBe(false);
  });
});

/** A scripted BIRD: greets, then answers each command from `replies`. */
async function fakeBird(replies: Record<string, string | null>, greeting = '0001 BIRD 2.0.12 ready.\n'): Promise<{ path: string; server: Server; seen: string[] }> {
  const p = path.join(dir, `fake-${Math.random().toString(36).slice(2)}.ctl`);
  const seen: string[] = [];
  const server = createServer((sock) => {
    sock.write(greeting);
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const cmd = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        seen.push(cmd);
        const r = replies[cmd];
        if (r === null) continue; // never answer
        // Split the reply to exercise reassembly across chunks.
        const text = r ?? '9001 syntax error\n';
        sock.write(text.slice(0, 7));
        setImmediate(() => sock.write(text.slice(7)));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(p, resolve));
  return { path: p, server, seen };
}

describe('BIRD control socket', () => {
  it('reads multi-line replies with continuation lines', async () => {
    const b = await fakeBird({ 'show status': '1000-BIRD 2.0.12\n1011-Router ID is 10.9.9.9\n Hostname is vm\n0013 Daemon is up and running\n' });
    const r = await birdCommand(b.path, 'show status');
    expect(r).toEqual({ code: 13, lines: ['BIRD 2.0.12', 'Router ID is 10.9.9.9', 'Hostname is vm', 'Daemon is up and running'] });
    b.server.close();
  });

  it('configure check and configure: success and rejection', async () => {
    const ok = await fakeBird({ 'configure check': '0002-Reading configuration from /b.conf\n0020 Configuration OK\n', configure: '0002-Reading configuration from /b.conf\n0003 Reconfigured\n' });
    await birdCheck(ok.path);
    expect(await birdConfigure(ok.path)).toBe('Reconfigured');
    expect(ok.seen).toEqual(['configure check', 'configure']);
    ok.server.close();
    const bad = await fakeBird({ 'configure check': '0002-Reading configuration from /b.conf\n8002 /c/x.conf:1:54 Invalid prefix length 33\n' });
    const e = (await birdCheck(bad.path).catch((x: unknown) => x)) as BirdError;
    expect([e.kind, e.message]).toEqual(['rejected', 'BIRD rejected the configuration: /c/x.conf:1:54 Invalid prefix length 33']);
    bad.server.close();
  });

  it('no BIRD, a wrong greeting, or silence are "unreachable"', async () => {
    const e1 = (await birdCommand(path.join(dir, 'nothing.ctl'), 'configure').catch((x: unknown) => x)) as BirdError;
    expect(e1.kind).toBe('unreachable');
    const wrong = await fakeBird({}, 'hello\n');
    expect(((await birdCommand(wrong.path, 'configure').catch((x: unknown) => x)) as BirdError).message).toMatch(/Unexpected greeting/);
    wrong.server.close();
    const silent = await fakeBird({ configure: null });
    const e3 = (await birdCommand(silent.path, 'configure', 200).catch((x: unknown) => x)) as BirdError;
    expect([e3.kind, /within 200 ms/.test(e3.message)]).toEqual(['unreachable', true]);
    silent.server.close();
  });
});

describe('SIGHUP through the pid file', () => {
  it('signals the pid the file names', async () => {
    const child = spawn(process.execPath, ['-e', 'process.on("SIGHUP", () => { console.log("hup"); process.exit(0); }); console.log("ready"); setInterval(() => {}, 1000);'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      const pidFile = path.join(dir, 'bird.pid');
      writeFileSync(pidFile, `${child.pid}\n`);
      expect(await birdSighup(pidFile)).toBe(child.pid);
      expect(await exited).toBe(0);
      expect(out).toContain('hup');
    } finally {
      child.kill('SIGKILL');
    }
    writeFileSync(path.join(dir, 'bad.pid'), 'x');
    await expect(birdSighup(path.join(dir, 'bad.pid'))).rejects.toThrow(/holds no pid/);
    await expect(birdSighup(path.join(dir, 'missing.pid'))).rejects.toThrow(/Cannot read BIRD's pid file/);
  });
});
