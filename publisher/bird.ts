/**
 * Talking to BIRD (2.x and 1.6 alike): its control socket, its pid file,
 * and `bird -p` for parse-only checks.
 *
 * Control socket protocol (what birdc speaks): BIRD greets with
 * "0001 BIRD x.y.z ready."; each command is one line; each reply line is a
 * four-digit code followed by "-" (more lines follow) or " " (last line),
 * or starts with a space (continuation of the previous code). Codes 0xxx
 * are success and information, 8xxx runtime errors (e.g. "8002
 * file:line:col message" when a configuration does not parse), 9xxx
 * command syntax errors. We use `configure check` (parse the configuration
 * BIRD would load, change nothing) and `configure` (reload).
 *
 * Concurrency rule: every call opens its own connection; BIRD serialises
 * commands itself.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';

export interface BirdReply {
  /** Code of the last line (e.g. 3 for "0003 Reconfigured", 8002 for an error). */
  code: number;
  /** Text of every reply line without codes, in order. */
  lines: string[];
}

export class BirdError extends Error {
  constructor(
    message: string,
    /** 'unreachable': no BIRD to talk to (retry later); 'rejected': BIRD refused the configuration. */
    readonly kind: 'unreachable' | 'rejected',
  ) {
    super(message);
    this.name = 'BirdError';
  }
}

/** Sends one command on BIRD's control socket and returns the reply. */
export function birdCommand(socketPath: string, command: string, timeoutMs = 10_000): Promise<BirdReply> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    let buf = '';
    let greeted = false;
    const lines: string[] = [];
    let settled = false;
    const done = (err: Error | null, reply?: BirdReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => done(new BirdError(`BIRD did not answer "${command}" on ${socketPath} within ${timeoutMs} ms`, 'unreachable')), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('error', (e) => done(new BirdError(`Cannot reach BIRD's control socket ${socketPath}: ${e.message}`, 'unreachable')));
    sock.on('close', () => done(new BirdError(`BIRD closed its control socket ${socketPath} before answering "${command}"`, 'unreachable')));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^(\d{4})([ -])(.*)$/.exec(line);
        if (!greeted) {
          if (m && m[1] === '0001') {
            greeted = true;
            sock.write(`${command}\n`);
            continue;
          }
          done(new BirdError(`Unexpected greeting on ${socketPath}: ${JSON.stringify(line)}`, 'unreachable'));
          return;
        }
        if (m) {
          lines.push(m[3]!);
          if (m[2] === ' ') {
            done(null, { code: Number(m[1]), lines });
            return;
          }
        } else lines.push(line.replace(/^ /, ''));
      }
    });
  });
}

/** True for codes BIRD uses for success or information (0xxx). */
export function isSuccess(code: number): boolean {
  return code < 1000;
}

/** `configure check`: resolves when the configuration BIRD would load parses; BirdError otherwise. */
export async function birdCheck(socketPath: string, timeoutMs?: number): Promise<void> {
  const r = await birdCommand(socketPath, 'configure check', timeoutMs);
  if (!isSuccess(r.code)) throw new BirdError(`BIRD rejected the configuration: ${r.lines[r.lines.length - 1] ?? `code ${r.code}`}`, 'rejected');
}

/** `configure`: reloads; resolves with BIRD's last line ("Reconfigured", "Reconfiguration in progress", …). */
export async function birdConfigure(socketPath: string, timeoutMs?: number): Promise<string> {
  const r = await birdCommand(socketPath, 'configure', timeoutMs);
  const last = r.lines[r.lines.length - 1] ?? '';
  if (!isSuccess(r.code)) throw new BirdError(`BIRD did not reconfigure: ${last || `code ${r.code}`}`, 'rejected');
  return last;
}

/** SIGHUP to the pid in BIRD's pid file (BIRD re-reads its configuration). */
export async function birdSighup(pidFile: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(pidFile, 'utf8');
  } catch (e) {
    throw new BirdError(`Cannot read BIRD's pid file ${pidFile}: ${(e as Error).message}`, 'unreachable');
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new BirdError(`BIRD's pid file ${pidFile} holds no pid: ${JSON.stringify(text.trim())}`, 'unreachable');
  try {
    process.kill(pid, 'SIGHUP');
  } catch (e) {
    throw new BirdError(`Cannot signal BIRD (pid ${pid} from ${pidFile}): ${(e as Error).message}`, 'unreachable');
  }
  return pid;
}

export interface ParseCheck {
  ok: boolean;
  /** BIRD's message, e.g. "/etc/bird/conf.d/x.conf:3:12 syntax error" ("" when ok). */
  message: string;
}

/** `bird -p -c FILE`: parse only. Rejects when the binary cannot be run. */
export function birdParse(birdBin: string, configFile: string, timeoutMs = 30_000): Promise<ParseCheck> {
  return new Promise((resolve, reject) => {
    execFile(birdBin, ['-p', '-c', configFile], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const text = `${stderr}${stdout}`.trim().replace(/^bird: /gm, '');
      if (!err) return resolve({ ok: true, message: '' });
      const e = err as NodeJS.ErrnoException & { code?: string | number };
      if (typeof e.code === 'string') return reject(new BirdError(`Cannot run ${birdBin}: ${e.message}`, 'unreachable'));
      resolve({ ok: false, message: text || `exit ${String(e.code)}` });
    });
  });
}
