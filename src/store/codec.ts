/**
 * Decoding stored records (DESIGN §2: values are JSON with a `schema` number).
 *
 * Goal: a record that is not valid JSON, carries an unknown schema (written
 * by a newer or foreign program), lacks a field its kind requires, or
 * disagrees with its own key is reported as STORE_CORRUPT naming the key and
 * the problem — never a crash or a silently half-read object deeper in the
 * IPAM.
 *
 * Design: the record kind follows from the key (keys.ts layout); each kind
 * has a field checker listing every problem found. Decoding is pure and
 * cheap enough for every watch event.
 */
import { RomanaError } from '../core/errors.js';
import type { AddressRecord, BlockRecord, HostRecord, IpamRecord, ReservationRecord, TopologyRecord } from '../core/ipam/types.js';
import { ADDRESSES_PREFIX, BLOCKS_PREFIX, HOSTS_PREFIX, RESERVATIONS_PREFIX, TOPOLOGY_KEY } from '../core/ipam/keys.js';

/** Schema versions this build reads, per record family. */
export const KNOWN_SCHEMAS: readonly number[] = [1];

export type IpamRecordKind = 'topology' | 'host' | 'block' | 'address' | 'reservation';

/** The record kind a key holds, or null for keys outside the IPAM layout. */
export function ipamKindOf(key: string): IpamRecordKind | null {
  if (key === TOPOLOGY_KEY) return 'topology';
  if (key.startsWith(HOSTS_PREFIX)) return 'host';
  if (key.startsWith(BLOCKS_PREFIX)) return 'block';
  if (key.startsWith(ADDRESSES_PREFIX)) return 'address';
  if (key.startsWith(RESERVATIONS_PREFIX)) return 'reservation';
  return null;
}

export function corrupt(key: string, problem: string, details: Record<string, unknown> = {}): RomanaError {
  return new RomanaError('STORE_CORRUPT', `Stored record "${key}" is unusable: ${problem}`, {
    resourceType: 'record',
    resourceId: key,
    details: { key, problem, ...details },
  });
}

/**
 * Parses JSON and checks the `schema` field; the first step for every record
 * family (IPAM here, policies and others later).
 */
export function decodeJsonRecord(key: string, value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    throw corrupt(key, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw corrupt(key, `expected a JSON object, found ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed}`);
  }
  const rec = parsed as Record<string, unknown>;
  if (!('schema' in rec)) throw corrupt(key, 'no "schema" field (not written by Romana?)');
  if (typeof rec.schema !== 'number' || !KNOWN_SCHEMAS.includes(rec.schema)) {
    throw corrupt(key, `schema ${JSON.stringify(rec.schema)} is not one this version reads (${KNOWN_SCHEMAS.join(', ')})`, { schema: rec.schema });
  }
  return rec;
}

/** Decodes an IPAM record (kind from the key) or throws STORE_CORRUPT. */
export function decodeIpamRecord(key: string, value: string): IpamRecord {
  const kind = ipamKindOf(key);
  if (kind === null) throw corrupt(key, 'the key is not part of the IPAM layout');
  const rec = decodeJsonRecord(key, value);
  const problems: string[] = [];
  const str = (field: string) => {
    if (typeof rec[field] !== 'string' || rec[field] === '') problems.push(`"${field}" must be a non-empty string`);
  };
  const strMap = (field: string, keyCheck?: (k: string) => boolean) => {
    const v = rec[field];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push(`"${field}" must be an object`);
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== 'string') problems.push(`"${field}.${k}" must be a string`);
      if (keyCheck && !keyCheck(k)) problems.push(`"${field}" has an invalid key ${JSON.stringify(k)}`);
    }
  };
  const rest = key.slice(key.indexOf('/') + 1);
  switch (kind) {
    case 'topology': {
      const input = rec.input as Record<string, unknown> | undefined;
      if (typeof input !== 'object' || input === null) problems.push('"input" must be an object');
      else {
        if (!Array.isArray(input.networks)) problems.push('"input.networks" must be an array');
        if (!Array.isArray(input.topologies)) problems.push('"input.topologies" must be an array');
      }
      break;
    }
    case 'host':
      str('name');
      str('ip');
      strMap('labels');
      strMap('groups');
      if (rec.agentPort !== undefined && !(Number.isInteger(rec.agentPort) && (rec.agentPort as number) > 0 && (rec.agentPort as number) < 65536)) {
        problems.push('"agentPort" must be a port number');
      }
      if (typeof rec.name === 'string' && rec.name !== rest) problems.push(`"name" is ${JSON.stringify(rec.name)} but the key says ${JSON.stringify(rest)}`);
      break;
    case 'block':
      for (const f of ['network', 'cidr', 'group', 'host']) str(f);
      // tenant/segment may be "" (no tenant restriction), but must be present as strings.
      for (const f of ['tenant', 'segment']) if (typeof rec[f] !== 'string') problems.push(`"${f}" must be a string`);
      strMap('names', (k) => /^(0|[1-9][0-9]*)$/.test(k));
      if (typeof rec.network === 'string' && typeof rec.cidr === 'string' && `${rec.network}/${rec.cidr}` !== rest) {
        problems.push(`"network"/"cidr" are ${JSON.stringify(`${rec.network}/${rec.cidr}`)} but the key says ${JSON.stringify(rest)}`);
      }
      break;
    case 'address':
      for (const f of ['name', 'ip', 'network', 'block', 'host']) str(f);
      for (const f of ['tenant', 'segment']) if (typeof rec[f] !== 'string') problems.push(`"${f}" must be a string`);
      if (typeof rec.name === 'string' && rec.name !== rest) problems.push(`"name" is ${JSON.stringify(rec.name)} but the key says ${JSON.stringify(rest)}`);
      break;
    case 'reservation':
      str('network');
      str('cidr');
      if (typeof rec.network === 'string' && typeof rec.cidr === 'string' && `${rec.network}/${rec.cidr}` !== rest) {
        problems.push(`"network"/"cidr" are ${JSON.stringify(`${rec.network}/${rec.cidr}`)} but the key says ${JSON.stringify(rest)}`);
      }
      break;
  }
  if (problems.length > 0) throw corrupt(key, `${kind} record: ${problems.join('; ')}`, { problems });
  return rec as unknown as TopologyRecord | HostRecord | BlockRecord | AddressRecord | ReservationRecord;
}

/** The stored form of a record (stable field order is not required: readers decode JSON). */
export function encodeRecord(record: IpamRecord): string {
  return JSON.stringify(record);
}
