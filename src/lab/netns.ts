/**
 * Network namespaces for the lab and the privileged tests: every command
 * run *inside* a namespace we created (never in the root namespace),
 * processes started in them tracked by PID, and cleanup by name and PID.
 *
 * Design: a NetnsLab owns a name prefix (tests: "rt" + pid/random, unique
 * per run; `romana lab`: a fixed prefix such as "rlab", see
 * `{ fixedPrefix: true }`) and remembers every namespace and process it
 * made. `cleanup()` kills the processes (SIGKILL
 * by PID), then deletes the namespaces (deleting a namespace removes its
 * veths, routes, iptables rules and ipsets with it). A process-exit hook
 * does the same synchronously for a worker that dies without teardown
 * (not for `romana lab`, whose namespaces outlive the command:
 * `{ cleanupOnExit: false }`).
 *
 * Also here: `invokeCni`, which runs the real romana-cni executable inside
 * a host namespace the way a runtime does (CNI_* environment, config on
 * stdin), for the CNI and lab tests.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './paths.js';
import { watchLines, type LineChild } from './child_lines.js';

const execFileP = promisify(execFile);

const REPO = repoRoot();

export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

/** Why privileged tests cannot run here, or null when they can. */
export function privilegedSkipReason(): string | null {
  if (!IS_ROOT) return 'privileged tests need root (they create network namespaces); run as root, as CI does';
  for (const bin of ['/usr/sbin/ip', '/usr/bin/nsenter']) if (!existsSync(bin)) return `${bin} is missing (apt-get install iproute2 util-linux)`;
  return null;
}

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program; never throws for a non-zero exit (callers decide). */
export async function run(file: string, args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CmdResult> {
  return new Promise((resolve) => {
    const child = spawn(file, [...args], { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (e) => resolve({ code: 127, stdout, stderr: stderr + e.message }));
    child.once('close', (code, sig) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr: sig ? `${stderr}killed by ${sig}` : stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

export interface NsProcess extends LineChild {
  ns: string;
}

const labs = new Set<NetnsLab>();

export class NetnsLab {
  /** Unique per run: namespaces of parallel or crashed runs never clash. */
  readonly prefix: string;
  private readonly namespaces: string[] = [];
  private readonly procs = new Set<NsProcess>();
  private readonly paths: string[] = [];

  constructor(tag = 'rt', opts: { fixedPrefix?: boolean; cleanupOnExit?: boolean } = {}) {
    this.prefix = opts.fixedPrefix ? tag : `${tag}${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
    if (opts.cleanupOnExit ?? true) labs.add(this);
  }

  /** Creates namespace `<prefix>-<name>` with lo up; returns its full name. */
  async add(name: string): Promise<string> {
    const full = `${this.prefix}-${name}`;
    await this.must('ip', ['netns', 'add', full]);
    this.namespaces.push(full);
    await this.ip(full, 'link', 'set', 'lo', 'up');
    return full;
  }

  /** Deletes one namespace now (tests of "the netns is gone"). */
  async del(full: string): Promise<void> {
    await this.must('ip', ['netns', 'del', full]);
    const i = this.namespaces.indexOf(full);
    if (i >= 0) this.namespaces.splice(i, 1);
  }

  path(full: string): string {
    return `/var/run/netns/${full}`;
  }

  /** A file or directory to remove at cleanup (sockets, temp dirs). */
  track(path: string): void {
    this.paths.push(path);
  }

  /** `ip -n NS ...`; throws with the command and stderr on failure. */
  async ip(ns: string, ...args: string[]): Promise<string> {
    return (await this.must('ip', ['-n', ns, ...args])).stdout;
  }

  /** `ip -n NS -j ...` parsed. */
  async ipJson<T = any>(ns: string, ...args: string[]): Promise<T[]> {
    const out = await this.ip(ns, '-j', ...args);
    return out.trim() === '' ? [] : (JSON.parse(out) as T[]);
  }

  /** Any program inside NS (`ip netns exec`), not throwing. */
  exec(ns: string, file: string, args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CmdResult> {
    return run('ip', ['netns', 'exec', ns, file, ...args], opts);
  }

  /** Like exec, throwing on a non-zero exit. */
  async mustExec(ns: string, file: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.exec(ns, file, args, opts);
    if (r.code !== 0) throw new Error(`ip netns exec ${ns} ${file} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** A long-running process inside NS, killed by PID at cleanup. */
  spawn(ns: string, file: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): NsProcess {
    const proc = spawn('ip', ['netns', 'exec', ns, file, ...args], { env: opts.env ?? process.env, cwd: opts.cwd ?? REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    const p: NsProcess = { ...watchLines(proc, `${file} in ${ns}`), ns };
    this.procs.add(p);
    void p.exited.then(() => this.procs.delete(p));
    return p;
  }

  private async must(file: string, args: string[]): Promise<CmdResult> {
    try {
      const { stdout, stderr } = await execFileP(file, args);
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code?: number; stderr?: string };
      throw new Error(`${file} ${args.join(' ')} failed (${err.code}): ${String(err.stderr ?? e).trim()}`);
    }
  }

  /** Names of this lab's namespaces that still exist. */
  existing(): string[] {
    const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    return out
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter((n) => n.startsWith(`${this.prefix}-`));
  }

  /** Kills every tracked process by PID, deletes every namespace by name, removes tracked paths. */
  async cleanup(): Promise<void> {
    const procs = [...this.procs];
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    this.cleanupSync();
  }

  cleanupSync(): void {
    for (const p of this.procs) p.kill('SIGKILL');
    // `ip netns list` too: a namespace made by a helper that threw before recording it.
    let names = [...this.namespaces];
    try {
      names = [...new Set([...names, ...this.existing()])];
    } catch {
      // ip unavailable: delete what we recorded
    }
    for (const n of names.reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    this.namespaces.length = 0;
    for (const p of this.paths.splice(0)) rmSync(p, { recursive: true, force: true });
    labs.delete(this);
  }
}

// A worker that exits without running afterAll still removes its namespaces.
process.once('exit', () => {
  for (const lab of [...labs]) lab.cleanupSync();
});

/** The plugin as tsc builds it, and as `npm run build` bundles it for /opt/cni/bin. */
export const CNI_MAIN = path.join(REPO, 'dist/src/cni/main.js');
export const CNI_BUNDLE = path.join(REPO, 'dist/romana-cni.cjs');

export interface CniInvocation extends CmdResult {
  /** Parsed stdout; {} when empty. */
  json: any;
  ms: number;
}

/**
 * Runs romana-cni inside `hostNs` like a runtime: a clean environment with
 * the CNI_* variables, the network config on stdin.
 */
export async function invokeCni(
  lab: NetnsLab,
  hostNs: string,
  vars: Record<string, string>,
  config: unknown,
  opts: { entry?: string } = {},
): Promise<CniInvocation> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...vars };
  const t0 = performance.now();
  const r = await lab.exec(hostNs, process.execPath, [opts.entry ?? CNI_MAIN], { env, input: JSON.stringify(config), timeoutMs: 60_000 });
  const ms = performance.now() - t0;
  let json: any = {};
  if (r.stdout.trim() !== '') {
    try {
      json = JSON.parse(r.stdout);
    } catch {
      throw new Error(`romana-cni printed non-JSON on stdout (exit ${r.code}): ${r.stdout}\nstderr: ${r.stderr}`);
    }
  }
  return { ...r, json, ms };
}
