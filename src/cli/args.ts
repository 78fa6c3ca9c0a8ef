/**
 * Turning command-line arguments into API requests: the checks that need
 * no daemon. A problem here is a UsageError (exit 2) and nothing is sent.
 * Pure.
 */
import { parseIPv4 } from '../core/ip.js';
import type { HostRequest } from '../shared/api_types.js';
import { parsePort } from './config.js';
import { UsageError } from './errors.js';

/**
 * `host add <hostname> <hostip> [romana cidr] [agent port]` as the seed
 * writes it. The romana cidr is accepted and ignored (the IPAM places hosts
 * by the topology). A third argument that is a bare number with no fourth is
 * taken as the agent port, since no CIDR looks like that.
 */
export function hostAddRequest(args: { hostname: string; hostip: string; cidr?: string | undefined; agentPort?: string | undefined; labels?: readonly string[] }): HostRequest {
  const problems: string[] = [];
  if (args.hostname.trim() === '') problems.push('hostname must not be empty');
  if (parseIPv4(args.hostip) === null) problems.push(`hostip ${JSON.stringify(args.hostip)} is not an IPv4 address`);
  let portText = args.agentPort;
  if (portText === undefined && args.cidr !== undefined && /^\d+$/.test(args.cidr)) portText = args.cidr;
  let agentPort: number | undefined;
  if (portText !== undefined) {
    const p = parsePort(portText);
    if (p === null) problems.push(`agent port ${JSON.stringify(portText)} must be a port number from 1 to 65535`);
    else agentPort = p;
  }
  let tags: Record<string, string> | undefined;
  try {
    tags = parseLabels(args.labels ?? []);
  } catch (e) {
    problems.push((e as Error).message);
  }
  if (problems.length > 0) throw new UsageError(`Invalid host: ${problems.join('; ')}`);
  const req: HostRequest = { name: args.hostname, ip: args.hostip };
  if (agentPort !== undefined) req.agent_port = agentPort;
  if (tags !== undefined && Object.keys(tags).length > 0) req.tags = tags;
  return req;
}

/** ["rack=r1", "zone=a"] → {rack: "r1", zone: "a"}. A key given twice with different values is an error. */
export function parseLabels(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`label ${JSON.stringify(item)} must be written key=value`);
    const k = item.slice(0, eq).trim();
    const v = item.slice(eq + 1).trim();
    if (k === '') throw new UsageError(`label ${JSON.stringify(item)} has an empty key`);
    if (Object.hasOwn(out, k) && out[k] !== v) throw new UsageError(`label ${JSON.stringify(k)} is given twice with different values`);
    out[k] = v;
  }
  return out;
}

/**
 * `policy remove [policyName]` and `-i/--policyid ID`: exactly one of them.
 * The seed types the id as uint; ids are strings now (generated UUIDs, or
 * the listener's `kube.<ns>.<name>.<uid>`), so any non-empty text is taken.
 */
export function policyRemoveRef(name: string | undefined, id: string | undefined): { by: 'name' | 'id'; ref: string } {
  if (name !== undefined && id !== undefined) {
    throw new UsageError('Give the policy either by name or with -i/--policyid, not both');
  }
  if (id !== undefined) {
    if (id.trim() === '') throw new UsageError('-i/--policyid must not be empty');
    return { by: 'id', ref: id.trim() };
  }
  if (name === undefined || name.trim() === '') throw new UsageError('Missing the policy to remove: give its name, or its id with -i/--policyid');
  return { by: 'name', ref: name.trim() };
}

/** Filters for list commands (`--host`, `--tenant` …): empty values are an error, not "no filter". */
export function filterFrom(opts: Record<string, unknown>, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = opts[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${k} must not be empty`);
    out[k] = v.trim();
  }
  return out;
}
