/**
 * The canonical Romana policy: what the daemon stores, what `GET /policies`
 * returns and what agents compile into firewall rules (DESIGN §5).
 *
 * Design: v2-like (reference §3.1) so stored policies stay recognisable to
 * anyone who knew the original, with these decisions:
 *
 * - Endpoint fields use the *documented* names `tenant` / `segment`; the
 *   original's `tenant_id` / `segment_id` are accepted on input only.
 * - Every policy has both `id` (unique handle; generated when absent, kept
 *   when given, e.g. the listener's `kube.<ns>.<name>.<uid>`) and `name`
 *   (defaults to the id, since v2 input has none).
 * - The peer/rule entries live in a list named after the direction:
 *   `ingress` for ingress policies, `egress` for egress policies. The
 *   original always used `ingress` (its meaning followed `direction`); that
 *   spelling is still accepted for egress input and rewritten.
 * - A policy in storage is always normalized (see normalize.ts): canonical
 *   key order, lists sorted and deduplicated, empty optional lists and
 *   `is_stateful: false` omitted. Two policies mean the same iff their
 *   normalized JSON is equal.
 *
 * Field names stay snake_case because they are the wire format.
 */

export type Direction = 'ingress' | 'egress';
export const DIRECTIONS: readonly Direction[] = ['ingress', 'egress'];

export type Protocol = 'tcp' | 'udp' | 'sctp' | 'icmp' | 'any';
export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp', 'icmp', 'any'];
/** Protocols that carry ports (and so accept `ports` / `port_ranges`). */
export const PORT_PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp'];

export type PeerWord = 'any' | 'host' | 'local';
export const PEER_WORDS: readonly PeerWord[] = ['any', 'host', 'local'];
export type DestWord = 'local' | 'host';
export const DEST_WORDS: readonly DestWord[] = ['local', 'host'];

/**
 * One side of the traffic, in `applied_to` (the target) or in `peers`.
 * Exactly one of: `peer`; `cidr`; `dest`; `tenant` with optional `segment`.
 * `dest: "local"` is part of the v2 vocabulary but no renderable
 * combination uses it (reference §3.1), so validation rejects it today.
 */
export interface Endpoint {
  readonly peer?: PeerWord;
  /** IPv4 CIDR without host bits, e.g. "10.0.0.0/8". */
  readonly cidr?: string;
  readonly dest?: DestWord;
  readonly tenant?: string;
  readonly segment?: string;
}

export interface Rule {
  readonly protocol: Protocol;
  /** tcp/udp/sctp only; 1..65535, sorted, unique. Absent: every port. */
  readonly ports?: readonly number[];
  /** tcp/udp/sctp only; inclusive [lo, hi] with 1 <= lo <= hi <= 65535, sorted, unique. */
  readonly port_ranges?: readonly (readonly [number, number])[];
  /** icmp only; 0..255. Absent: every type. */
  readonly icmp_type?: number;
  /** icmp only, with icmp_type; limits per type in icmp.ts. */
  readonly icmp_code?: number;
  /** Kept from v2 (which ignored it); present only when true. */
  readonly is_stateful?: boolean;
}

/** Traffic between any of `peers` and the targets matching any of `rules` is allowed. */
export interface PolicyEntry {
  readonly peers: readonly Endpoint[];
  readonly rules: readonly Rule[];
}

interface PolicyBase {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly applied_to: readonly Endpoint[];
}

export interface IngressPolicy extends PolicyBase {
  readonly direction: 'ingress';
  readonly ingress: readonly PolicyEntry[];
}

export interface EgressPolicy extends PolicyBase {
  readonly direction: 'egress';
  readonly egress: readonly PolicyEntry[];
}

export type RomanaPolicy = IngressPolicy | EgressPolicy;

/** What an endpoint denotes as a peer (reference §3.1 classification, made exclusive). */
export type PeerKind = 'any' | 'host' | 'local' | 'cidr' | 'tenant' | 'tenantSegment';
/** What an endpoint denotes as a target. */
export type TargetKind = 'tenant' | 'tenantSegment' | 'host';

/**
 * The documented (`securitypolicies`) shape of one policy, as the CLI prints
 * it. A policy with a single entry uses top-level `peers` / `rules` as
 * documented; one with several entries keeps its `ingress` / `egress` list,
 * because flattening would turn "(P1 with R1) or (P2 with R2)" into the wider
 * "(P1 or P2) with (R1 or R2)".
 */
export interface DocumentedPolicy {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly direction: Direction;
  readonly applied_to: readonly Endpoint[];
  readonly peers?: readonly Endpoint[];
  readonly rules?: readonly Rule[];
  readonly ingress?: readonly PolicyEntry[];
  readonly egress?: readonly PolicyEntry[];
}

export interface DocumentedPolicies {
  readonly securitypolicies: readonly DocumentedPolicy[];
}

/** The entries of a policy, whichever direction it has. */
export function policyEntries(p: RomanaPolicy): readonly PolicyEntry[] {
  return p.direction === 'ingress' ? p.ingress : p.egress;
}

/** Peer kind of a valid endpoint (null for one that is not a valid peer). */
export function peerKind(e: Endpoint): PeerKind | null {
  if (e.peer !== undefined) return e.peer;
  if (e.cidr !== undefined) return 'cidr';
  if (e.dest !== undefined) return null;
  if (e.tenant !== undefined) return e.segment !== undefined ? 'tenantSegment' : 'tenant';
  return null;
}

/** Target kind of a valid endpoint (null for one that is not a valid target). */
export function targetKind(e: Endpoint): TargetKind | null {
  if (e.peer !== undefined || e.cidr !== undefined) return null;
  if (e.dest !== undefined) return e.dest === 'host' ? 'host' : null;
  if (e.tenant !== undefined) return e.segment !== undefined ? 'tenantSegment' : 'tenant';
  return null;
}

/**
 * Which peers each target kind can be rendered with, per direction
 * (reference §3.1 "Renderable combinations"). Anything outside this table
 * the original skipped silently at render time; we reject it at the door.
 * Map: direction → target kind → allowed peer kinds.
 */
export const RENDERABLE: Readonly<Record<Direction, Readonly<Partial<Record<TargetKind, readonly PeerKind[]>>>>> = {
  ingress: {
    tenant: ['any', 'cidr', 'tenant', 'tenantSegment'],
    tenantSegment: ['any', 'cidr', 'tenant', 'tenantSegment'],
    host: ['tenant', 'tenantSegment', 'local'],
  },
  egress: {
    tenant: ['any', 'cidr', 'tenant', 'tenantSegment'],
    tenantSegment: ['any', 'cidr', 'tenant', 'tenantSegment'],
  },
};

/**
 * Policy ids and names: letters, digits, '.', '_' and '-', starting with a
 * letter or digit, at most 253 characters. DNS-subdomain-like, relaxed to
 * upper case and '_' because v2 ids use them (the listener's
 * `AllowAllPods2Talk_<uid>_`) and a name defaults to the id. Both end up in
 * URLs (`/policies/<id>`) and store keys, which this alphabet keeps safe.
 */
export const POLICY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const MAX_POLICY_NAME_LENGTH = 253;
/** Tenant and segment names (segments are pod label values, hence '.'). */
export const TENANT_SEGMENT_RE = /^[a-zA-Z0-9_.-]+$/;
