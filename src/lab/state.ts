/**
 * What `romana lab up` built, as written to `<state-dir>/lab.json`: every
 * later command (check, policy, status, down) works from this file and the
 * names in it, never from a guess about what the machine has.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const DEFAULT_STATE_DIR = '/run/romana-lab';
export const DEFAULT_PREFIX = 'rlab';
export const TCP_PORT = 8080;
export const UDP_PORT = 5353;
const STATE_FILE = 'lab.json';

export type Print = (s: string) => void;

/** A failure with the exit code the CLI should use (2: usage, root, packages, no lab). */
export class LabError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'LabError';
  }
}

export interface LabHostState {
  name: string;
  ns: string;
  /** Address in its rack's subnet (eth0). */
  ip: string;
  rack: string;
  /** The rack's subnet, e.g. 10.200.1.0/24. */
  subnet: string;
  /** Its ToR's address in that subnet: the host's default route. */
  gateway: string;
  as: number;
  healthSocket: string;
  confDir: string;
  binDir: string;
}

export interface LabPodState {
  name: string;
  namespace: string;
  host: string;
  ns: string;
  ip: string;
  cid: string;
  control: string;
}

export interface LabRouterState {
  name: string;
  ns: string;
  as: number;
  /** BIRD's control socket (a file: birdc works from the root namespace). */
  ctl: string;
}

export interface LabTorState extends LabRouterState {
  rack: string;
  /** The rack side (eth0): the rack's gateway. */
  ip: string;
  subnet: string;
  /** The spine side (eth1). */
  spineIp: string;
  /** The prefix group of the rack (filled once the daemon placed the hosts): what the ToR announces upstream. */
  groupCidr: string;
}

export interface LabSpineState extends LabRouterState {
  ip: string;
  subnet: string;
}

export interface LabDnsState {
  ns: string;
  ip: string;
  port: number;
  domain: string;
  snapshot: string;
}

export interface LabState {
  prefix: string;
  stateDir: string;
  socket: string;
  url: string;
  racks: string[];
  hosts: LabHostState[];
  pods: LabPodState[];
  /** The namespace holding the L2 segments (one bridge per rack, one for the spine). */
  fabric: string;
  tors: LabTorState[];
  spine: LabSpineState;
  dns: LabDnsState;
  notes: string[];
}

export function readState(stateDir: string): LabState | null {
  try {
    return JSON.parse(readFileSync(path.join(stateDir, STATE_FILE), 'utf8')) as LabState;
  } catch {
    return null;
  }
}

export function saveState(st: LabState): void {
  writeFileSync(path.join(st.stateDir, STATE_FILE), JSON.stringify(st, null, 2) + '\n');
}
