/**
 * codec.ts: every way a stored record can be unusable gives STORE_CORRUPT
 * naming the key and the problem; good records of every kind decode as they
 * were written. (The same decoding through both real backends is in the
 * conformance suite and the IpamService tests.)
 */
import { describe, expect, it } from 'vitest';
import { RomanaError } from '../../src/core/errors.js';
import type { IpamRecord } from '../../src/core/ipam/types.js';
import { decodeIpamRecord, decodeJsonRecord, encodeRecord, ipamKindOf } from '../../src/store/codec.js';

const good: Array<[string, IpamRecord]> = [
  ['topology', { schema: 1, input: { networks: [], topologies: [] } }],
  ['hosts/h1', { schema: 1, name: 'h1', ip: '192.168.0.1', labels: { zone: 'a' }, groups: { net: '/0' }, agentPort: 9604 }],
  ['blocks/net/10.0.0.0/29', { schema: 1, network: 'net', cidr: '10.0.0.0/29', group: '/0', host: 'h1', tenant: '', segment: '', names: { '0': 'p1', '5': 'p2' } }],
  ['addresses/p1', { schema: 1, name: 'p1', ip: '10.0.0.0', network: 'net', block: '10.0.0.0/29', host: 'h1', tenant: 't', segment: 's' }],
  ['reservations/net/10.0.1.0/24', { schema: 1, network: 'net', cidr: '10.0.1.0/24' }],
];

function corruptOf(key: string, value: string): RomanaError {
  try {
    decodeIpamRecord(key, value);
  } catch (e) {
    expect(e).toBeInstanceOf(RomanaError);
    expect((e as RomanaError).code).toBe('STORE_CORRUPT');
    expect((e as RomanaError).message).toContain(`"${key}"`);
    expect((e as RomanaError).resourceId).toBe(key);
    return e as RomanaError;
  }
  throw new Error(`${key} decoded although it is corrupt: ${value}`);
}

describe('codec', () => {
  it('decodes a good record of every kind to what was encoded', () => {
    for (const [key, rec] of good) expect(decodeIpamRecord(key, encodeRecord(rec))).toEqual(rec);
  });

  it('maps keys to record kinds', () => {
    expect(good.map(([k]) => ipamKindOf(k))).toEqual(['topology', 'host', 'block', 'address', 'reservation']);
    expect(ipamKindOf('policies/1')).toBeNull();
    expect(corruptOf('policies/1', '{"schema":1}').message).toMatch(/not part of the IPAM layout/);
  });

  it('rejects text that is not a JSON object', () => {
    expect(corruptOf('hosts/h1', '{"schema":1,').message).toMatch(/not valid JSON/);
    expect(corruptOf('hosts/h1', '[1,2]').message).toMatch(/an array/);
    expect(corruptOf('hosts/h1', 'null').message).toMatch(/found null/);
    expect(corruptOf('hosts/h1', '"text"').message).toMatch(/found string/);
  });

  it('rejects a missing or foreign schema', () => {
    expect(corruptOf('hosts/h1', '{"name":"h1"}').message).toMatch(/no "schema" field/);
    const e = corruptOf('hosts/h1', '{"schema":2,"name":"h1"}');
    expect(e.message).toMatch(/schema 2 is not one this version reads/);
    expect(e.details).toMatchObject({ schema: 2 });
    expect(corruptOf('hosts/h1', '{"schema":"1"}').message).toMatch(/schema "1"/);
  });

  it('lists every missing or mistyped field of a kind', () => {
    const e = corruptOf('addresses/p1', '{"schema":1,"name":"p1","ip":7,"tenant":null}');
    for (const f of ['"ip" must be', '"network" must be', '"block" must be', '"host" must be', '"tenant" must be', '"segment" must be']) {
      expect(e.message).toContain(f);
    }
    expect((e.details.problems as string[]).length).toBe(6);
    expect(corruptOf('blocks/net/10.0.0.0/29', encodeRecord({ ...(good[2]![1] as object), names: { x: 'p1' } } as IpamRecord)).message).toMatch(/invalid key "x"/);
    expect(corruptOf('blocks/net/10.0.0.0/29', encodeRecord({ ...(good[2]![1] as object), names: { '1': 5 } } as unknown as IpamRecord)).message).toMatch(/"names.1" must be a string/);
    expect(corruptOf('hosts/h1', encodeRecord({ ...(good[1]![1] as object), agentPort: 70000 } as IpamRecord)).message).toMatch(/agentPort/);
    expect(corruptOf('topology', '{"schema":1,"input":{"networks":{}}}').message).toMatch(/input.networks.*input.topologies/);
  });

  it('rejects a record that disagrees with its key', () => {
    expect(corruptOf('hosts/h2', encodeRecord(good[1]![1])).message).toMatch(/"name" is "h1" but the key says "h2"/);
    expect(corruptOf('blocks/net/10.0.0.8/29', encodeRecord(good[2]![1])).message).toMatch(/the key says "net\/10.0.0.8\/29"/);
    expect(corruptOf('addresses/p9', encodeRecord(good[3]![1])).message).toMatch(/the key says "p9"/);
    expect(corruptOf('reservations/other/10.0.1.0/24', encodeRecord(good[4]![1])).message).toMatch(/the key says/);
  });

  it('decodeJsonRecord checks only JSON and schema (for other record families)', () => {
    expect(decodeJsonRecord('policies/x', '{"schema":1,"anything":true}')).toEqual({ schema: 1, anything: true });
  });
});
