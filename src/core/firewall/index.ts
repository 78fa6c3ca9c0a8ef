/**
 * The policy engine and firewall renderer (DESIGN §5): every policy format
 * compiled to one model (compile.ts, k8s.ts, selector.ts, model.ts), the
 * model rendered into one node's filter-table chains and ipsets
 * (render.ts, names.ts), every node of a cluster from one shared,
 * incremental model (cluster.ts), text payloads of the result (restore.ts), and an
 * interpreter of the rendered rules (evaluate.ts) that the simulator and
 * the tests judge traffic with. Everything here is pure.
 */
export * from './types.js';
export type {
  PodInfo,
  PodPort,
  NamespaceInfo,
  BlockInfo,
  HostInfo,
  ClusterView,
  Direction,
  L4Protocol,
  NamespaceScope,
  AddressSet,
  TargetSet,
  PortMatch,
  ModelRule,
  ModelPolicy,
  PolicyModel,
} from './model.js';
export { compilePolicies, compileRomanaPolicy, DEFAULT_SEGMENT_LABEL, type CompileOptions, type CompileResult } from './compile.js';
export { compileK8sPolicy, K8S_API_VERSIONS } from './k8s.js';
export {
  parseSelector,
  selectorMatches,
  selectorKey,
  MATCH_ALL,
  SELECTOR_OPERATORS,
  type LabelSelector,
  type SelectorOperator,
  type SelectorRequirement,
} from './selector.js';
export { renderNodeFirewall, renderModel, DEFAULT_VETH_MATCH, type RenderOptions } from './render.js';
export { renderIptablesRestore, renderIpsetRestore, hashComment, withComment } from './restore.js';
export { evaluatePacket, tokenize, type Packet, type PacketProtocol, type Verdict } from './evaluate.js';
export { CHAIN, SET, policyChainName, setName, ruleHash, jumpHash, MAX_CHAIN_NAME, MAX_IPSET_NAME, type SetRole } from './names.js';
export { indexView, namedPortOf, NAMESPACE_NAME_LABEL, type ViewIndex, type IndexedPod } from './view_index.js';
export {
  simulate,
  simulatedView,
  collectKubeObjects,
  syntheticBlocks,
  parseProbe,
  probeText,
  podId,
  simulatedVeth,
  DEFAULT_PROBE,
  SIMULATED_UPLINK,
  type Probe,
  type ProbeResult,
  type SimulationResult,
  type SimulateOptions,
  type SourcedObject,
  type KubeObjects,
} from './simulate.js';
export { FirewallCluster, type FirewallDelta, type IpsetDelta } from './cluster.js';
export type { RenderSource } from './render_source.js';
