import { describe, expect, it } from 'vitest';
import type { Problem } from '../../../src/core/errors.js';
import { carveTopology, validateTopology, type TopologyInput } from '../../../src/core/topology/index.js';

/** A valid topology to break one thing at a time. */
function base(): any {
  return {
    networks: [{ name: 'net1', cidr: '10.0.0.0/16' }],
    topologies: [{ networks: ['net1'], map: [{ name: 'g', groups: [] }] }],
  };
}

function at(problems: Problem[]): string[] {
  return problems.map((p) => p.path);
}

/** The one problem at `path` (fails when there is none or several). */
function only(problems: Problem[], path: string): Problem {
  const found = problems.filter((p) => p.path === path);
  expect(found, `${path} in ${JSON.stringify(problems, null, 1)}`).toHaveLength(1);
  return found[0]!;
}

describe('validateTopology', () => {
  it('accepts the base document and the original variants', () => {
    expect(validateTopology(base())).toEqual([]);
    // Original: hosts as entries of "groups" carrying "ip"; input "cidr" on groups is ignored.
    const v = base();
    v.topologies[0].map = [{ cidr: '1.2.3.0/24', routing: 'foo', groups: [{ name: 'h1', ip: '192.168.0.1' }, { name: 'h2', ip: '192.168.0.2' }] }];
    expect(validateTopology(v)).toEqual([]);
    // Documented: "hosts" on a leaf, "groups": [] alongside is unambiguous.
    v.topologies[0].map = [{ hosts: [{ name: 'h1', ip: '192.168.0.1' }], groups: [] }, { hosts: [{ name: 'h2', ip: '192.168.0.2' }] }];
    expect(validateTopology(v)).toEqual([]);
  });

  it('rejects what is not a topology object', () => {
    for (const bad of [null, [], 'x', 3]) expect(at(validateTopology(bad))).toEqual(['$']);
    expect(validateTopology({})).toEqual([
      { path: '$.networks', value: undefined, message: 'Missing "networks" in the topology' },
      { path: '$.topologies', value: undefined, message: 'Missing "topologies" in the topology' },
    ]);
    const p = validateTopology({ networks: {}, topologies: 'x', extra: 1 });
    expect(at(p).sort()).toEqual(['$.extra', '$.networks', '$.topologies']);
    expect(only(p, '$.extra').message).toBe('Unknown field "extra" in the topology (allowed: networks, topologies)');
    expect(at(validateTopology({ networks: [], topologies: [] }))).toEqual(['$.networks', '$.topologies']);
  });

  it('reports wrong-typed and missing network fields at their paths', () => {
    const v = base();
    v.networks.push(7, { cidr: 5, block_mask: '29', tenants: 'web', colour: 'red' });
    const p = validateTopology(v);
    expect(only(p, '$.networks[1]').message).toBe('A network must be an object, not a number');
    expect(only(p, '$.networks[2].name').message).toBe('Missing name of the network');
    expect(only(p, '$.networks[2].cidr').message).toBe('The network CIDR must be a string, not a number');
    expect(only(p, '$.networks[2].block_mask').message).toBe('block_mask "29" must be an integer prefix length');
    expect(only(p, '$.networks[2].tenants').message).toBe('"tenants" must be a list of tenant names, not a string');
    expect(only(p, '$.networks[2].colour').value).toBe('red');
  });

  it('rejects malformed CIDRs and CIDRs with host bits set', () => {
    const v = base();
    v.networks[0].cidr = '10.0.0.5/16';
    expect(validateTopology(v)).toEqual([
      { path: '$.networks[0].cidr', value: '10.0.0.5/16', message: 'CIDR "10.0.0.5/16" has host bits set (the network address is "10.0.0.0/16")' },
    ]);
    v.networks[0].cidr = '10.0.0.0/33';
    expect(only(validateTopology(v), '$.networks[0].cidr').message).toBe('Invalid CIDR "10.0.0.0/33": invalid prefix length "33"');
    v.networks[0].cidr = '10.0.0.0';
    expect(only(validateTopology(v), '$.networks[0].cidr').message).toMatch(/^Invalid CIDR "10.0.0.0": missing/);
  });

  it('checks block_mask: an integer between the network prefix and 32; defaults to 29 or the prefix', () => {
    const v = base();
    v.networks[0].cidr = '10.0.0.0/24';
    for (const [mask, ok] of [[24, true], [32, true], [23, false], [33, false], [29.5, false], [-1, false]] as const) {
      v.networks[0].block_mask = mask;
      expect(validateTopology(v).length === 0, String(mask)).toBe(ok);
    }
    v.networks[0].block_mask = 20; // the original's TestUpdateTopologyInvalidBlockMask
    expect(only(validateTopology(v), '$.networks[0].block_mask').message).toBe(
      'block_mask 20 is out of range for "10.0.0.0/24": it must be between 24 and 32',
    );
    delete v.networks[0].block_mask;
    expect(carveTopology(v).networks[0]!.blockMask).toBe(29);
    v.networks[0].cidr = '10.0.0.0/30';
    expect(carveTopology(v).networks[0]!.blockMask).toBe(30);
  });

  it('rejects a group (leaf or any level) smaller than one block, for each network it is carved in', () => {
    const v = base();
    v.networks = [
      { name: 'big', cidr: '10.0.0.0/24', block_mask: 28 },
      { name: 'small', cidr: '10.1.0.0/26', block_mask: 28 },
    ];
    // 3 zones → 4 parts: /26 in big, /28 in small; zone "b" splits in 2 → /27 and /29.
    v.topologies[0] = {
      networks: ['big', 'small'],
      map: [{ name: 'a', groups: [] }, { name: 'b', groups: [{ name: 'b1' }, { name: 'b2', groups: [{}, {}] }] }, { name: 'c' }],
    };
    const p = validateTopology(v);
    expect(p).toEqual([
      {
        path: '$.topologies[0].map[1].groups[0]',
        value: '10.1.0.16/29',
        message: 'Group "b1" would get "10.1.0.16/29" in network "small", smaller than one /28 block',
      },
      {
        path: '$.topologies[0].map[1].groups[1]',
        value: '10.1.0.24/29',
        message: 'Group "b2" would get "10.1.0.24/29" in network "small", smaller than one /28 block',
      },
    ]);
    // Only the topmost too-small group is reported, even below /32.
    v.networks = [{ name: 'big', cidr: '10.0.0.0/31', block_mask: 31 }];
    v.topologies[0].networks = ['big'];
    v.topologies[0].map = [{ groups: [{ groups: [{}, {}, {}] }, {}] }, {}];
    expect(validateTopology(v)).toEqual([
      { path: '$.topologies[0].map[0]', value: '10.0.0.0/32', message: 'This group would get "10.0.0.0/32" in network "big", smaller than one /31 block' },
      { path: '$.topologies[0].map[1]', value: '10.0.0.1/32', message: 'This group would get "10.0.0.1/32" in network "big", smaller than one /31 block' },
    ]);
    v.networks[0] = { name: 'big', cidr: '10.0.0.0/32', block_mask: 32 };
    expect(validateTopology(v)[0]).toMatchObject({ value: '/33', message: 'This group would get a /33 in network "big", smaller than one /32 block' });
  });

  it('rejects overlapping networks, equal or nested, and overlap with the service range', () => {
    const v = base();
    v.networks.push({ name: 'same', cidr: '10.0.0.0/16' }, { name: 'inner', cidr: '10.0.128.0/17' }, { name: 'outer', cidr: '10.0.0.0/8' });
    v.topologies[0].networks.push('same', 'inner', 'outer');
    const p = validateTopology(v, { serviceCidr: '10.96.0.0/12' });
    expect(p.map((x) => [x.path, x.message])).toEqual([
      ['$.networks[1].cidr', 'CIDR "10.0.0.0/16" of network "same" overlaps CIDR "10.0.0.0/16" of network "net1" ($.networks[0])'],
      ['$.networks[2].cidr', 'CIDR "10.0.128.0/17" of network "inner" overlaps CIDR "10.0.0.0/16" of network "net1" ($.networks[0])'],
      ['$.networks[2].cidr', 'CIDR "10.0.128.0/17" of network "inner" overlaps CIDR "10.0.0.0/16" of network "same" ($.networks[1])'],
      ['$.networks[3].cidr', 'CIDR "10.0.0.0/8" of network "outer" overlaps CIDR "10.0.0.0/16" of network "net1" ($.networks[0])'],
      ['$.networks[3].cidr', 'CIDR "10.0.0.0/8" of network "outer" overlaps CIDR "10.0.0.0/16" of network "same" ($.networks[1])'],
      ['$.networks[3].cidr', 'CIDR "10.0.0.0/8" of network "outer" overlaps CIDR "10.0.128.0/17" of network "inner" ($.networks[2])'],
      ['$.networks[3].cidr', 'CIDR "10.0.0.0/8" of network "outer" overlaps the service range "10.96.0.0/12"'],
    ]);
    // Adjacent ranges do not overlap; a host-bits CIDR is still checked for overlap.
    expect(validateTopology(base(), { serviceCidr: '10.1.0.0/16' })).toEqual([]);
    const w = base();
    w.networks.push({ name: 'n2', cidr: '10.0.0.1/24' });
    w.topologies[0].networks.push('n2');
    expect(at(validateTopology(w))).toEqual(['$.networks[1].cidr', '$.networks[1].cidr']);
    expect(validateTopology(base(), { serviceCidr: 'nope' })).toEqual([
      { path: 'serviceCidr', value: 'nope', message: 'Invalid service CIDR "nope": missing "/prefix"' },
    ]);
  });

  it('rejects duplicate and malformed network names, and invalid tenant names', () => {
    const v = base();
    v.networks.push({ name: 'net1', cidr: '10.1.0.0/16' }, { name: 'a/b', cidr: '10.2.0.0/16', tenants: ['web', '*', '', 'web', 3] });
    const p = validateTopology(v);
    expect(only(p, '$.networks[1].name').message).toBe('Network name "net1" is already used by $.networks[0]');
    expect(only(p, '$.networks[2].name').message).toMatch(/^Invalid network name "a\/b": use letters/);
    expect(only(p, '$.networks[2].tenants[1]').message).toBe('Invalid tenant name "*": use letters, digits, "_" and "-"');
    expect(only(p, '$.networks[2].tenants[2]').message).toBe('Invalid tenant name "": use letters, digits, "_" and "-"');
    expect(only(p, '$.networks[2].tenants[3]').message).toBe('Tenant "web" is listed twice');
    expect(only(p, '$.networks[2].tenants[4]').message).toBe('A tenant name must be a string, not a number');
  });

  it('checks network references: defined, used by exactly one topology once, and every network used', () => {
    const v = base();
    v.networks.push({ name: 'net2', cidr: '10.1.0.0/16' }, { name: 'idle', cidr: '10.2.0.0/16' });
    v.topologies[0].networks = ['net1', 'ghost', 'net1', 4];
    v.topologies.push({ networks: ['net2', 'net1'], map: [{}] }, { networks: [], map: [{}] });
    const p = validateTopology(v);
    expect(p.map((x) => [x.path, x.message])).toEqual([
      ['$.topologies[0].networks[1]', 'Network "ghost" is not defined in "networks"'],
      ['$.topologies[0].networks[2]', 'Network "net1" is already used by $.topologies[0].networks[0]; a network belongs to one topology, once'],
      ['$.topologies[0].networks[3]', 'A network reference must be a network name, not a number'],
      ['$.topologies[1].networks[1]', 'Network "net1" is already used by $.topologies[0].networks[0]; a network belongs to one topology, once'],
      ['$.topologies[2].networks', 'A topology must list at least one network'],
      ['$.networks[2].name', 'Network "idle" is not used by any topology'],
    ]);
  });

  it('checks groups: types, assignment values, sibling names, mixed lists, hosts and groups together, empty map', () => {
    const v = base();
    v.topologies[0].map = [
      { name: 'rack', assignment: { rack: 'r1', 'failure-domain.beta.kubernetes.io/zone': 7 } },
      { name: 'rack', groups: [{ name: 'x', ip: '10.9.0.1' }, { name: 'sub' }] },
      { name: 5, routing: [], padding: 'yes', assignment: [], groups: {}, hosts: 'h', assigment: { a: 'b' } },
      { hosts: [{ name: 'h9', ip: '10.9.0.9' }], groups: [{}] },
      'text',
    ];
    const p = validateTopology(v);
    expect(p.map((x) => [x.path, x.message])).toEqual([
      [
        '$.topologies[0].map[0].assignment["failure-domain.beta.kubernetes.io/zone"]',
        'The assignment value of label "failure-domain.beta.kubernetes.io/zone" must be a string, not a number (7)',
      ],
      ['$.topologies[0].map[1].groups', 'The list mixes 1 host entries (with "ip") and 1 sub-groups; a group has either hosts or sub-groups'],
      ['$.topologies[0].map[1].name', 'Group name "rack" is already used by its sibling $.topologies[0].map[0]'],
      ['$.topologies[0].map[2].assigment', 'Unknown field "assigment" in a group (allowed: name, assignment, groups, hosts, routing, padding, cidr)'],
      ['$.topologies[0].map[2].name', 'The group name must be a string, not a number'],
      ['$.topologies[0].map[2].routing', '"routing" must be a string, not an array'],
      ['$.topologies[0].map[2].padding', '"padding" must be true or false, not "yes"'],
      ['$.topologies[0].map[2].assignment', '"assignment" must be an object of label: value, not an array'],
      ['$.topologies[0].map[2].groups', '"groups" must be a list, not an object'],
      ['$.topologies[0].map[2].hosts', '"hosts" must be a list, not a string'],
      ['$.topologies[0].map[3]', 'A group has either "hosts" or sub-"groups", not both'],
      ['$.topologies[0].map[4]', 'A group must be an object, not a string'],
    ]);
    v.topologies[0].map = [];
    expect(only(validateTopology(v), '$.topologies[0].map').message).toMatch(/^The map must have at least one group/);
    v.topologies[0].map = [{ name: 'h', ip: '1.2.3.4' }];
    expect(only(validateTopology(v), '$.topologies[0].map').message).toMatch(/^The map lists hosts/);
  });

  it('checks padding entries: reserved slots only, and not all of them', () => {
    const v = base();
    v.topologies[0].map = [{ padding: true, groups: [{}] }, { padding: true, assignment: { a: 'b' } }, { padding: true, groups: [] }];
    const p = validateTopology(v);
    expect(p.map((x) => [x.path, x.message])).toEqual([
      ['$.topologies[0].map[0]', 'A padding entry is a reserved slot: it cannot have "groups"'],
      ['$.topologies[0].map[1]', 'A padding entry is a reserved slot: it cannot have "assignment"'],
    ]);
    v.topologies[0].map = [{ padding: true }, { padding: true, name: 'later' }];
    expect(only(validateTopology(v), '$.topologies[0].map').message).toBe('Every group of the map is padding: no host could ever be placed');
  });

  it('checks hosts: name and IP present and valid, names and IPs unique', () => {
    const v = base();
    v.networks.push({ name: 'net2', cidr: '10.1.0.0/16' });
    v.topologies.push({ networks: ['net2'], map: [{ hosts: [{ name: 'h1', ip: '192.168.0.1' }, { name: 'h3', ip: '192.168.0.3' }] }] });
    v.topologies[0].map = [
      {
        groups: [
          { name: 'h1', ip: '192.168.0.1' },
          { name: 'h1', ip: '192.168.0.9' },
          { name: 'h2', ip: '192.168.0.1' },
          { name: 'h3', ip: '192.168.0.33' },
          { name: 'h4', ip: '192.168.0.256' },
          { name: 'bad name', ip: 'x' },
          { ip: '1.1.1.1', tags: {} },
        ],
      },
    ];
    const p = validateTopology(v);
    expect(p.map((x) => [x.path, x.message])).toEqual([
      ['$.topologies[0].map[0].groups[1].name', 'Host name "h1" is already defined at $.topologies[0].map[0].groups[0]'],
      ['$.topologies[0].map[0].groups[2].ip', 'Host IP "192.168.0.1" is already used by host "h1" at $.topologies[0].map[0].groups[0]'],
      ['$.topologies[0].map[0].groups[4].ip', 'Invalid host IP "192.168.0.256": expected a dotted-quad IPv4 address'],
      ['$.topologies[0].map[0].groups[5].name', 'Invalid host name "bad name": use letters, digits, ".", "_" and "-", starting with a letter or digit, at most 253 characters'],
      ['$.topologies[0].map[0].groups[5].ip', 'Invalid host IP "x": expected a dotted-quad IPv4 address'],
      ['$.topologies[0].map[0].groups[6].tags', 'Unknown field "tags" in a host (allowed: name, ip)'],
      ['$.topologies[0].map[0].groups[6].name', 'Missing name of the host'],
      // The same host in another topology (so in another network) is fine with the same IP, not with another.
      ['$.topologies[1].map[0].hosts[1].ip', 'Host "h3" has IP "192.168.0.3" here but "192.168.0.33" at $.topologies[0].map[0].groups[3]'],
    ]);
  });

  it('returns every problem at once', () => {
    const v: any = {
      networks: [
        { name: 'a', cidr: '10.0.0.1/24', block_mask: 40 },
        { name: 'a', cidr: '10.0.0.0/8', tenants: ['*'] },
      ],
      topologies: [{ networks: ['a', 'b'], map: [{ assignment: { rack: 3 }, groups: [{ name: 'x', ip: '1.2.3.4' }, { name: 'g' }] }] }],
    };
    expect(at(validateTopology(v, { serviceCidr: '10.96.0.0/12' }))).toEqual([
      '$.networks[0].cidr',
      '$.networks[0].block_mask',
      '$.networks[1].tenants[0]',
      '$.networks[1].name',
      '$.networks[1].cidr',
      '$.networks[1].cidr',
      '$.topologies[0].networks[1]',
      '$.topologies[0].map[0].assignment.rack',
      '$.topologies[0].map[0].groups',
    ]);
  });

  it('carveTopology refuses invalid input with VALIDATION_FAILED listing every problem', () => {
    const v = base();
    v.networks[0].cidr = '10.0.0.5/16';
    v.topologies[0].networks.push('ghost');
    expect(() => carveTopology(v as TopologyInput)).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        details: { problems: validateTopology(v) },
      }),
    );
  });
});
