/**
 * `romana-vpcrouter spec`: the route spec the router would program and the
 * routes it adds to each cluster route table, computed without AWS.
 * Pure rendering; main.ts reads the sources.
 */
import type { RouteSpec } from '../core/aws/route_spec.js';

/** -f json: exactly {"routes": {"<cidr>": ["<ip>", ...]}} (2-space indent, as the CLI's -f json). */
export function renderSpecJson(spec: RouteSpec): string {
  return `${JSON.stringify({ routes: spec }, null, 2)}\n`;
}

/** Table: one row per CIDR, then the count per route table against the limit. */
export function renderSpecTable(spec: RouteSpec, routeLimit: number): string {
  const rows = Object.entries(spec).map(([c, ips]) => [c, ips.join(', ')] as const);
  const w = Math.max(4, ...rows.map(([c]) => c.length));
  const lines = [`${'CIDR'.padEnd(w)}  ROUTERS`, ...rows.map(([c, ips]) => `${c.padEnd(w)}  ${ips}`)];
  const n = rows.length;
  lines.push('', `Routes per cluster route table: ${n} (limit ${routeLimit}${n > routeLimit ? ', OVER THE LIMIT' : ''})`);
  return `${lines.join('\n')}\n`;
}
