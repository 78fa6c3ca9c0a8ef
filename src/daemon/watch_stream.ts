/**
 * GET /watch?since=REV[&prefix=P]: the bus of DESIGN §1 — store changes as
 * newline-delimited JSON, one object per line:
 *   {"revision":12,"type":"put","key":"blocks/net/10.0.0.0/29","value":{...}}
 *   {"revision":13,"type":"delete","key":"addresses/pod-a","value":null}
 * Keys are relative to the store prefix; `value` is the stored JSON.
 *
 * Resuming: `since` is exclusive — the stream carries every change with a
 * revision > since, in revision order, then live changes. A client keeps
 * the revision of the last line it processed and reconnects with it.
 * Without `since` the stream starts at the current revision (header
 * `X-Romana-Revision` says which).
 *
 * Slow consumers: lines go straight into the response; when a client leaves
 * more than `bufferBytes` unread, the stream is ended — at a revision
 * boundary, so no revision is ever cut in half — with a final line
 *   {"revision":R,"type":"error","error":{...code "WATCH_FELL_BEHIND"...}}
 * telling it to resume with since=R. Memory per stream is therefore bounded
 * by about bufferBytes plus one transaction's events, and the daemon never
 * waits for a reader. A compacted `since` ends the stream the same way with
 * HISTORY_COMPACTED (re-read, then watch from the read's revision).
 *
 * Concurrency rule: one store watch per stream; all callbacks run on the
 * event loop; a stream is closed at most once (client gone, overflow, error
 * or daemon shutdown).
 */
import type { ServerResponse } from 'node:http';
import { isRomanaError, RomanaError } from '../core/errors.js';
import type { Logger } from '../shared/log.js';
import type { Store, Watch, WatchEvent } from '../store/store.js';

export interface WatchStreamOptions {
  store: Store;
  bufferBytes: number;
  log: Logger;
  /** Open streams, so shutdown can end them. */
  registry: Set<WatchStreamHandle>;
  onOpen?: () => void;
  onClose?: () => void;
}

export interface WatchStreamHandle {
  /** Ends the stream (no error line: the client resumes elsewhere). */
  end(): void;
}

export interface WatchParams {
  since: number | undefined;
  prefix: string;
}

/** Validates the query of a /watch request. */
export function parseWatchQuery(query: URLSearchParams): WatchParams {
  const sinceText = query.get('since');
  let since: number | undefined;
  if (sinceText !== null && sinceText !== '') {
    if (!/^\d{1,15}$/.test(sinceText)) {
      throw new RomanaError('INVALID_ARGUMENT', `Invalid since ${JSON.stringify(sinceText)}: must be a non-negative integer revision`, {
        details: { field: 'since', value: sinceText },
      });
    }
    since = Number(sinceText);
  }
  const prefix = query.get('prefix') ?? '';
  if (prefix.startsWith('/')) {
    throw new RomanaError('INVALID_ARGUMENT', `Invalid prefix ${JSON.stringify(prefix)}: keys are relative to the store prefix (e.g. "blocks/")`, {
      details: { field: 'prefix', value: prefix },
    });
  }
  return { since, prefix };
}

function line(obj: unknown): string {
  return `${JSON.stringify(obj)}\n`;
}

function parseValue(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Serves one /watch request on `res` until the client leaves or the stream must end. */
export async function serveWatch(res: ServerResponse, params: WatchParams, opts: WatchStreamOptions): Promise<void> {
  const since = params.since ?? (await opts.store.revision());
  let closed = false;
  let watch: Watch | undefined;
  /** Revision of the last event written; its revision is complete once an event of a newer one arrives. */
  let lastRev = since;
  /** Highest revision all of whose events have been written. */
  let completeRev = since;

  const handle: WatchStreamHandle = { end: () => finish(null) };

  function finish(final: { revision: number; error: RomanaError } | null): void {
    if (closed) return;
    closed = true;
    opts.registry.delete(handle);
    opts.onClose?.();
    void watch?.close();
    if (final && !res.destroyed) {
      res.end(line({ revision: final.revision, type: 'error', error: final.error.toJSON() }));
    } else if (!res.destroyed) {
      res.end();
    }
  }

  res.writeHead(200, {
    'content-type': 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-store',
    'x-romana-revision': String(since),
    // Stream until either side ends it: no proxy buffering, and no reuse of a connection that streamed.
    'x-accel-buffering': 'no',
    connection: 'close',
  });
  res.flushHeaders();
  opts.registry.add(handle);
  opts.onOpen?.();
  res.on('close', () => finish(null));

  const onEvent = (e: WatchEvent): void => {
    if (closed) return;
    if (e.revision !== lastRev) {
      completeRev = lastRev;
      if (res.writableLength > opts.bufferBytes) {
        opts.log.info({ unread: res.writableLength, limit: opts.bufferBytes, resume: completeRev }, 'watch client fell behind; ending its stream');
        finish({
          revision: completeRev,
          error: new RomanaError(
            'WATCH_FELL_BEHIND',
            `Watch client fell behind: more than ${opts.bufferBytes} bytes unread; reconnect with since=${completeRev}`,
            { details: { resume_since: completeRev, limit_bytes: opts.bufferBytes } },
          ),
        });
        return;
      }
    }
    lastRev = e.revision;
    res.write(line({ revision: e.revision, type: e.type, key: e.key, value: e.type === 'put' ? parseValue(e.value) : null }));
  };

  const onError = (err: Error): void => {
    if (closed) return;
    // Events of lastRev may be only partly written when the store gives up: resume before it (a
    // repeated event is harmless to a level-triggered client, a lost one is not).
    const resume = lastRev === completeRev ? completeRev : lastRev - 1;
    let out: RomanaError;
    if (isRomanaError(err) && err.code === 'CONFLICT' && err.details.compactedRevision !== undefined) {
      out = new RomanaError('HISTORY_COMPACTED', `${err.message}`, { details: { ...err.details, resume_since: null } });
    } else if (isRomanaError(err) && err.code === 'CONFLICT') {
      out = new RomanaError('WATCH_FELL_BEHIND', `Watch fell behind in the daemon: reconnect with since=${resume}`, {
        details: { resume_since: resume },
      });
    } else {
      out = isRomanaError(err) ? err : new RomanaError('STORE_UNAVAILABLE', `Watch failed: ${err.message}`);
    }
    opts.log.warn({ err, code: out.code }, 'watch stream ended by an error');
    finish({ revision: out.code === 'HISTORY_COMPACTED' ? since : resume, error: out });
  };

  try {
    const w = await opts.store.watch(params.prefix, since, onEvent, onError);
    if (closed) await w.close();
    else watch = w;
  } catch (e) {
    onError(e instanceof Error ? e : new Error(String(e)));
  }
}
