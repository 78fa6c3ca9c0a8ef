/**
 * A small cluster for the publisher's pure tests and golden files: two
 * networks, two racks (prefix groups with assignment labels), three nodes,
 * pods allocated so that node-a owns blocks that merge (adjacent) and
 * blocks that do not (a released block in between), and node-b shares
 * node-a's rack.
 */
import { MemoryIpam } from '../../src/core/ipam/index.js';
import type { TopologyInput } from '../../src/core/topology/types.js';

export const TOPOLOGY: TopologyInput = {
  networks: [
    { name: 'romana-network', cidr: '10.112.0.0/16', block_mask: 29 },
    { name: 'second', cidr: '10.200.0.0/20', block_mask: 28, tenants: ['ops'] },
  ],
  topologies: [
    {
      networks: ['romana-network', 'second'],
      map: [
        { name: 'rack-1', assignment: { rack: 'r1' }, groups: [] },
        { name: 'rack-2', assignment: { rack: 'r2' }, groups: [] },
      ],
    },
  ],
};

export function scenario(): MemoryIpam {
  const m = MemoryIpam.withTopology(TOPOLOGY);
  m.addHost({ name: 'node-a', ip: '192.168.20.30', labels: { rack: 'r1' } });
  m.addHost({ name: 'node-b', ip: '192.168.20.31', labels: { rack: 'r1' } });
  m.addHost({ name: 'node-c', ip: '192.168.35.10', labels: { rack: 'r2' } });
  let n = 0;
  const alloc = (host: string, count: number, tenant = 'default'): string[] =>
    Array.from({ length: count }, () => m.allocate({ name: `pod-${++n}`, host, tenant, segment: '' }).ip);
  alloc('node-a', 16); // two adjacent /29s
  const middle = alloc('node-b', 8); // node-b's block, placed apart from node-a's (buddy placement)
  alloc('node-a', 20); // three more /29s, next to node-a's first two
  alloc('node-c', 3);
  alloc('node-a', 2, 'ops'); // a block in the second network
  for (const ip of middle) m.release(ip); // node-b's block becomes free again
  alloc('node-b', 9);
  return m;
}
