/** Measuring helpers shared by the suites: CPU time of a call (this process only) and medians. */

/** CPU milliseconds (user + system) that `f` took in this process: steadier than wall time on 2 shared cores. */
export function cpuMs(f: () => void): number {
  const t0 = process.cpuUsage();
  f();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

/** The upper median (the middle element of the sorted copy). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
