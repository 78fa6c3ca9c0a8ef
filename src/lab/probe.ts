/**
 * Real packets between pods: every probe leaves from inside the sending
 * pod's namespace (its probe agent, reached over its control socket — a
 * file, so no control traffic crosses the pod network and its policies),
 * and the receiver reports the source address it saw (no NAT allowed
 * between pods).
 */
import net from 'node:net';
import readline from 'node:readline';
import { TCP_PORT, UDP_PORT, type LabState } from './state.js';

export type Proto = 'tcp' | 'udp' | 'icmp';

/** Sends probes through one pod's control socket, all on one connection. */
async function probeFrom(control: string, probes: Array<{ op: Proto; host: string; port?: number; timeoutMs: number }>): Promise<Array<{ ok: boolean; peer?: string; error?: string }>> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(control);
    const results: Array<{ ok: boolean; peer?: string; error?: string }> = new Array(probes.length);
    let left = probes.length;
    const guard = setTimeout(() => {
      conn.destroy();
      reject(new Error(`the probe agent at ${control} did not answer`));
    }, Math.max(0, ...probes.map((p) => p.timeoutMs)) + 10_000);
    conn.once('error', (e) => {
      clearTimeout(guard);
      reject(new Error(`probe agent at ${control}: ${e.message}`));
    });
    readline.createInterface({ input: conn }).on('line', (line) => {
      const o = JSON.parse(line) as { id: number; ok: boolean; peer?: string; error?: string };
      results[o.id] = { ok: o.ok, ...(o.peer ? { peer: o.peer } : {}), ...(o.error ? { error: o.error } : {}) };
      if (--left === 0) {
        clearTimeout(guard);
        conn.end();
        resolve(results);
      }
    });
    if (probes.length === 0) {
      clearTimeout(guard);
      conn.end();
      resolve([]);
      return;
    }
    conn.on('connect', () => probes.forEach((p, id) => conn.write(JSON.stringify({ id, ...p }) + '\n')));
  });
}

export interface Matrix {
  pods: string[];
  /** cell[from][to] for every protocol: true = reached (and the receiver saw the sender's own address). */
  cells: Record<string, Record<string, Record<Proto, boolean>>>;
  problems: string[];
}

/** Every pod pair, TCP 8080, UDP 5353 and ICMP, real packets from inside the pods' namespaces. */
export async function probeMatrix(st: LabState, protos: Proto[] = ['tcp', 'udp', 'icmp']): Promise<Matrix> {
  const cells: Matrix['cells'] = {};
  const problems: string[] = [];
  await Promise.all(
    st.pods.map(async (from) => {
      const targets = st.pods.filter((p) => p !== from);
      const probes = targets.flatMap((to) => protos.map((op) => ({ op, host: to.ip, ...(op === 'icmp' ? {} : { port: op === 'tcp' ? TCP_PORT : UDP_PORT }), timeoutMs: 1000 })));
      const res = await probeFrom(from.control, probes);
      cells[from.name] = {};
      targets.forEach((to, t) => {
        const cell = {} as Record<Proto, boolean>;
        protos.forEach((op, k) => {
          const r = res[t * protos.length + k]!;
          cell[op] = r.ok;
          if (r.ok && r.peer !== undefined && r.peer !== from.ip) problems.push(`${from.name} -> ${to.name} ${op}: the receiver saw ${r.peer}, not ${from.ip} (NAT?)`);
        });
        cells[from.name]![to.name] = cell;
      });
    }),
  );
  return { pods: st.pods.map((p) => p.name), cells, problems };
}

/** Rows from, columns to; "ok" all protocols pass, "--" all dropped, else the letters that pass (t, u, i). */
export function renderMatrix(st: LabState, m: Matrix): string {
  const w = Math.max(4, ...m.pods.map((p) => p.length)) + 1;
  const nsOf = new Map(st.pods.map((p) => [p.name, p.namespace]));
  const head = 'from \\ to'.padEnd(w + 7) + m.pods.map((p) => p.padStart(w)).join('') + '\n';
  const rows = m.pods.map((from) => {
    const cells = m.pods.map((to) => {
      if (from === to) return '.'.padStart(w);
      const c = m.cells[from]?.[to];
      if (!c) return '?'.padStart(w);
      const vals = Object.entries(c);
      const txt = vals.every(([, v]) => v) ? 'ok' : vals.every(([, v]) => !v) ? '--' : vals.filter(([, v]) => v).map(([k]) => k[0]).join('');
      return txt.padStart(w);
    });
    return `${from.padEnd(w)}${`(${nsOf.get(from) ?? ''})`.padEnd(7)}${cells.join('')}\n`;
  });
  return head + rows.join('') + '  ok = TCP 8080, UDP 5353 and ICMP pass; -- = all dropped; else the ones that pass (t/u/i)\n';
}

