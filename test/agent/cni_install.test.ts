/**
 * Installing the CNI plugin: binary and conflist written atomically, not
 * rewritten when already right, other plugins' files untouched, and an
 * inline token kept out of a world-readable file.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFLIST_NAME, conflist, installCni } from '../../src/agent/cni_install.js';
import { cleanupDaemons, tempDir } from '../helpers/daemon.js';

afterAll(cleanupDaemons);

describe('installCni', () => {
  it('installs the binary and the conflist, leaves other files alone, and rewrites nothing that is right', async () => {
    const dir = tempDir('romana-cni-install-');
    const bin = path.join(dir, 'bin');
    const conf = path.join(dir, 'net.d');
    mkdirSync(bin);
    mkdirSync(conf);
    writeFileSync(path.join(bin, 'bridge'), 'other plugin');
    writeFileSync(path.join(conf, '05-other.conf'), '{"type":"bridge"}');
    writeFileSync(path.join(dir, 'romana-cni'), '#!/usr/bin/env node\n');
    const o = { source: path.join(dir, 'romana-cni'), binDir: bin, confDir: conf, daemon: 'unix:/run/romana/d.sock', nodeName: 'n1', agentUrl: 'http://127.0.0.1:9607', mtu: 1450, token: null, tokenFile: '/etc/romana/token' };
    const first = await installCni(o);
    expect(first).toEqual({ binary: { path: path.join(bin, 'romana'), written: true }, conflist: { path: path.join(conf, CONFLIST_NAME), written: true } });
    expect(readdirSync(bin).sort()).toEqual(['bridge', 'romana']);
    expect(readdirSync(conf).sort()).toEqual(['05-other.conf', CONFLIST_NAME]);
    expect(readFileSync(path.join(bin, 'bridge'), 'utf8')).toBe('other plugin');
    expect(statSync(path.join(bin, 'romana')).mode & 0o777).toBe(0o755);
    expect(JSON.parse(readFileSync(path.join(conf, CONFLIST_NAME), 'utf8'))).toEqual({
      cniVersion: '1.0.0',
      name: 'romana',
      plugins: [{ type: 'romana', daemon: 'unix:/run/romana/d.sock', node_name: 'n1', agent: 'http://127.0.0.1:9607', mtu: 1450, token_file: '/etc/romana/token' }],
    });
    // Mark the files as old: a second install must not replace them.
    const old = new Date('2020-01-01T00:00:00Z');
    utimesSync(path.join(bin, 'romana'), old, old);
    utimesSync(path.join(conf, CONFLIST_NAME), old, old);
    const second = await installCni(o);
    expect(second.binary!.written).toBe(false);
    expect(second.conflist.written).toBe(false);
    expect(statSync(path.join(bin, 'romana')).mtime.getTime()).toBe(old.getTime());
    // A changed setting rewrites the conflist (and only it).
    const third = await installCni({ ...o, mtu: 9000 });
    expect(third.binary!.written).toBe(false);
    expect(third.conflist.written).toBe(true);
    expect(readdirSync(conf).sort()).toEqual(['05-other.conf', CONFLIST_NAME]);
  });

  it('keeps an inline token out of a world-readable file and skips the binary without a source', async () => {
    const dir = tempDir('romana-cni-install-');
    const r = await installCni({ source: null, binDir: path.join(dir, 'bin'), confDir: path.join(dir, 'net.d'), daemon: 'http://10.0.0.1:9600', nodeName: 'n1', agentUrl: 'http://127.0.0.1:1', mtu: 1500, token: 'agent-token-123', tokenFile: null });
    expect(r.binary).toBeNull();
    expect(statSync(r.conflist.path).mode & 0o777).toBe(0o600);
    expect(conflist({ daemon: 'd', nodeName: 'n', agentUrl: 'a', mtu: 1, token: 'agent-token-123', tokenFile: null }).plugins).toEqual([
      { type: 'romana', daemon: 'd', node_name: 'n', agent: 'a', mtu: 1, token: 'agent-token-123' },
    ]);
  });
});
