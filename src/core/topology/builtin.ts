/**
 * Built-in topologies: the initial topology the daemon uses when the
 * operator gives none (reference §1.9): `kubeadm`, and `aws-<region>` for
 * each region the original shipped. Each call returns a fresh, mutable
 * TopologyInput so callers can apply `--network-cidr-overrides` to it.
 */
import { RomanaError } from '../errors.js';
import {
  AWS_CIDR,
  AWS_REGIONS,
  AWS_REGION_LABEL,
  AWS_ZONE_LABEL,
  BUILTIN_NETWORK_NAME,
  KUBEADM,
} from './builtin_data.js';
import type { GroupInput, TopologyInput } from './types.js';

const two = (i: number): string => String(i).padStart(2, '0');

function single(cidr: string, map: GroupInput[]): TopologyInput {
  return {
    networks: [{ name: BUILTIN_NETWORK_NAME, cidr }],
    topologies: [{ networks: [BUILTIN_NETWORK_NAME], map }],
  };
}

function kubeadm(): TopologyInput {
  const map: GroupInput[] = [];
  for (let i = 1; i <= KUBEADM.groups; i++) map.push({ name: `${KUBEADM.groupPrefix}${two(i)}`, groups: [] });
  return single(KUBEADM.cidr, map);
}

function aws(region: string, spec: { zones: string; groupsPerZone: number }): TopologyInput {
  const map: GroupInput[] = [...spec.zones].map((letter) => {
    const zone = `${region}${letter}`;
    const groups: GroupInput[] = [];
    for (let i = 1; i <= spec.groupsPerZone; i++) {
      groups.push({ name: `${zone}-group-${two(i)}`, groups: [], assignment: { [AWS_REGION_LABEL]: region, [AWS_ZONE_LABEL]: zone } });
    }
    return { name: `failure-domain: ${zone}`, groups };
  });
  return single(AWS_CIDR, map);
}

/** 'kubeadm' and 'aws-<region>' for every shipped region, sorted. */
export function builtinTopologyNames(): string[] {
  return ['kubeadm', ...Object.keys(AWS_REGIONS).map((r) => `aws-${r}`)].sort();
}

/** A fresh copy of the named built-in; NOT_FOUND (listing the known names) otherwise. */
export function builtinTopology(name: string): TopologyInput {
  if (name === 'kubeadm') return kubeadm();
  if (name.startsWith('aws-')) {
    const region = name.slice(4);
    const spec = Object.hasOwn(AWS_REGIONS, region) ? AWS_REGIONS[region] : undefined;
    if (spec) return aws(region, spec);
  }
  throw new RomanaError('NOT_FOUND', `No built-in topology named ${JSON.stringify(name)} (known: ${builtinTopologyNames().join(', ')})`, {
    resourceType: 'topology',
    resourceId: name,
  });
}
