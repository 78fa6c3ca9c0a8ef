/**
 * What the node renderer asks of the cluster (RenderSource), and the
 * reference answer straight from a ViewIndex (ViewSource).
 *
 * Design: the renderer (render.ts) decides chains, rules and which sets a
 * node needs; a source only answers lookups: a node's pods and blocks, the
 * local part of a policy target, named-port numbers, and the members of
 * cluster-wide sets. ViewSource answers by filtering cluster-wide lists per
 * node, the obvious way, and builds every set afresh: renderNodeFirewall
 * stays the simple reference. FirewallCluster (cluster.ts) answers the same
 * questions from per-node indexes and shares each cluster-wide set between
 * nodes. Answers may come in any order: the renderer sorts everything it
 * emits. Pure.
 */
import { cidr as trustedCidr } from '../ip.js';
import { formatMembers, host } from './members.js';
import type { L4Protocol, ModelPolicy, NamespaceScope, PolicyModel } from './model.js';
import type { LabelSelector } from './selector.js';
import type { DesiredIpset } from './types.js';
import { namedPortOf, type IndexedBlock, type IndexedPod, type ViewIndex } from './view_index.js';

export interface RenderSource {
  /** Policies of `model` that may select an endpoint of `node`, in model order; a superset is fine (policies with no local target are dropped). */
  candidatePolicies(model: PolicyModel, node: string): Iterable<ModelPolicy>;
  localPods(node: string): readonly IndexedPod[];
  /** The node's pods in the scope's namespaces whose labels match `sel`. */
  localPodsIn(node: string, scope: NamespaceScope, sel: LabelSelector): readonly IndexedPod[];
  /** The node's pods of namespace = tenant [with the segment]. */
  localTenantPods(node: string, tenant: string, segment: string | undefined): readonly IndexedPod[];
  localTenantBlocks(node: string, tenant: string, segment: string | undefined): readonly IndexedBlock[];
  localBlocks(node: string): readonly IndexedBlock[];
  /** The node's pods whose port `name` has this protocol and number. */
  localNamedPods(node: string, protocol: L4Protocol, name: string, port: number): readonly IndexedPod[];
  /** Every number the port `name` has on some pod of the cluster (any order). */
  namedPortNumbers(protocol: L4Protocol, name: string): readonly number[];
  /** Cluster-wide sets, by name (the name encodes the meaning, names.ts). */
  podSet(name: string, scope: NamespaceScope, sel: LabelSelector): DesiredIpset;
  tenantSet(name: string, tenant: string, segment: string | undefined): DesiredIpset;
  namedSet(name: string, protocol: L4Protocol, portName: string, port: number): DesiredIpset;
  exceptSet(name: string, except: readonly string[]): DesiredIpset;
}

/** The reference source: cluster-wide lists filtered per node, sets built per call. */
export class ViewSource implements RenderSource {
  constructor(private readonly idx: ViewIndex) {}

  candidatePolicies(model: PolicyModel): Iterable<ModelPolicy> {
    return model.policies;
  }
  localPods(node: string): readonly IndexedPod[] {
    return this.idx.podsByNode.get(node) ?? [];
  }
  localPodsIn(node: string, scope: NamespaceScope, sel: LabelSelector): readonly IndexedPod[] {
    return this.idx.podsIn(scope, sel).filter((p) => p.pod.node === node);
  }
  localTenantPods(node: string, tenant: string, segment: string | undefined): readonly IndexedPod[] {
    return this.idx.tenantPods(tenant, segment).filter((p) => p.pod.node === node);
  }
  localTenantBlocks(node: string, tenant: string, segment: string | undefined): readonly IndexedBlock[] {
    return this.idx.tenantBlocks(tenant, segment).filter((b) => b.block.host === node);
  }
  localBlocks(node: string): readonly IndexedBlock[] {
    return this.idx.blocks.filter((b) => b.block.host === node);
  }
  localNamedPods(node: string, protocol: L4Protocol, name: string, port: number): readonly IndexedPod[] {
    return this.localPods(node).filter((p) => namedPortOf(p.pod, protocol, name) === port);
  }
  namedPortNumbers(protocol: L4Protocol, name: string): readonly number[] {
    return [...this.idx.namedPort(protocol, name).keys()];
  }
  podSet(name: string, scope: NamespaceScope, sel: LabelSelector): DesiredIpset {
    return { name, type: 'hash:ip', members: formatMembers(this.idx.podsIn(scope, sel).map((p) => host(p.ip)), 'hash:ip') };
  }
  tenantSet(name: string, tenant: string, segment: string | undefined): DesiredIpset {
    const members = [...this.idx.tenantBlocks(tenant, segment).map((b) => b.cidr), ...this.idx.tenantPods(tenant, segment).map((p) => host(p.ip))];
    return { name, type: 'hash:net', members: formatMembers(members, 'hash:net') };
  }
  namedSet(name: string, protocol: L4Protocol, portName: string, port: number): DesiredIpset {
    const pods = this.idx.namedPort(protocol, portName).get(port) ?? [];
    return { name, type: 'hash:ip', members: formatMembers(pods.map((p) => host(p.ip)), 'hash:ip') };
  }
  exceptSet(name: string, except: readonly string[]): DesiredIpset {
    return { name, type: 'hash:net', members: formatMembers(except.map(trustedCidr), 'hash:net') };
  }
}
