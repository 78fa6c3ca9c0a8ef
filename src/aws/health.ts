/**
 * Router health for romana-vpcrouter: ICMP echo (the system `ping`) or a
 * TCP connect to a port, every interval, for every router IP of the spec.
 *
 * Design: a target is failed as soon as one probe fails (the probe's own
 * timeout, 0.75 × the interval as the original, is the debounce), so a dead
 * router is reported within about one interval and the router reconciles
 * at once (onChange). A failed target becomes healthy again only after
 * `recoverAfter` consecutive good probes, so a flapping host does not pull
 * routes back and forth. Probes of one round run concurrently; a round
 * never overlaps the next (the loop waits for the round, then the rest of
 * the interval).
 *
 * Concurrency rule: one loop per monitor; `isHealthy` and `snapshot` read
 * the last finished round's state.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import type { Logger } from '../shared/log.js';

/** Resolves true when `ip` answered. Never rejects. */
export type Probe = (ip: string) => Promise<boolean>;

/**
 * ICMP echo with the system ping: one packet, `-W` seconds to answer.
 * `execPrefix` runs ping through another command (e.g. `ip netns exec NS`).
 */
export function icmpProbe(timeoutMs: number, execPrefix: readonly string[] = []): Probe {
  const secs = Math.max(0.1, timeoutMs / 1000).toFixed(1);
  return (ip) =>
    new Promise((resolve) => {
      const argv = [...execPrefix, 'ping', '-n', '-q', '-c', '1', '-W', secs, ip];
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
      // Backstop: ping honours -W, but a stuck exec must not stall the round.
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 2000);
      child.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code === 0);
      });
    });
}

/** TCP connect to `port`: healthy when the handshake completes within the timeout. */
export function tcpProbe(port: number, timeoutMs: number): Probe {
  return (ip) =>
    new Promise((resolve) => {
      const sock = net.connect({ host: ip, port });
      const done = (ok: boolean): void => {
        sock.destroy();
        resolve(ok);
      };
      sock.setTimeout(timeoutMs, () => done(false));
      sock.once('connect', () => done(true));
      sock.once('error', () => done(false));
    });
}

export interface TargetHealth {
  healthy: boolean;
  /** Consecutive good probes (reset by a bad one). */
  okStreak: number;
  /** Consecutive bad probes (reset by a good one). */
  failStreak: number;
  lastCheck: string | null;
  lastChange: string | null;
}

export interface HealthMonitorOptions {
  readonly probe: Probe;
  readonly intervalMs: number;
  /** Good probes in a row before a failed target counts as healthy again (default 3). */
  readonly recoverAfter?: number;
  readonly log: Logger;
  /** Called after a round in which some target became failed or healthy. */
  readonly onChange?: (failed: string[], recovered: string[]) => void;
  readonly now?: () => Date;
}

export class HealthMonitor {
  private readonly state = new Map<string, TargetHealth>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private round: Promise<void> | null = null;
  rounds = 0;

  constructor(private readonly o: HealthMonitorOptions) {}

  /** The IPs to watch; new ones start healthy (unknown = usable, as the original), gone ones are forgotten. */
  setTargets(ips: Iterable<string>): void {
    const want = new Set(ips);
    for (const ip of [...this.state.keys()]) if (!want.has(ip)) this.state.delete(ip);
    for (const ip of want) if (!this.state.has(ip)) this.state.set(ip, { healthy: true, okStreak: 0, failStreak: 0, lastCheck: null, lastChange: null });
  }

  isHealthy(ip: string): boolean {
    return this.state.get(ip)?.healthy ?? true;
  }

  snapshot(): Record<string, TargetHealth> {
    return Object.fromEntries([...this.state.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, { ...v }]));
  }

  failed(): string[] {
    return [...this.state.entries()].filter(([, v]) => !v.healthy).map(([k]) => k);
  }

  /** One probe round over every target. */
  async checkOnce(): Promise<void> {
    const now = (this.o.now ?? (() => new Date()))().toISOString();
    const ips = [...this.state.keys()];
    const results = await Promise.all(ips.map((ip) => this.o.probe(ip)));
    const failed: string[] = [];
    const recovered: string[] = [];
    ips.forEach((ip, i) => {
      const t = this.state.get(ip);
      if (!t) return; // removed meanwhile
      const ok = results[i]!;
      t.lastCheck = now;
      t.okStreak = ok ? t.okStreak + 1 : 0;
      t.failStreak = ok ? 0 : t.failStreak + 1;
      if (t.healthy && !ok) {
        t.healthy = false;
        t.lastChange = now;
        failed.push(ip);
      } else if (!t.healthy && t.okStreak >= (this.o.recoverAfter ?? 3)) {
        t.healthy = true;
        t.lastChange = now;
        recovered.push(ip);
      }
    });
    this.rounds++;
    for (const ip of failed) this.o.log.warn({ ip }, `Router ${ip} failed its health check`);
    for (const ip of recovered) this.o.log.info({ ip }, `Router ${ip} is healthy again`);
    if (failed.length > 0 || recovered.length > 0) this.o.onChange?.(failed, recovered);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = (): void => {
      if (!this.running) return;
      const started = Date.now();
      this.round = this.checkOnce()
        .catch((e: unknown) => this.o.log.error({ err: e }, 'Health round failed'))
        .finally(() => {
          this.round = null;
          if (this.running) this.timer = setTimeout(loop, Math.max(0, this.o.intervalMs - (Date.now() - started)));
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.round;
  }
}
