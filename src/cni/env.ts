/**
 * The CNI_* environment of one invocation, parsed and checked against what
 * each verb needs (spec 1.1 §"Parameters"). Missing or malformed variables
 * are code 4, listing every problem.
 */
import { CniError, CNI_CODE } from './errors.js';

export type Verb = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'GC' | 'STATUS';
export const VERBS: readonly Verb[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS'];

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
}

export interface CniEnv {
  readonly command: Verb;
  readonly containerId: string;
  /** Path of the pod's network namespace; '' when the runtime gave none (DEL may omit it). */
  readonly netns: string;
  readonly ifname: string;
  /** From CNI_ARGS K8S_POD_NAMESPACE / K8S_POD_NAME when both are given. */
  readonly pod: PodRef | null;
}

// Spec: "alphanumeric, underscore, period and hyphen, starting alphanumeric".
const CONTAINER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
// Kubernetes names: a namespace is a DNS label, a pod a DNS subdomain.
const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const POD_NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Linux's dev_valid_name: 1–15 bytes, not "." or "..", no "/", ":" or whitespace. */
export function validIfname(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) <= 15 && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}

/** CNI_ARGS: "K=V;K=V" (spec: alphanumeric keys, values without ";"). */
export function parseCniArgs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(';')) {
    if (part === '') continue;
    const i = part.indexOf('=');
    if (i <= 0) throw new CniError(CNI_CODE.INVALID_ENV, `Invalid CNI_ARGS ${JSON.stringify(text)}: "${part}" is not KEY=VALUE`);
    out.set(part.slice(0, i), part.slice(i + 1));
  }
  return out;
}

export function parseEnv(env: Readonly<Record<string, string | undefined>>): CniEnv {
  const command = env.CNI_COMMAND ?? '';
  if (!(VERBS as readonly string[]).includes(command)) {
    throw new CniError(
      CNI_CODE.INVALID_ENV,
      command === '' ? 'CNI_COMMAND is not set' : `Unknown CNI_COMMAND ${JSON.stringify(command)}: expected one of ${VERBS.join(', ')}`,
    );
  }
  const verb = command as Verb;
  const problems: string[] = [];
  const needsAttachment = verb === 'ADD' || verb === 'DEL' || verb === 'CHECK';
  const containerId = env.CNI_CONTAINERID ?? '';
  const ifname = env.CNI_IFNAME ?? '';
  const netns = env.CNI_NETNS ?? '';
  if (needsAttachment) {
    if (containerId === '') problems.push('CNI_CONTAINERID is not set');
    else if (!CONTAINER_ID_RE.test(containerId)) problems.push(`CNI_CONTAINERID ${JSON.stringify(containerId)} must be alphanumeric, "_", "." or "-", starting alphanumeric`);
    if (ifname === '') problems.push('CNI_IFNAME is not set');
    else if (!validIfname(ifname)) problems.push(`CNI_IFNAME ${JSON.stringify(ifname)} is not a valid interface name`);
    // DEL may come without a namespace (the sandbox is already gone).
    if (verb !== 'DEL' && netns === '') problems.push('CNI_NETNS is not set');
    if (netns !== '' && !netns.startsWith('/')) problems.push(`CNI_NETNS ${JSON.stringify(netns)} must be an absolute path`);
  }
  let pod: PodRef | null = null;
  if (needsAttachment && env.CNI_ARGS) {
    const args = parseCniArgs(env.CNI_ARGS);
    const namespace = args.get('K8S_POD_NAMESPACE');
    const name = args.get('K8S_POD_NAME');
    if (namespace !== undefined && name !== undefined && namespace !== '' && name !== '') {
      if (!NAMESPACE_RE.test(namespace)) problems.push(`CNI_ARGS K8S_POD_NAMESPACE ${JSON.stringify(namespace)} is not a Kubernetes namespace name`);
      if (!POD_NAME_RE.test(name)) problems.push(`CNI_ARGS K8S_POD_NAME ${JSON.stringify(name)} is not a Kubernetes pod name`);
      pod = { namespace, name };
    }
  }
  if (problems.length > 0) {
    throw new CniError(CNI_CODE.INVALID_ENV, `Invalid environment for ${verb}: ${problems.join('; ')}`);
  }
  return Object.freeze({ command: verb, containerId, netns, ifname, pod });
}
