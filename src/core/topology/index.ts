/**
 * Topology: the operator's description of the network (networks, prefix
 * groups, predefined hosts), its validation, and its carving into prefix
 * groups with CIDRs that the IPAM allocates from. See DESIGN §3.
 */
export type * from './types.js';
export { parseTopologyText, loadTopology, type LoadedTopology } from './load.js';
export {
  validateTopology,
  jsonPathKey,
  carveBits,
  DEFAULT_BLOCK_MASK,
  NAME_RE,
  MAX_NAME_LENGTH,
  TENANT_RE,
  type ValidateOptions,
} from './validate.js';
export { carveTopology, walkGroups, usableLeaves, findGroup } from './carve.js';
export { builtinTopology, builtinTopologyNames } from './builtin.js';
export { BUILTIN_NETWORK_NAME } from './builtin_data.js';
export { parseNetworkCidrOverrides, applyNetworkCidrOverrides, type ParseOverridesResult } from './overrides.js';
export { topologyToOutput, describeCarved, type OutputOptions } from './output.js';
