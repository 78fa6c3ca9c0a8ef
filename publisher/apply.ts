/**
 * Puts a rendered configuration in front of BIRD: atomic write, check,
 * reload — and never leaves a configuration BIRD rejects on disk.
 *
 * Order of one apply (desired text in, outcome out; STYLE §1: only this
 * module touches the file and BIRD):
 *   1. Read the file. Same text and no forced reload: nothing to do.
 *   2. Write atomically: a temporary file in the same directory (its name
 *      does not end in ".conf", so BIRD's `include "conf.d/*.conf"` never
 *      sees it), fsync, rename over the target, fsync the directory.
 *   3. Check: `configure check` on BIRD's control socket (BIRD parses the
 *      whole configuration it would load, our file included), or
 *      `bird -p -c MAIN` when only a binary and the main file are known.
 *   4. Reload: `configure` on the control socket, or SIGHUP to the pid in
 *      BIRD's pid file.
 *   If 3 or 4 fails, the previous file is put back the same atomic way (or
 *   removed when there was none), so BIRD keeps running on its old
 *   configuration and a BIRD restart loads the last good one.
 *
 * Concurrency rule: one apply at a time per instance (the publisher loop
 * serialises them).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { BirdError, birdCheck, birdConfigure, birdParse, birdSighup } from './bird.js';

export type ValidateMode = 'socket' | 'bird' | 'none';
export type ReloadMode = 'socket' | 'signal' | 'none';

export interface ApplierOptions {
  /** The file BIRD includes (e.g. /var/run/romana/bird/conf.d/published-routes.conf). */
  configPath: string;
  validate: ValidateMode;
  reload: ReloadMode;
  /** BIRD's control socket (validate/reload 'socket'). */
  birdSocket?: string;
  /** BIRD's pid file (reload 'signal'). */
  pidFile?: string;
  /** BIRD binary and main configuration (validate 'bird'). */
  birdBin?: string;
  birdConfig?: string;
  /** Per BIRD call. */
  timeoutMs?: number;
}

export interface ApplyOutcome {
  /** The file's content changed. */
  written: boolean;
  /** BIRD was told to reload. */
  reloaded: boolean;
  /** BIRD's answer to the reload ("Reconfigured", "SIGHUP to pid N"). */
  detail: string;
}

export class ApplyError extends Error {
  constructor(
    message: string,
    /** Which step failed: the write, BIRD's check of the new file, or the reload. */
    readonly step: 'write' | 'validate' | 'reload',
    /** True when BIRD could not be reached (worth retrying); false when it refused the file. */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ApplyError';
  }
}

async function readOrNull(p: string): Promise<string | null> {
  try {
    return await readFile(p, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Writes `text` to `target` atomically (temp file + fsync + rename + directory fsync). */
export async function atomicWrite(target: string, text: string): Promise<void> {
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  // The rename is durable only once the directory entry is.
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } catch {
    // some filesystems refuse fsync on directories; the rename itself is still atomic
  } finally {
    await d.close();
  }
}

export class BirdApplier {
  constructor(readonly o: ApplierOptions) {}

  /** The text currently in place (null when there is no file). */
  current(): Promise<string | null> {
    return readOrNull(this.o.configPath);
  }

  async apply(text: string, forceReload: boolean): Promise<ApplyOutcome> {
    const previous = await readOrNull(this.o.configPath).catch((e: Error) => {
      throw new ApplyError(`Cannot read ${this.o.configPath}: ${e.message}`, 'write', true);
    });
    const changed = previous !== text;
    if (!changed && !forceReload) return { written: false, reloaded: false, detail: 'unchanged' };
    if (changed) {
      try {
        await atomicWrite(this.o.configPath, text);
      } catch (e) {
        throw new ApplyError(`Cannot write ${this.o.configPath}: ${(e as Error).message}`, 'write', true);
      }
    }
    try {
      if (changed) await this.check();
    } catch (e) {
      await this.restore(previous);
      throw this.wrap(e, 'validate');
    }
    try {
      const detail = await this.reload();
      return { written: changed, reloaded: this.o.reload !== 'none', detail };
    } catch (e) {
      if (changed) await this.restore(previous);
      throw this.wrap(e, 'reload');
    }
  }

  private wrap(e: unknown, step: 'validate' | 'reload'): ApplyError {
    if (e instanceof ApplyError) return e;
    if (e instanceof BirdError) return new ApplyError(e.message, step, e.kind === 'unreachable');
    return new ApplyError((e as Error).message, step, true);
  }

  private async restore(previous: string | null): Promise<void> {
    if (previous === null) await unlink(this.o.configPath).catch(() => undefined);
    else await atomicWrite(this.o.configPath, previous);
  }

  private async check(): Promise<void> {
    switch (this.o.validate) {
      case 'none':
        return;
      case 'socket':
        await birdCheck(this.o.birdSocket!, this.o.timeoutMs);
        return;
      case 'bird': {
        const r = await birdParse(this.o.birdBin ?? 'bird', this.o.birdConfig!, this.o.timeoutMs);
        if (!r.ok) throw new BirdError(`BIRD rejected the configuration: ${r.message}`, 'rejected');
        return;
      }
    }
  }

  private async reload(): Promise<string> {
    switch (this.o.reload) {
      case 'none':
        return 'not reloaded (--reload none)';
      case 'socket':
        return await birdConfigure(this.o.birdSocket!, this.o.timeoutMs);
      case 'signal':
        return `SIGHUP to pid ${await birdSighup(this.o.pidFile!)}`;
    }
  }
}
