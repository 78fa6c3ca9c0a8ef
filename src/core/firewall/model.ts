/**
 * The cluster as the firewall sees it (ClusterView) and the one policy model
 * every input format compiles to (PolicyModel): *target endpoint set × peer
 * set × ports → allow*, per direction (DESIGN §5).
 *
 * Design: the model is symbolic — selectors and tenant/segment names, not
 * addresses — so compiling is independent of which pods exist, and a pod
 * coming or going changes ipset members, never chains or rules (apart from
 * named ports, which resolve per pod, and the choice of policies relevant
 * to a node). Addresses are resolved from the view at render time. Pure.
 */
import type { RomanaPolicy } from '../policy/index.js';
import type { LabelSelector } from './selector.js';

export interface PodPort {
  readonly name?: string;
  readonly containerPort: number;
  /** Default TCP, as in the Kubernetes API. */
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** IPv4 address; pods without one are ignored. */
  readonly ip: string;
  /** Name of the node (= Romana host) the pod runs on. */
  readonly node: string;
  readonly ports: ReadonlyArray<PodPort>;
}

export interface NamespaceInfo {
  readonly name: string;
  /** `kubernetes.io/metadata.name` is implied (set to `name`) when absent. */
  readonly labels: Readonly<Record<string, string>>;
}

export interface BlockInfo {
  readonly cidr: string;
  /** Host (node) name owning the block. */
  readonly host: string;
  readonly tenant: string;
  /** "" when the block has no segment. */
  readonly segment: string;
}

export interface HostInfo {
  readonly name: string;
  readonly ip: string;
}

export interface ClusterView {
  readonly namespaces: ReadonlyArray<NamespaceInfo>;
  readonly pods: ReadonlyArray<PodInfo>;
  /** networking.k8s.io/v1 NetworkPolicy objects as the API returns them (validated here). */
  readonly k8sPolicies: ReadonlyArray<unknown>;
  /** Already parsed and validated by src/core/policy. */
  readonly romanaPolicies: ReadonlyArray<RomanaPolicy>;
  readonly blocks: ReadonlyArray<BlockInfo>;
  readonly hosts: ReadonlyArray<HostInfo>;
}

export type Direction = 'ingress' | 'egress';
export type L4Protocol = 'tcp' | 'udp' | 'sctp';

/** Which namespaces a pod selector looks in. */
export type NamespaceScope =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'selector'; readonly selector: LabelSelector };

/**
 * A set of addresses, symbolically.
 * - `all`: every address (a rule without from/to, Romana `peer: any`).
 * - `pods`: pods in the scope's namespaces whose labels match (hash:ip set).
 * - `tenant`: Romana tenant [+ segment]: the blocks of that tenant/segment
 *   plus the pods of namespace = tenant [with segment label = segment]
 *   (hash:net set).
 * - `cidr`: a CIDR minus `except` (Kubernetes ipBlock, Romana cidr).
 * - `localBlocks`: Romana `peer: local`: the blocks of the node being rendered.
 */
export type AddressSet =
  | { readonly kind: 'all' }
  | { readonly kind: 'pods'; readonly namespaces: NamespaceScope; readonly pods: LabelSelector }
  | { readonly kind: 'tenant'; readonly tenant: string; readonly segment?: string }
  | { readonly kind: 'cidr'; readonly cidr: string; readonly except: readonly string[] }
  | { readonly kind: 'localBlocks' };

/**
 * What a policy protects. `pods` and `tenant` as in AddressSet (restricted
 * to the rendering node's endpoints); `host`: the node itself (Romana
 * `dest: host`, traffic from local pods to the node).
 */
export type TargetSet =
  | { readonly kind: 'pods'; readonly namespaces: NamespaceScope & { kind: 'name' }; readonly pods: LabelSelector }
  | { readonly kind: 'tenant'; readonly tenant: string; readonly segment?: string }
  | { readonly kind: 'host' };

/**
 * Destination ports of allowed traffic.
 * - `proto`: every packet of the protocol (`any` = every protocol).
 * - `port`: port..endPort (endPort = port for one port).
 * - `named`: a Kubernetes named port, resolved per destination pod: it
 *   matches packets to a pod whose container port of that name has this
 *   protocol and number; never anything that is not such a pod.
 * - `icmp`: optional type and code.
 */
export type PortMatch =
  | { readonly kind: 'proto'; readonly protocol: L4Protocol | 'icmp' | 'any' }
  | { readonly kind: 'port'; readonly protocol: L4Protocol; readonly port: number; readonly endPort: number }
  | { readonly kind: 'named'; readonly protocol: L4Protocol; readonly name: string }
  | { readonly kind: 'icmp'; readonly type: number; readonly code?: number };

/** Traffic from/to any of `peers` matching any of `ports` is allowed. Empty `peers` allows nothing. */
export interface ModelRule {
  readonly peers: readonly AddressSet[];
  /** Never empty: "all traffic" is `[{kind: 'proto', protocol: 'any'}]`. */
  readonly ports: readonly PortMatch[];
}

export interface ModelPolicy {
  /**
   * Identity, stable across content changes: `k8s:<namespace>/<name>` or
   * `romana:<id>`. Chain names hash it, so editing a policy rewrites rules
   * in place instead of replacing chains.
   */
  readonly key: string;
  readonly source: 'kubernetes' | 'romana';
  readonly direction: Direction;
  /** Endpoints this policy selects, and so isolates for `direction`. */
  readonly targets: readonly TargetSet[];
  /** Allowed traffic; empty = the targets are isolated and nothing is allowed by this policy. */
  readonly rules: readonly ModelRule[];
}

export interface PolicyModel {
  /** Sorted by (key, direction); each (key, direction) at most once. */
  readonly policies: readonly ModelPolicy[];
  /** Pod label holding the Romana segment, which `tenant` sets resolve with at render time. */
  readonly segmentLabel: string;
}
