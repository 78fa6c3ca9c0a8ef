/**
 * Text for `romana policy simulate`: one reachability matrix per probe.
 *
 * Pod names are long ("kube-system/coredns-5d78c9869d-x2x7k"), so the
 * matrix uses numbers and a legend lists them once: rows are senders,
 * columns receivers, `Y` reachable and `.` dropped. Columns that do not fit
 * the width go to a further block below with the same rows. Pure.
 */
import type { ProbeResult } from '../../core/firewall/index.js';
import { probeText } from '../../core/firewall/index.js';
import { wrapText } from '../table.js';

export function simulateText(probes: readonly ProbeResult[], width: number, notes: readonly string[] = []): string {
  const pods = Object.keys(probes[0]?.matrix ?? {});
  if (pods.length === 0) return 'No pods to simulate (none with an address on a Romana network).\n' + notesText(notes, width);
  const num = (i: number): string => `${i + 1}`;
  const numWidth = num(pods.length - 1).length;
  let out = 'Pods (rows send, columns receive):\n';
  pods.forEach((p, i) => (out += `  ${num(i).padStart(numWidth)}  ${p}\n`));
  const label = Math.max('from\\to'.length, numWidth);
  const cell = numWidth + 1;
  const perBlock = Math.max(1, Math.floor((width - label) / cell));
  for (const probe of probes) {
    out += `\n${probeText(probe)}: Y reachable, . dropped\n`;
    for (let start = 0; start < pods.length; start += perBlock) {
      const cols = pods.slice(start, start + perBlock).map((_, k) => start + k);
      if (start > 0) out += '\n';
      out += `${'from\\to'.padEnd(label)}${cols.map((c) => num(c).padStart(cell)).join('')}\n`;
      pods.forEach((src, r) => {
        const row = probe.matrix[src]!;
        out += `${num(r).padStart(label)}${cols.map((c) => (row[pods[c]!] ? 'Y' : '.').padStart(cell)).join('')}\n`;
      });
    }
  }
  return out + notesText(notes, width);
}

/** Notes wrapped to the width, continuation lines indented. */
function notesText(notes: readonly string[], width: number): string {
  if (notes.length === 0) return '';
  return `\n${notes.map((n) => wrapText(`Note: ${n}`, width - 2).map((l, i) => (i === 0 ? l : `  ${l}`)).join('\n')).join('\n')}\n`;
}
