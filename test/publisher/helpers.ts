/**
 * Helpers for the publisher's process tests: the built romana-publisher
 * executable (dist/publisher/main.js) as a child process in the root
 * namespace with its JSON logs parsed, readiness and metrics over its
 * health server, BIRD configurations for namespace "routers", and the
 * routes BIRD put into a namespace's kernel table. Every process is
 * tracked and killed by PID at cleanup, also when a test failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { collectLogs, REPO, type LogLine } from '../helpers/daemon.js';
import type { NetnsLab } from '../helpers/netns.js';
import { waitFor } from '../helpers/poll.js';

export const PUBLISHER_MAIN = path.join(REPO, 'dist/publisher/main.js');
export const BIRD16 = process.env.ROMANA_BIRD16 ?? '/opt/romana-test/bird1.6/usr/sbin/bird';
export const TEMPLATES = path.join(REPO, 'deploy/publisher/examples');

export interface PublisherProcess {
  proc: ChildProcess;
  pid: number;
  logs: LogLine[];
  stderr(): string;
  exited: Promise<number | string>;
  /** Resolves with the health server's URL once the publisher logged its start. */
  healthUrl(timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
}

const started = new Set<PublisherProcess>();

export function spawnPublisher(args: string[], env: NodeJS.ProcessEnv = {}): PublisherProcess {
  if (!existsSync(PUBLISHER_MAIN)) throw new Error(`${PUBLISHER_MAIN} is missing: run "npx tsc -p tsconfig.json" (npm test builds it)`);
  const proc = spawn(process.execPath, [PUBLISHER_MAIN, ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let code: number | string | undefined;
  proc.stdout!.resume();
  const { logs, text: stderrText } = collectLogs(proc.stderr!);
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (c, sig) => {
      code = c ?? sig ?? 'unknown';
      resolve(code);
    }),
  );
  const p: PublisherProcess = {
    proc,
    pid: proc.pid!,
    logs,
    stderr: stderrText,
    exited,
    healthUrl: (timeoutMs = 20_000) =>
      waitFor(
        `publisher ${proc.pid} to start`,
        () => {
          const line = logs.find((l) => typeof l.health === 'string');
          if (line) return line.health as string;
          if (code !== undefined) throw new Error(`publisher exited (${code}): ${stderrText()}`);
          return undefined;
        },
        { timeoutMs, intervalMs: 10 },
      ),
    kill: (signal = 'SIGKILL') => {
      if (code === undefined) {
        try {
          process.kill(proc.pid!, signal);
        } catch {
          // gone
        }
      }
    },
  };
  started.add(p);
  void exited.then(() => started.delete(p));
  return p;
}

export async function killPublishers(): Promise<void> {
  const all = [...started];
  for (const p of all) p.kill('SIGKILL');
  await Promise.all(all.map((p) => p.exited));
}

export async function getJson(url: string): Promise<{ status: number; json: any }> {
  const r = await request(url);
  const text = await r.body.text();
  return { status: r.statusCode, json: text === '' ? undefined : JSON.parse(text) };
}

/** Value of one sample in Prometheus text ("name" or "name{labels}"), 0 when absent. */
export async function metric(healthUrl: string, sample: string): Promise<number> {
  const r = await request(`${healthUrl}/metrics`);
  const text = await r.body.text();
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return 0;
}

/** Destinations of the routes BIRD installed in a namespace's main table (proto bird), sorted. */
export async function birdRoutes(lab: NetnsLab, ns: string): Promise<string[]> {
  const routes = await lab.ipJson<{ dst: string; protocol?: string }>(ns, 'route', 'show', 'proto', 'bird');
  return routes.map((r) => (r.dst.includes('/') ? r.dst : `${r.dst}/32`)).sort();
}

export function sorted(xs: Iterable<string>): string[] {
  return [...xs].sort();
}

/** A veth between two namespaces, both ends named eth0, addressed and up (all commands inside the namespaces). */
export async function linkPair(lab: NetnsLab, a: string, aAddr: string, b: string, bAddr: string): Promise<void> {
  await lab.ip(a, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b);
  await lab.ip(a, 'addr', 'add', aAddr, 'dev', 'eth0');
  await lab.ip(b, 'addr', 'add', bAddr, 'dev', 'eth0');
  await lab.ip(a, 'link', 'set', 'eth0', 'up');
  await lab.ip(b, 'link', 'set', 'eth0', 'up');
}

/** BIRD in a namespace, foreground, with its control socket and pid file; resolves once the socket answers. */
export async function startBird(lab: NetnsLab, ns: string, conf: string, ctl: string, pidFile: string): Promise<number> {
  const p = lab.spawn(ns, 'bird', ['-f', '-c', conf, '-s', ctl, '-P', pidFile]);
  await waitFor(`BIRD in ${ns} to answer on ${ctl}`, async () => {
    if (p.exitCode() !== undefined) throw new Error(`bird in ${ns} exited (${p.exitCode()}): ${p.stderr()}`);
    const r = await lab.exec(ns, 'birdc', ['-s', ctl, 'show', 'status']);
    return r.code === 0 && /Daemon is up and running/.test(r.stdout);
  }, { timeoutMs: 15_000, intervalMs: 50 });
  return p.pid;
}
