/**
 * Topology model: the operator's input (as documented, plus the original's
 * variants) and the carved result the IPAM works on.
 *
 * Input objects are what `parseTopologyText` returns after comment stripping
 * and JSON parsing; `carveTopology` turns a validated input into a
 * `CarvedTopology`. Carved objects are immutable and safe to share.
 */
import type { Cidr4 } from '../ip.js';

// ---------- input (documented format + original v2 variants, reference §1.1) ----------

export interface TopologyInput {
  networks: NetworkInput[];
  topologies: TopologyMapInput[];
}

export interface NetworkInput {
  name: string;
  cidr: string;
  /** Default 29 (or the network prefix when that is longer than 29). */
  block_mask?: number;
  /** Omitted/empty: the network serves every tenant. */
  tenants?: string[];
}

export interface TopologyMapInput {
  networks: string[];
  map: GroupInput[];
}

/** A map entry: a group, or (original variant) a host when it has `ip`. */
export interface GroupInput {
  name?: string;
  assignment?: Record<string, string>;
  /** Sub-groups, or (original variant) host entries `{name, ip}`. */
  groups?: Array<GroupInput | HostInput>;
  /** Documented variant for predefined hosts. */
  hosts?: HostInput[];
  routing?: string;
  /**
   * Added: an explicit reserved slot (what `topologyToOutput` writes for a
   * padding part, so that its output loads back to the same carving). A
   * padding entry has no sub-groups, hosts or assignment and never receives hosts.
   */
  padding?: boolean;
  /** Added: ignored on input (as in the original); `topologyToOutput` fills it with the carved CIDR. */
  cidr?: string;
}

export interface HostInput {
  name: string;
  ip: string;
}

// ---------- carved ----------

export interface CarvedTopology {
  /** In definition order (this order is the tenant preference order). */
  readonly networks: readonly CarvedNetwork[];
}

export interface CarvedNetwork {
  readonly name: string;
  readonly cidr: Cidr4;
  readonly blockMask: number;
  /** null: serves every tenant. Otherwise only these tenants (strict). */
  readonly tenants: readonly string[] | null;
  /** Index of the topology (in `topologies`) that maps this network. */
  readonly topologyIndex: number;
  readonly root: CarvedGroup;
}

export interface CarvedGroup {
  /**
   * Stable id inside its network: "/" for the root, then child indices,
   * e.g. "/0", "/1/3". Block records refer to their leaf by this path.
   */
  readonly path: string;
  /** Operator's name, or "" when none was given (nested names are kept, unlike the original). */
  readonly name: string;
  readonly cidr: Cidr4;
  /** Labels a host must all carry to be placed here (inherited constraints are checked on the way down). */
  readonly assignment: Readonly<Record<string, string>>;
  /** Empty for a leaf. Includes padding children (`padding: true`) so that indices match carving. */
  readonly children: readonly CarvedGroup[];
  /** A padding part created to reach a power of two: reserved, never receives hosts. */
  readonly padding: boolean;
  /** A leaf is a group without sub-groups: hosts live here. */
  readonly leaf: boolean;
  /** Hosts written in the topology for this leaf. */
  readonly predefinedHosts: readonly HostInput[];
  readonly routing: string;
}
