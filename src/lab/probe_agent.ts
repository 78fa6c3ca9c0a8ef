/**
 * The lab's traffic tool, one process per network namespace (a pod or a
 * host), started with `ip netns exec NS node --import tsx probe_agent.ts`.
 *
 * Serves: TCP echo on --tcp ports and UDP echo on --udp ports; every TCP
 * connection first receives "peer <address>\n" and every UDP datagram is
 * answered with "peer <address>", so a test sees the source address the
 * packet arrived with (no NAT, no overlay: it must be the sending pod's IP).
 *
 * Probes, sent as JSON lines on stdin, answered as JSON lines on stdout:
 *   {"id":1,"op":"tcp","host":"10.x","port":8080,"timeoutMs":300}
 *   {"id":2,"op":"udp","host":"10.x","port":5353,"timeoutMs":300}
 *   {"id":3,"op":"icmp","host":"10.x","timeoutMs":500}      (iputils ping)
 *   {"id":4,"op":"hold","host":"10.x","port":8080,"timeoutMs":300}
 *       opens a TCP connection and keeps it; answers {"ref": n}
 *   {"id":5,"op":"held","ref":n,"timeoutMs":300}
 *       sends a line on that connection and expects its echo
 * Answers: {"id","ok":true,"peer"?:string,"ref"?:number} or
 * {"id","ok":false,"error":"timeout"|"ECONNREFUSED"|...}.
 *
 * With --control PATH (how `romana lab` runs it, detached) the same JSON
 * lines are read from and answered on connections to a unix socket at PATH
 * instead of stdin/stdout: unix sockets are files, so the lab reaches every
 * pod's agent from the root namespace without sending control traffic
 * through the pod network (and its policies).
 *
 * Because the process lives in the namespace, every probe leaves from it
 * without starting a process per probe (ICMP excepted: ping is a child,
 * and children inherit the namespace).
 */
import { spawn } from 'node:child_process';
import { unlinkSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import readline from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { control: { type: 'string' }, tcp: { type: 'string', multiple: true, default: [] }, udp: { type: 'string', multiple: true, default: [] } } });

interface Probe {
  id: number;
  op: 'tcp' | 'udp' | 'icmp' | 'hold' | 'held';
  host?: string;
  port?: number;
  ref?: number;
  timeoutMs?: number;
}

type Out = (o: unknown) => void;
const stdoutOut: Out = (o) => {
  process.stdout.write(JSON.stringify(o) + '\n');
};

function peerOf(addr: string | undefined): string {
  return (addr ?? '').replace(/^::ffff:/, '');
}

async function serve(): Promise<void> {
  const servers: Array<Promise<void>> = [];
  for (const p of values.tcp as string[]) {
    const s = net.createServer((c) => {
      c.on('error', () => undefined);
      c.write(`peer ${peerOf(c.remoteAddress)}\n`);
      c.pipe(c);
    });
    servers.push(new Promise((resolve, reject) => s.once('error', reject).listen(Number(p), '0.0.0.0', () => resolve())));
  }
  for (const p of values.udp as string[]) {
    const s = dgram.createSocket('udp4');
    s.on('message', (_msg, rinfo) => s.send(`peer ${rinfo.address}`, rinfo.port, rinfo.address));
    servers.push(new Promise((resolve, reject) => s.once('error', reject).bind(Number(p), '0.0.0.0', () => resolve())));
  }
  await Promise.all(servers);
}

function tcp(host: string, port: number, timeoutMs: number): Promise<{ ok: boolean; peer?: string; error?: string; socket?: net.Socket }> {
  return new Promise((resolve) => {
    const c = net.connect({ host, port });
    let buf = '';
    const done = (r: { ok: boolean; peer?: string; error?: string; socket?: net.Socket }): void => {
      clearTimeout(timer);
      c.removeAllListeners('data');
      if (!r.socket) c.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, error: 'timeout' }), timeoutMs);
    c.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
    c.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /^peer (\S+)\n/.exec(buf);
      if (m) done({ ok: true, peer: m[1]!, socket: c });
    });
  });
}

function udp(host: string, port: number, timeoutMs: number): Promise<{ ok: boolean; peer?: string; error?: string }> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const done = (r: { ok: boolean; peer?: string; error?: string }): void => {
      clearTimeout(timer);
      s.close();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, error: 'timeout' }), timeoutMs);
    s.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
    s.on('message', (m) => {
      const hit = /^peer (\S+)$/.exec(m.toString());
      done(hit ? { ok: true, peer: hit[1]! } : { ok: false, error: `unexpected answer ${JSON.stringify(m.toString())}` });
    });
    s.send('probe', port, host);
  });
}

