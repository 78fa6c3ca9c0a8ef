/**
 * The lab's public surface (command.ts and the tests import from here);
 * the work is in the modules named for what they do: plan.ts (addressing),
 * fabric.ts (namespaces, bridges), bird_conf.ts, processes.ts, pods.ts,
 * dns.ts, probe.ts, routes.ts, report.ts, check.ts, policy.ts, down.ts,
 * up.ts.
 */
export { labCheck } from './check.js';
export { labDown, labNamespaces, labStatus } from './down.js';
export { applyPolicyFile } from './policy.js';
export { probeMatrix, renderMatrix, type Matrix, type Proto } from './probe.js';
export { renderSummary } from './report.js';
export { DEFAULT_PREFIX, DEFAULT_STATE_DIR, LabError, readState, type LabState } from './state.js';
export { labUp, type LabOptions } from './up.js';
