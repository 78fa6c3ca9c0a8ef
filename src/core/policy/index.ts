/**
 * Romana policies: the canonical model (types.ts), parsing and validation of
 * every accepted input shape (parse.ts), canonical form and equality
 * (normalize.ts), references and POST planning (refs.ts), and CLI output
 * (output.ts). See DESIGN §5. Everything here is pure.
 */
export * from './types.js';
export { parsePolicyDocument, type ParseOptions, type ParsedPolicies } from './parse.js';
export {
  normalizePolicy,
  normalizeEndpoint,
  normalizeRule,
  normalizeEntry,
  canonicalPolicyJson,
  policyEquals,
  type PolicyEqualsOptions,
} from './normalize.js';
export { resolvePolicyRef, planPolicyAdds, type PolicyAddOutcome } from './refs.js';
export { policyToDocumented, policiesToDocument, describePolicy, describeEndpoint, describeRule } from './output.js';
export { icmpCodesFor, isValidIcmpCode, describeIcmpCodes, MAX_ICMP_TYPE } from './icmp.js';