function icmp(host: string, timeoutMs: number): Promise<{ ok: boolean; error?: string }> {
  return new Promise((resolve) => {
    // -W takes fractional seconds in this iputils; -c1: one echo request.
    const p = spawn('ping', ['-n', '-q', '-c1', '-W', String(Math.max(timeoutMs, 100) / 1000), host], { stdio: 'ignore' });
    p.once('error', (e) => resolve({ ok: false, error: e.message }));
    p.once('exit', (code) => resolve(code === 0 ? { ok: true } : { ok: false, error: `ping exit ${code}` }));
  });
}

const held = new Map<number, net.Socket>();
let nextRef = 1;

async function handle(p: Probe, out: Out): Promise<void> {
  const timeoutMs = p.timeoutMs ?? 300;
  try {
    if (p.op === 'tcp' || p.op === 'hold') {
      const r = await tcp(p.host!, p.port!, timeoutMs);
      if (r.ok && p.op === 'hold') {
        const ref = nextRef++;
        held.set(ref, r.socket!);
        r.socket!.on('error', () => undefined);
        return out({ id: p.id, ok: true, peer: r.peer, ref });
      }
      r.socket?.destroy();
      return out({ id: p.id, ok: r.ok, ...(r.peer ? { peer: r.peer } : {}), ...(r.error ? { error: r.error } : {}) });
    }
    if (p.op === 'held') {
      const c = held.get(p.ref!);
      if (!c || c.destroyed) return out({ id: p.id, ok: false, error: 'connection closed' });
      const token = `ping-${p.id}\n`;
      const ok = await new Promise<boolean>((resolve) => {
        let buf = '';
        const timer = setTimeout(() => finish(false), timeoutMs);
        const onData = (d: Buffer): void => {
          buf += d.toString();
          if (buf.includes(token)) finish(true);
        };
        const onClose = (): void => finish(false);
        function finish(v: boolean): void {
          clearTimeout(timer);
          c!.off('data', onData);
          c!.off('close', onClose);
          resolve(v);
        }
        c.on('data', onData);
        c.once('close', onClose);
        c.write(token);
      });
      return out({ id: p.id, ok, ...(ok ? {} : { error: 'no echo' }) });
    }
    if (p.op === 'udp') return out({ id: p.id, ...(await udp(p.host!, p.port!, timeoutMs)) });
    if (p.op === 'icmp') return out({ id: p.id, ...(await icmp(p.host!, timeoutMs)) });
    out({ id: p.id, ok: false, error: `unknown op ${JSON.stringify(p.op)}` });
  } catch (e) {
    out({ id: p.id, ok: false, error: (e as Error).message });
  }
}

function serveControl(socketPath: string): Promise<void> {
  try {
    unlinkSync(socketPath);
  } catch {
    // no stale socket
  }
  const server = net.createServer((conn) => {
    conn.on('error', () => undefined);
    const write: Out = (o) => {
      if (!conn.destroyed) conn.write(JSON.stringify(o) + '\n');
    };
    readline.createInterface({ input: conn }).on('line', (line) => {
      if (line.trim() === '') return;
      let p: Probe;
      try {
        p = JSON.parse(line) as Probe;
      } catch {
        return write({ ok: false, error: 'not JSON' });
      }
      void handle(p, write);
    });
  });
  return new Promise((resolve, reject) => server.once('error', reject).listen(socketPath, () => resolve()));
}

serve().then(
  async () => {
    if (values.control !== undefined) {
      await serveControl(values.control);
      stdoutOut({ ready: true, control: values.control });
      return;
    }
    stdoutOut({ ready: true });
    readline.createInterface({ input: process.stdin }).on('line', (line) => {
      if (line.trim() !== '') void handle(JSON.parse(line) as Probe, stdoutOut);
    });
    // The test closing stdin (or dying) ends the agent.
    process.stdin.on('end', () => process.exit(0));
  },
  (e: Error) => {
    process.stderr.write(`probe agent cannot serve: ${e.message}\n`);
    process.exit(1);
  },
).catch((e: Error) => {
  process.stderr.write(`probe agent cannot serve: ${e.message}\n`);
  process.exit(1);
});
