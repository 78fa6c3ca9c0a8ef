/**
 * The agent's pure desired-state computations (DESIGN §6): nat table,
 * routes (planned around the aggregation kernel), the renderer's cluster
 * view, and the checks on the pod networks. The filter-table firewall
 * itself is src/core/firewall's renderNodeFirewall.
 */
export * from './types.js';
export { natSpec, chainOf, MASQ_CHAIN } from './nat.js';
export { planRoutes, routesFromTable, remoteHostAddresses, ownGroupCidrs, THROW_HOP, DONT_CARE_HOP, type ReachInfo, type RoutePlan } from './routes.js';
export { clusterViewOf, type ViewRecords } from './cluster_view.js';
export { serviceRangeOverlaps } from './checks.js';
