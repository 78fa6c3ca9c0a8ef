/**
 * The publisher loop: state changes → (debounced) render → apply.
 *
 * Design (kube-router style: one controller, a coalesced "sync requested"
 * flag; Felix style: handlers only mark dirty, one pass does the I/O):
 * - `markDirty()` is all an event does. A pass starts `debounceMs` after
 *   the last mark, but never later than `maxDelayMs` after the first
 *   unserved one, so a burst of block changes is one render and one
 *   reload, and a steady stream still publishes.
 * - A pass reads the template (best-match file name, re-read every time so
 *   a changed ConfigMap takes effect), builds the data from the followed
 *   state, executes, and hands the text to the applier (which writes only
 *   when the text changed, checks with BIRD and reloads; see apply.ts).
 * - Failures keep the last good configuration in place. A template error
 *   or a configuration BIRD rejects waits for the next change (or the
 *   periodic resync); BIRD being unreachable is retried with doubling
 *   backoff. Each failure is logged once per distinct message, counted in
 *   metrics, and shown by /readyz until a pass succeeds.
 * - The first successful pass after start always reloads BIRD, even when
 *   the file on disk is already right: BIRD may have started before it was.
 *
 * Concurrency rule: one pass at a time; marks during a pass schedule
 * another one after it.
 */
import path from 'node:path';
import type { IpamState } from '../src/core/ipam/index.js';
import type { Logger } from '../src/shared/log.js';
import { ApplyError, type ApplyOutcome } from './apply.js';
import { buildTemplateData, type AggregateMode, type Aggregator } from './data.js';
import type { PublisherMetrics } from './metrics.js';
import { Template, TemplateError } from './template/index.js';

export interface TemplateSource {
  /** The chosen file's path and text; throws with a message naming every candidate when none exists. */
  read(): Promise<{ path: string; text: string }>;
}

export interface ApplyTarget {
  apply(text: string, forceReload: boolean): Promise<ApplyOutcome>;
}

export interface StateSource {
  readonly state: IpamState | null;
  readonly revision: number;
}

export interface PublisherOptions {
  node: string;
  localAs: string;
  neighborIp: string;
  neighborAs: string;
  args: ReadonlyMap<string, string>;
  aggregate: AggregateMode;
  debounceMs: number;
  maxDelayMs: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
}

export type FailedStep = 'template' | 'write' | 'validate' | 'reload';

export interface PassError {
  step: FailedStep;
  message: string;
  /** Template errors: where. */
  line?: number;
  col?: number;
  since: string;
}

export interface PublisherStatus {
  /** A pass has succeeded since start. */
  published: boolean;
  /** The last pass succeeded (the current state is in BIRD). */
  ok: boolean;
  error: PassError | null;
  lastSuccessAt: string | null;
  /** Daemon revision the last successful pass rendered. */
  revision: number;
  announced: number;
  templatePath: string | null;
  passes: number;
  reloads: number;
}

