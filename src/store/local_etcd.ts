/**
 * A throwaway single-node etcd on loopback, for tests, benchmarks and the
 * lab (never for production: one member, no TLS).
 *
 * Goal: start etcd with the command line of machine-notes §2 on free ports,
 * wait until it serves writes, and stop it by PID, removing its data dir.
 *
 * Design: the data dir is a fresh directory under `parentDir` (default
 * /dev/shm: tmpfs makes fsync cheap); readiness is a successful put through
 * a fresh client per attempt (the etcd3 client opens a 5 s circuit breaker
 * after three failed calls). `restart()` kills with SIGKILL and starts again
 * on the same ports and data, which is also how a crash is simulated.
 *
 * Concurrency rule: each instance owns its process and directory; stop() is
 * idempotent and safe to call from a failing test's teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Etcd3 } from 'etcd3';

export interface EtcdInstance {
  endpoint: string;
  /** PID of the running etcd (changes after restart()). */
  pid(): number;
  dataDir: string;
  /** Stops etcd (SIGTERM, then SIGKILL after 5 s) and removes the data dir. Idempotent. */
  stop(): Promise<void>;
  /**
   * Kills etcd with SIGKILL (a crash: etcd's graceful stop waits seconds for
   * open client streams), keeps its data, starts it again on the same ports;
   * resolves when it serves.
   */
  restart(): Promise<void>;
}

/** The etcd binary (Debian's etcd-server package installs /usr/bin/etcd). */
export const ETCD_BIN = '/usr/bin/etcd';

/** A port the kernel just handed out on 127.0.0.1 (closed again before use). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
  isExited(): boolean;
  stderr(): string;
}

function spawnEtcd(bin: string, dataDir: string, clientUrl: string, peerUrl: string): Running {
  const name = 'romana-local';
  const child = spawn(
    bin,
    [
      '--name', name, '--data-dir', dataDir, '--logger=zap', '--log-level=error',
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `${name}=${peerUrl}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited = false;
  const exitedP = new Promise<void>((resolve) => {
    child.once('exit', () => { exited = true; resolve(); });
    // A spawn failure (missing binary) emits 'error' and no 'exit'.
    child.once('error', (e) => { stderr += `\n${String(e)}`; exited = true; resolve(); });
  });
  return { child, exited: exitedP, isExited: () => exited, stderr: () => stderr };
}

async function stopProcess(r: Running, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (r.isExited() || r.child.pid === undefined) return;
  const pid = r.child.pid;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
  const killTimer = setTimeout(() => {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }, 5000);
  await r.exited;
  clearTimeout(killTimer);
}

/**
 * Ready = a put succeeds (health alone can precede the first leader election).
 * A fresh client per attempt: the etcd3 client opens a circuit breaker for
 * 5 s after three failed calls, which would turn a 0.4 s start into 5 s.
 */
async function waitReady(bin: string, endpoint: string, r: Running): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (r.isExited()) throw new Error(`etcd (${bin}) exited during start-up: ${r.stderr()}`);
    const probe = new Etcd3({ hosts: endpoint, dialTimeout: 1000 });
    try {
      await probe.put('/romana-local-ready').value('1').options({ deadline: Date.now() + 1000 });
      await probe.delete().key('/romana-local-ready');
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`etcd at ${endpoint} not ready after 15 s: ${String(e)}; stderr: ${r.stderr()}`);
      await new Promise((res) => setTimeout(res, 50));
    } finally {
      probe.close();
    }
  }
}

export interface StartEtcdOptions {
  /** Directory under which the data dir is created (default /dev/shm). */
  parentDir?: string;
  /** etcd binary (default /usr/bin/etcd). */
  bin?: string;
}

export async function startEtcd(opts: StartEtcdOptions = {}): Promise<EtcdInstance> {
  const bin = opts.bin ?? ETCD_BIN;
  const clientUrl = `http://127.0.0.1:${await freePort()}`;
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  const dataDir = mkdtempSync(path.join(opts.parentDir ?? '/dev/shm', 'romana-etcd-'));
  let running = spawnEtcd(bin, dataDir, clientUrl, peerUrl);
  let stopped = false;
  const stop = async (): Promise<void> => {
    stopped = true;
    await stopProcess(running);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitReady(bin, clientUrl, running);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    endpoint: clientUrl,
    pid: () => running.child.pid ?? -1,
    dataDir,
    stop,
    restart: async () => {
      if (stopped) throw new Error('etcd was stopped');
      await stopProcess(running, 'SIGKILL');
      running = spawnEtcd(bin, dataDir, clientUrl, peerUrl);
      try {
        await waitReady(bin, clientUrl, running);
      } catch (e) {
        await stop();
        throw e;
      }
    },
  };
}
