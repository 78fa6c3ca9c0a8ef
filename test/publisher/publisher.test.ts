/**
 * The publisher loop with in-memory collaborators (state, template, apply
 * target): debouncing (a burst is one apply; a steady stream still
 * publishes within maxDelay), the first pass forcing a reload, template
 * errors keeping the last good text and being reported with line and
 * column, retries with backoff only when BIRD is unreachable, recovery.
 * Waits poll the loop's own idle() promise, never the clock.
 */
import { describe, expect, it } from 'vitest';
import { ApplyError, type ApplyOutcome } from '../../publisher/apply.js';
import { createPublisherMetrics } from '../../publisher/metrics.js';
import { Publisher, type ApplyTarget, type PublisherOptions } from '../../publisher/publisher.js';
import { poolAggregator } from '../../publisher/run.js';
import { silentLogger } from '../../src/shared/log.js';
import { waitFor } from '../helpers/poll.js';
import { scenario } from './scenario.js';

const OPTS: PublisherOptions = { node: 'node-a', localAs: '65534', neighborIp: '', neighborAs: '', args: new Map(), aggregate: 'none', debounceMs: 30, maxDelayMs: 300, retryInitialMs: 10, retryMaxMs: 40 };

class FakeTarget implements ApplyTarget {
  applied: Array<{ text: string; force: boolean }> = [];
  current: string | null = null;
  failures: ApplyError[] = [];
  async apply(text: string, force: boolean): Promise<ApplyOutcome> {
    const f = this.failures.shift();
    if (f) throw f;
    const written = text !== this.current;
    this.current = text;
    this.applied.push({ text, force });
    return { written, reloaded: written || force, detail: 'Reconfigured' };
  }
}

function setup(template: { text: string }, opts: Partial<PublisherOptions> = {}) {
  const m = scenario();
  const source = { state: m.state, revision: 1 };
  const target = new FakeTarget();
  const metrics = createPublisherMetrics({ defaultMetrics: false });
  const pub = new Publisher({ ...OPTS, ...opts }, {
    source,
    template: { read: async () => ({ path: '/t/publisher.conf', text: template.text }) },
    target,
    aggregate: poolAggregator,
    log: silentLogger(),
    metrics,
  });
  return { m, pub, target, metrics };
}

const TEMPLATE = '{{range .Networks}}route {{.}};\n{{end}}';

describe('Publisher loop', () => {
  it('a burst of changes is one apply, and the first apply forces a reload', async () => {
    const { pub, target } = setup({ text: TEMPLATE });
    for (let i = 0; i < 50; i++) pub.markDirty();
    await pub.idle();
    expect(target.applied).toHaveLength(1);
    expect(target.applied[0]!.force).toBe(true);
    expect(target.applied[0]!.text).toContain('route 10.112.0.0/29;\nroute 10.112.0.8/29;\n');
    expect(pub.status).toMatchObject({ ok: true, published: true, announced: 6, error: null, templatePath: '/t/publisher.conf' });
    pub.markDirty();
    await pub.idle();
    expect(target.applied).toHaveLength(2);
    expect(target.applied[1]!.force).toBe(false);
  });

  it('a steady stream of changes still publishes within maxDelay', async () => {
    const { pub, target } = setup({ text: TEMPLATE }, { debounceMs: 50, maxDelayMs: 100 });
    const t0 = Date.now();
    let marks = 0;
    await waitFor('an apply during the stream', () => {
      pub.markDirty(); // every 5 ms: never 50 ms of quiet
      marks++;
      return target.applied.length > 0;
    }, { timeoutMs: 2000, intervalMs: 5 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(marks).toBeGreaterThan(5);
    pub.stop();
  });

  it('follows the state: a released block disappears from the next render', async () => {
    const { m, pub, target } = setup({ text: TEMPLATE });
    pub.markDirty();
    await pub.idle();
    for (const a of m.state.addressByName.values()) if (a.value.block === '10.112.0.24/29') m.release(a.value.name);
    pub.markDirty();
    await pub.idle();
    expect(target.applied.at(-1)!.text).not.toContain('10.112.0.24/29');
    expect(pub.status.announced).toBe(5);
  });

  it('a template error keeps the last good text and is reported with line and column', async () => {
    const tpl = { text: TEMPLATE };
    const { pub, target, metrics } = setup(tpl);
    pub.markDirty();
    await pub.idle();
    tpl.text = 'ok\n{{ .Nope }}';
    pub.markDirty();
    await pub.idle();
    expect(target.applied).toHaveLength(1);
    expect(pub.status.ok).toBe(false);
    expect(pub.status.error).toMatchObject({ step: 'template', line: 2, col: 4 });
    expect(pub.status.error!.message).toContain("can't evaluate field Nope in type publisher.Data");
    expect((await metrics.renders.get()).values.find((v) => v.labels.result === 'error')?.value).toBe(1);
    tpl.text = '';
    pub.markDirty();
    await pub.idle();
    expect(pub.status.error!.message).toBe('Template file /t/publisher.conf is empty');
    tpl.text = TEMPLATE;
    pub.markDirty();
    await pub.idle();
    expect(pub.status).toMatchObject({ ok: true, error: null });
    expect(target.applied).toHaveLength(2);
  });

  it('retries while BIRD is unreachable, not when BIRD rejects the file', async () => {
    const { pub, target, metrics } = setup({ text: TEMPLATE });
    target.failures = [new ApplyError('no socket', 'reload', true), new ApplyError('no socket', 'reload', true)];
    pub.markDirty();
    await waitFor('the retries to succeed', () => target.applied.length === 1, { timeoutMs: 3000, intervalMs: 5 });
    await pub.idle();
    expect(pub.status.ok).toBe(true);
    expect((await metrics.applyErrors.get()).values.find((v) => v.labels.step === 'reload')?.value).toBe(2);

    target.failures = [new ApplyError('BIRD rejected the configuration: x:1:1 syntax error', 'validate', false)];
    pub.markDirty();
    await pub.idle();
    expect(pub.status.error).toMatchObject({ step: 'validate' });
    expect(target.applied).toHaveLength(1); // not retried on its own
  });
});