export class Publisher {
  readonly status: PublisherStatus = {
    published: false,
    ok: false,
    error: null,
    lastSuccessAt: null,
    revision: 0,
    announced: 0,
    templatePath: null,
    passes: 0,
    reloads: 0,
  };
  private dirty = false;
  private firstDirtyAt: number | null = null;
  private running = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private retryMs: number;
  private cached: { name: string; text: string; tmpl: Template } | null = null;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly o: PublisherOptions,
    private readonly deps: { source: StateSource; template: TemplateSource; target: ApplyTarget; aggregate: Aggregator; log: Logger; metrics: PublisherMetrics },
  ) {
    this.retryMs = o.retryInitialMs ?? 500;
  }

  /** Something changed: render again soon. No I/O. */
  markDirty(): void {
    if (this.stopped) return;
    this.dirty = true;
    const now = Date.now();
    this.firstDirtyAt ??= now;
    if (this.running) return;
    this.arm(Math.min(now + this.o.debounceMs, this.firstDirtyAt + this.o.maxDelayMs) - now);
  }

  private arm(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runPass();
    }, Math.max(0, delayMs));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Resolves when no pass is running or scheduled (tests and benchmarks). */
  idle(): Promise<void> {
    if (!this.running && this.timer === null) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async runPass(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    this.dirty = false;
    this.firstDirtyAt = null;
    let retry = false;
    try {
      retry = await this.pass();
    } catch (e) {
      this.deps.log.error({ err: e }, `publisher pass failed unexpectedly: ${(e as Error).message}`);
      retry = true;
    } finally {
      this.running = false;
    }
    if (this.stopped) return this.notifyIdle();
    if (retry) {
      this.dirty = true;
      this.arm(this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, this.o.retryMaxMs ?? 10_000);
    } else if (this.dirty) {
      const now = Date.now();
      this.arm(Math.min(now + this.o.debounceMs, (this.firstDirtyAt ?? now) + this.o.maxDelayMs) - now);
    } else this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.timer !== null || this.running) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** One render + apply; resolves true when it should be retried (BIRD unreachable). */
  async pass(): Promise<boolean> {
    const { source, metrics, log } = this.deps;
    const state = source.state;
    if (!state) return false;
    const revision = source.revision;
    this.status.passes++;
    const t0 = performance.now();
    let text: string;
    let announced: number;
    try {
      const file = await this.deps.template.read();
      this.status.templatePath = file.path;
      // An empty file (a ConfigMap key gone missing) would withdraw every route: refuse it.
      if (file.text.trim() === '') throw new Error(`Template file ${file.path} is empty`);
      const name = path.basename(file.path);
      if (this.cached === null || this.cached.text !== file.text || this.cached.name !== name) {
        this.cached = { name, text: file.text, tmpl: Template.parse(name, file.text) };
      }
      const data = await buildTemplateData(state, this.o, this.deps.aggregate);
      announced = data.Networks.length;
      text = this.cached.tmpl.execute(data);
      metrics.renders.inc({ result: 'ok' });
      metrics.renderSeconds.observe((performance.now() - t0) / 1000);
    } catch (e) {
      metrics.renders.inc({ result: 'error' });
      this.fail('template', e);
      return false;
    }
    const t1 = performance.now();
    try {
      const out = await this.deps.target.apply(text, !this.status.published);
      metrics.applySeconds.observe((performance.now() - t1) / 1000);
      metrics.applies.inc({ result: out.reloaded ? 'reloaded' : 'unchanged' });
      const recovered = this.status.error !== null;
      this.status.published = true;
      this.status.ok = true;
      this.status.error = null;
      this.status.lastSuccessAt = new Date().toISOString();
      this.status.revision = revision;
      this.status.announced = announced;
      if (out.reloaded) this.status.reloads++;
      this.retryMs = this.o.retryInitialMs ?? 500;
      metrics.configOk.set(1);
      metrics.announced.set(announced);
      metrics.lastSuccess.set(Date.now() / 1000);
      const fields = { node: this.o.node, localAs: this.o.localAs, networks: announced, revision, written: out.written, reloaded: out.reloaded, bird: out.detail, ms: Math.round(performance.now() - t0) };
      if (out.written || out.reloaded || recovered) log.info(fields, `published ${announced} prefixes at AS ${this.o.localAs}${recovered ? ' (recovered)' : ''}: ${out.detail}`);
      else log.debug(fields, 'configuration unchanged');
      return false;
    } catch (e) {
      metrics.applies.inc({ result: 'error' });
      const err = e instanceof ApplyError ? e : new ApplyError((e as Error).message, 'write', true);
      metrics.applyErrors.inc({ step: err.step });
      this.fail(err.step, err);
      return err.retryable;
    }
  }

  private fail(step: FailedStep, e: unknown): void {
    const message = (e as Error)?.message ?? String(e);
    const same = this.status.error?.step === step && this.status.error.message === message;
    const err: PassError = { step, message, since: same ? this.status.error!.since : new Date().toISOString() };
    if (e instanceof TemplateError) {
      err.line = e.line;
      err.col = e.col;
    }
    this.status.ok = false;
    this.status.error = err;
    this.deps.metrics.configOk.set(0);
    const what = step === 'template' ? 'template error' : step === 'validate' ? 'BIRD rejected the rendered configuration' : step === 'reload' ? 'BIRD reload failed' : 'write failed';
    // Once per distinct error: a broken template re-renders on every event and resync.
    if (same) this.deps.log.debug({ step, err: message }, `${what}; keeping the last good configuration`);
    else this.deps.log.error({ step, err: message, line: err.line, col: err.col }, `${what}; keeping the last good configuration: ${message}`);
  }
}
