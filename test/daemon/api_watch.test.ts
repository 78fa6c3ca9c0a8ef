/**
 * /watch with a consumer that stops reading: the daemon keeps serving, ends
 * that stream at a revision boundary with a final error line naming the
 * revision to resume from, and resuming from it delivers exactly the rest.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RomanaError } from '../../src/core/errors.js';
import type { WatchEventJson } from '../../src/shared/api_client.js';
import { cleanupDaemons, startDaemon, type DaemonProcess } from '../helpers/daemon.js';
import { waitFor } from '../helpers/poll.js';

let d: DaemonProcess;

beforeAll(async () => {
  d = await startDaemon(['--watch-buffer-bytes', '65536']);
});

afterAll(cleanupDaemons);

const BIG = 'x'.repeat(1024 * 1024);
const BATCHES = 6;
const PER_BATCH = 4;

function bigPolicies(batch: number): object {
  return {
    securitypolicies: Array.from({ length: PER_BATCH }, (_, i) => ({
      name: `big-${batch}-${i}`,
      description: BIG,
      direction: 'ingress',
      applied_to: [{ tenant: 't' }],
      peers: [{ peer: 'any' }],
      rules: [{ protocol: 'tcp', ports: [1000 + i] }],
    })),
  };
}

async function openPaused(url: string): Promise<{ res: http.IncomingMessage; read(): Promise<string[]> }> {
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(url, resolve).on('error', reject));
  expect(res.statusCode).toBe(200);
  res.pause();
  return {
    res,
    read: () =>
      new Promise((resolve, reject) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text.split('\n').filter((l) => l !== '')));
        res.on('error', reject);
        res.resume();
      }),
  };
}

async function streamsOpen(): Promise<number> {
  const m = await d.client().metrics();
  return Number(/^romana_daemon_watch_streams (\d+)/m.exec(m)![1]);
}

describe('a slow /watch consumer', () => {
  it('never stalls the daemon and gets told where to resume', async () => {
    const c = d.client();
    const start = (await c.listTenants()).revision;
    const slow = await openPaused(`${d.url()}/watch?since=${start}&prefix=policies/`);
    await waitFor('the stream to be registered', async () => (await streamsOpen()) === 1);

    let worstHealthMs = 0;
    for (let b = 0; b < BATCHES; b++) {
      await c.addPolicies(bigPolicies(b));
      const t0 = Date.now();
      await c.healthz();
      worstHealthMs = Math.max(worstHealthMs, Date.now() - t0);
    }
    // 24 MiB of events against a 64 KiB allowance: the daemon must have ended the stream.
    await waitFor('the daemon to end the slow stream', async () => (await streamsOpen()) === 0);
    expect(worstHealthMs).toBeLessThan(1000);

    const lines = (await slow.read()).map((l) => JSON.parse(l));
    const last = lines[lines.length - 1];
    expect(last).toMatchObject({ type: 'error', error: { code: 'WATCH_FELL_BEHIND', status_code: 409 } });
    const resume: number = last.revision;
    expect(last.error.details.resume_since).toBe(resume);
    expect(last.error.message).toContain(`since=${resume}`);
    const before = lines.slice(0, -1) as WatchEventJson[];
    expect(before.every((e) => e.revision <= resume)).toBe(true);

    // Resume until complete. Every event is larger than the 64 KiB allowance, so even an eager reader
    // is cut after each revision: each reconnect must make progress, never repeat, never skip.
    const expected = BATCHES * PER_BATCH;
    const after: WatchEventJson[] = [];
    let since = resume;
    for (let round = 0; before.length + after.length < expected; round++) {
      expect(round).toBeLessThan(BATCHES * 2);
      const stream = await c.watch({ since, prefix: 'policies/' });
      try {
        for await (const e of stream) {
          expect(e.revision).toBeGreaterThan(since);
          after.push(e);
          if (before.length + after.length >= expected) break;
        }
      } catch (e) {
        const err = e as RomanaError;
        expect(err.code).toBe('WATCH_FELL_BEHIND');
        expect(err.details.resume_since).toBe(stream.lastRevision);
      } finally {
        stream.close();
      }
      since = stream.lastRevision;
    }
    const names = [...before, ...after].map((e) => (e.value as { name: string }).name).sort();
    const want = Array.from({ length: BATCHES }, (_, b) => Array.from({ length: PER_BATCH }, (_, i) => `big-${b}-${i}`)).flat().sort();
    expect(names).toEqual(want);
    // Each revision (one POST) arrived whole before the cut.
    const perRev = new Map<number, number>();
    for (const e of before) perRev.set(e.revision, (perRev.get(e.revision) ?? 0) + 1);
    for (const n of perRev.values()) expect(n).toBe(PER_BATCH);
  });
});
