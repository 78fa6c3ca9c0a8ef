/**
 * Follows the daemon's /watch stream for host records so that romana-aws
 * acts when a node is added (or re-tagged), not only at its periodic resync.
 *
 * Design: one loop; every event under hosts/ calls `onChange` (the
 * controller coalesces bursts into one run). A stream that ends or fails is
 * reopened from the last revision seen, after a doubling delay (1 s .. 30 s);
 * history that is gone (compacted, or the stream fell behind) restarts from
 * the current revision after one `onChange`, since a full run reads every
 * host anyway. Concurrency: one loop per process; stop() ends it.
 */
import type { RomanaClient } from '../shared/api_client.js';
import type { Logger } from '../shared/log.js';

export interface HostFollower {
  stop(): Promise<void>;
}

export function followHosts(client: RomanaClient, onChange: () => void, log: Logger, sleep: (ms: number) => Promise<void>): HostFollower {
  const ac = new AbortController();
  const done = (async () => {
    let since: number | undefined;
    let delay = 1000;
    while (!ac.signal.aborted) {
      try {
        const stream = await client.watch({ prefix: 'hosts/', signal: ac.signal, ...(since !== undefined ? { since } : {}) });
        since = stream.startRevision;
        delay = 1000;
        for await (const ev of stream) {
          since = ev.revision;
          log.debug({ key: ev.key, type: ev.type, revision: ev.revision }, `host change ${ev.type} ${ev.key}`);
          onChange();
        }
      } catch (e) {
        if (ac.signal.aborted) break;
        const code = (e as { code?: string }).code;
        if (code === 'HISTORY_COMPACTED' || code === 'WATCH_FELL_BEHIND') {
          // Events were lost: one full run covers them; then follow from now.
          since = undefined;
          onChange();
        }
        log.warn({ err: (e as Error).message, retryMs: delay }, `watching the daemon's hosts failed (${(e as Error).message}); retrying in ${delay} ms`);
      }
      if (ac.signal.aborted) break;
      await sleep(delay);
      delay = Math.min(delay * 2, 30_000);
    }
  })();
  return {
    async stop() {
      ac.abort();
      await done;
    },
  };
}
