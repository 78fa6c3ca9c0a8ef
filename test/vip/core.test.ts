import { describe, expect, it } from 'vitest';
import { cidr } from '../../src/core/ip.js';
import { allocateFromPool, chooseHolder, poolHasAddress } from '../../src/core/vip/index.js';

describe('chooseHolder', () => {
  const live = new Set(['a', 'b', 'c']);
  it('keeps a live candidate holder (no needless move)', () => {
    expect(chooseHolder({ holder: 'c', candidates: ['a', 'b', 'c'] }, live)).toBe('c');
  });
  it('moves away from a holder whose lease is gone, to the least-loaded live candidate, ties by name', () => {
    expect(chooseHolder({ holder: 'a', candidates: ['a', 'b', 'c'] }, new Set(['b', 'c']))).toBe('b');
    expect(chooseHolder({ holder: 'a', candidates: ['c', 'b', 'a'] }, new Set(['b', 'c']), new Map([['b', 2], ['c', 1]]))).toBe('c');
  });
  it('moves away from a live holder that is no longer a candidate', () => {
    expect(chooseHolder({ holder: 'a', candidates: ['b'] }, live)).toBe('b');
  });
  it('is null without a live candidate', () => {
    expect(chooseHolder({ holder: 'a', candidates: ['a', 'x'] }, new Set(['b']))).toBeNull();
    expect(chooseHolder({ holder: null, candidates: [] }, live)).toBeNull();
  });
});

describe('allocateFromPool', () => {
  it('takes the lowest free host address, skipping network and broadcast', () => {
    const pool = cidr('192.168.99.100/30');
    expect(allocateFromPool(pool, new Set())).toBe('192.168.99.101');
    expect(allocateFromPool(pool, new Set(['192.168.99.101']))).toBe('192.168.99.102');
    expect(allocateFromPool(pool, new Set(['192.168.99.101', '192.168.99.102']))).toBeNull();
  });
  it('uses every address of /31 and /32 pools', () => {
    expect(allocateFromPool(cidr('10.0.0.8/31'), new Set(['10.0.0.8']))).toBe('10.0.0.9');
    expect(allocateFromPool(cidr('10.0.0.7/32'), new Set())).toBe('10.0.0.7');
  });
  it('poolHasAddress agrees with allocation', () => {
    const pool = cidr('10.1.0.0/29');
    expect(poolHasAddress(pool, '10.1.0.0')).toBe(false);
    expect(poolHasAddress(pool, '10.1.0.7')).toBe(false);
    expect(poolHasAddress(pool, '10.1.0.3')).toBe(true);
    expect(poolHasAddress(pool, '10.1.1.3')).toBe(false);
  });
});
