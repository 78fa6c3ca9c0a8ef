import { describe, expect, it } from 'vitest';
import { formatCidr } from '../../../src/core/ip.js';
import { loadTopology } from '../../../src/core/topology/index.js';

const TEXT = `# kubeadm-like
{
  "networks": [ { "name": "pods", "cidr": "10.112.0.0/12" }, ],
  "topologies": [ { "networks": [ "pods" ], "map": [ { "name": "a" }, { "name": "b" } ] } ]
}`;

describe('loadTopology', () => {
  it('returns the input as written (comments stripped) and its carving', () => {
    const { input, carved } = loadTopology(TEXT);
    expect(input).toEqual({ networks: [{ name: 'pods', cidr: '10.112.0.0/12' }], topologies: [{ networks: ['pods'], map: [{ name: 'a' }, { name: 'b' }] }] });
    expect(carved.networks[0]!.root.children.map((g) => formatCidr(g.cidr))).toEqual(['10.112.0.0/13', '10.120.0.0/13']);
  });

  it('checks the service range it is given', () => {
    expect(() => loadTopology(TEXT, { serviceCidr: '10.96.0.0/12' })).not.toThrow();
    expect(() => loadTopology(TEXT, { serviceCidr: '10.112.0.0/16' })).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        message: 'Invalid topology: $.networks[0].cidr: CIDR "10.112.0.0/12" of network "pods" overlaps the service range "10.112.0.0/16"',
      }),
    );
  });

  it('reports syntax errors as INVALID_JSON with line:column', () => {
    expect(() => loadTopology(TEXT.replace('"pods" ]', '"pods" }'))).toThrow(
      expect.objectContaining({ code: 'INVALID_JSON', message: 'Invalid JSON at 4:42: expected "," or "]", found "}"' }),
    );
  });
});
