/**
 * Where romana-vpcrouter's route spec comes from: the daemon (GET /topology
 * for the managed network CIDRs, GET /hosts whose placements give the
 * groups), or a topology file (or built-in name) plus a hosts file.
 *
 * Design: both return the same SpecSnapshot; file sources are read on every
 * call so an edited file is picked up by the next reconcile.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseHostsList, specFromPlacedHosts, specFromTopology } from '../core/aws/route_spec.js';
import { builtinTopology, builtinTopologyNames, loadTopology } from '../core/topology/index.js';
import type { TopologyInput } from '../core/topology/types.js';
import { RomanaError } from '../core/errors.js';
import type { RomanaClient } from '../shared/api_client.js';
import type { SpecSnapshot } from './vpcrouter.js';

function managedOf(t: TopologyInput): string[] {
  return (t.networks ?? []).map((n) => n.cidr);
}

async function topologyFrom(fileOrName: string): Promise<TopologyInput> {
  if (!existsSync(fileOrName) && builtinTopologyNames().includes(fileOrName)) return builtinTopology(fileOrName);
  return loadTopology(await readFile(fileOrName, 'utf8')).input;
}

export async function specFromFiles(topologyFile: string, hostsFile: string): Promise<SpecSnapshot> {
  const topology = await topologyFrom(topologyFile);
  let hostsValue: unknown;
  const text = await readFile(hostsFile, 'utf8');
  try {
    hostsValue = JSON.parse(text);
  } catch (e) {
    throw new RomanaError('INVALID_JSON', `Invalid hosts file ${JSON.stringify(hostsFile)}: ${(e as Error).message}`);
  }
  return { spec: specFromTopology(topology, parseHostsList(hostsValue)), managed: managedOf(topology) };
}

export async function specFromDaemon(client: RomanaClient): Promise<SpecSnapshot> {
  const [topology, hosts] = await Promise.all([client.getTopology(), client.listHosts()]);
  return { spec: specFromPlacedHosts(hosts.hosts), managed: managedOf(topology) };
}
