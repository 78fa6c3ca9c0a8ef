/**
 * Small text helpers shared by the renderers. Pure.
 */

/** "-" for an empty value, so that table columns never look shifted. */
export function dash(s: string | null | undefined): string {
  return s === undefined || s === null || s === '' ? '-' : s;
}

/** "12.5%"; "<0.1%" for a non-zero share that would round to zero; "-" when the whole is 0. */
export function percent(part: number, whole: number): string {
  if (whole <= 0) return '-';
  const p = (part / whole) * 100;
  if (part > 0 && p < 0.05) return '<0.1%';
  return `${p.toFixed(1)}%`;
}

/** "1 address", "2 addresses". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "rack=r1, zone=a" with keys sorted; "-" for none. */
export function labelsText(labels: Record<string, string> | null | undefined): string {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

/** Sorts by a string key, code-point order (stable across locales). */
export function byKey<T>(key: (x: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

/** Quoted for messages: "name". */
export const q = (s: string): string => JSON.stringify(s);
