/**
 * The publisher embedded in the daemon (`romana-daemon --publisher=FLAGS`):
 * one process follows its own API and writes the node's configuration;
 * bad publisher flags stop the daemon at start with exit 2. No BIRD here
 * (--reload none --validate none): the BIRD paths are covered by the
 * privileged tests.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEmbeddedPublisher, splitFlags } from '../../publisher/config.js';
import { cleanupDaemons, http, spawnDaemon, startDaemon, tempDir } from '../helpers/daemon.js';
import { waitFor } from '../helpers/poll.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'romana-publisher-embedded-'));
afterAll(async () => {
  await cleanupDaemons();
  rmSync(dir, { recursive: true, force: true });
});

describe('romana-daemon --publisher', () => {
  it('splits and checks the flags', () => {
    expect(splitFlags(`--node n1 --arg 'a=b c' --template "/x y/p.conf" --arg x=\\"q`)).toEqual({ ok: true, args: ['--node', 'n1', '--arg', 'a=b c', '--template', '/x y/p.conf', '--arg', 'x="q'] });
    expect(splitFlags('--node "n1')).toEqual({ ok: false, problem: 'unterminated " quote' });
    const p = parseEmbeddedPublisher('--node n1', 'http://127.0.0.1:1234');
    expect(p.ok && [p.config.daemon, p.config.healthPort, p.config.node]).toEqual(['http://127.0.0.1:1234', -1, 'n1']);
    const q = parseEmbeddedPublisher('--node n1 --daemon http://10.0.0.1:9600 --health-port 9700', 'http://127.0.0.1:1234');
    expect(q.ok && [q.config.daemon, q.config.healthPort]).toEqual(['http://10.0.0.1:9600', 9700]);
  });

  it('publishes from inside the daemon', async () => {
    const template = path.join(dir, 'publisher.conf');
    writeFileSync(template, '{{ range .Networks }}route {{ . }} unreachable;\n{{ end }}');
    const out = path.join(dir, 'conf.d/published-routes.conf');
    const d = await startDaemon([`--publisher=--node n1 --template ${template} --config ${out} --reload none --validate none --debounce-ms 20`]);
    expect((await http(d.url(), 'POST', '/hosts', { body: { name: 'n1', ip: '192.168.20.30' } })).status).toBe(201);
    for (let i = 0; i < 9; i++) expect((await http(d.url(), 'POST', '/address', { body: { name: `p${i}`, host: 'n1' } })).status).toBe(200);
    await waitFor('the embedded publisher to write both blocks', () => {
      try {
        return readFileSync(out, 'utf8') === 'route 10.112.0.0/29 unreachable;\nroute 10.112.0.8/29 unreachable;\n';
      } catch {
        return false;
      }
    });
    // The log line follows the write and arrives through the daemon's stderr pipe: wait for it too.
    await waitFor('the embedded publisher to log what it published', () => d.logs.some((l) => l.component === 'publisher' && /published 2 prefixes/.test(l.msg)));
    expect(await d.stop()).toBe(0);
  });

  it('refuses bad publisher flags at start', async () => {
    const d = spawnDaemon(['--port', '0', '--data-dir', tempDir(), '--publisher=--aggregate most']);
    expect(await d.exited).toBe(2);
    expect(d.stderr()).toContain('romana-daemon: invalid --publisher "--aggregate most": invalid --aggregate "most": must be one of none, blocks, cluster, group');
  });
});
