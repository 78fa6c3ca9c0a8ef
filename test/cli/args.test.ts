import { describe, expect, it } from 'vitest';
import { filterFrom, hostAddRequest, parseLabels, policyRemoveRef } from '../../src/cli/args.js';
import { UsageError } from '../../src/cli/errors.js';

describe('hostAddRequest (romana host add [hostname][hostip][romana cidr][(optional)agent port])', () => {
  it("takes the seed's four arguments and ignores the romana cidr", () => {
    expect(hostAddRequest({ hostname: 'node1', hostip: '192.168.99.10', cidr: '10.0.0.0/16', agentPort: '9604' })).toEqual({
      name: 'node1',
      ip: '192.168.99.10',
      agent_port: 9604,
    });
  });

  it('needs only the name and IP', () => {
    expect(hostAddRequest({ hostname: 'node1', hostip: '192.168.99.10' })).toEqual({ name: 'node1', ip: '192.168.99.10' });
    expect(hostAddRequest({ hostname: 'node1', hostip: '192.168.99.10', cidr: '10.0.0.0/16' })).toEqual({ name: 'node1', ip: '192.168.99.10' });
  });

  it('reads a bare number in third place (no fourth) as the agent port', () => {
    expect(hostAddRequest({ hostname: 'n', hostip: '10.0.0.1', cidr: '9700' }).agent_port).toBe(9700);
  });

  it('turns -l key=value into tags', () => {
    expect(hostAddRequest({ hostname: 'n', hostip: '10.0.0.1', labels: ['rack=r1', 'zone=a'] }).tags).toEqual({ rack: 'r1', zone: 'a' });
  });

  it('reports every problem at once as a usage error', () => {
    let err: unknown;
    try {
      hostAddRequest({ hostname: ' ', hostip: '300.1.1.1', agentPort: '99999', labels: ['nokey'] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const m = (err as Error).message;
    expect(m).toContain('hostname');
    expect(m).toContain('"300.1.1.1"');
    expect(m).toContain('"99999"');
    expect(m).toContain('"nokey"');
  });
});

describe('parseLabels', () => {
  it('accepts repeats of the same value and rejects conflicting ones', () => {
    expect(parseLabels(['a=1', 'a=1', 'b='])).toEqual({ a: '1', b: '' });
    expect(() => parseLabels(['a=1', 'a=2'])).toThrow(/twice/);
    expect(() => parseLabels(['=x'])).toThrow(/key=value/);
  });
});

describe('policyRemoveRef (policy remove [policyName] / -i, --policyid)', () => {
  it('takes a name or an id, not both and not neither', () => {
    expect(policyRemoveRef('policy1', undefined)).toEqual({ by: 'name', ref: 'policy1' });
    expect(policyRemoveRef(undefined, '8e66083f-20e3-4228-af69-96b7c8269bbb')).toEqual({ by: 'id', ref: '8e66083f-20e3-4228-af69-96b7c8269bbb' });
    // The seed typed ids as uint: numbers still work, as strings.
    expect(policyRemoveRef(undefined, '12')).toEqual({ by: 'id', ref: '12' });
    expect(() => policyRemoveRef('a', 'b')).toThrow(UsageError);
    expect(() => policyRemoveRef(undefined, undefined)).toThrow(/name, or its id/);
    expect(() => policyRemoveRef(undefined, ' ')).toThrow(/must not be empty/);
  });
});

describe('filterFrom', () => {
  it('keeps given filters and rejects empty ones', () => {
    expect(filterFrom({ host: 'node1', tenant: undefined, other: 'x' }, ['host', 'tenant'])).toEqual({ host: 'node1' });
    expect(() => filterFrom({ host: '' }, ['host'])).toThrow(/--host must not be empty/);
  });
});
