/**
 * Text for the `host` commands. Input: the daemon's JSON (api_types.ts).
 * Pure; golden files in test/cli/golden pin the layout.
 */
import type { AddressJson, BlockJson, HostJson } from '../../shared/api_types.js';
import { renderFields, renderTable } from '../table.js';
import { dash, labelsText, plural, q } from './common.js';

/** "host-group-01 10.112.0.0/15"; with several networks each is prefixed "net: " and separated by `sep`. */
export function placementText(h: HostJson, sep = '; '): string {
  if (h.groups.length === 0) return '-';
  const many = h.groups.length > 1;
  return h.groups.map((g) => `${many ? `${g.network}: ` : ''}${g.group_name || g.group} ${g.cidr}`.trim()).join(sep);
}

export function hostListText(hosts: readonly HostJson[], width: number): string {
  if (hosts.length === 0) return 'Host List\nNo hosts are registered.\n';
  // One line per network keeps each placement whole.
  const rows = hosts.map((h) => [h.name, h.ip, String(h.agent_port), placementText(h, '\n'), String(h.blocks), String(h.addresses)]);
  return (
    'Host List\n' +
    renderTable(
      [
        { header: 'Host Name', flex: true, min: 16 },
        { header: 'Host IP' },
        { header: 'Agent Port', align: 'right' },
        { header: 'Group', flex: true, min: 14 },
        { header: 'Blocks', align: 'right' },
        { header: 'Addresses', align: 'right' },
      ],
      rows,
      width,
    )
  );
}

export interface HostDetail {
  host: HostJson;
  blocks: BlockJson[];
}

export function hostShowText(details: readonly HostDetail[], width: number): string {
  return details.map((d) => oneHost(d, width)).join('\n');
}

function oneHost({ host: h, blocks }: HostDetail, width: number): string {
  const placement = h.groups.map((g) => `${g.network}: ${g.group_name ? `${g.group_name} ` : ''}(${g.group}) ${g.cidr}`);
  let text =
    `Host ${h.name}\n` +
    renderFields(
      [
        ['IP', h.ip],
        ['Agent port', String(h.agent_port)],
        ['Tags', labelsText(h.tags)],
        ['Placement', placement.length === 0 ? '- (in no group)' : placement.join('\n')],
        ['Blocks', String(h.blocks)],
        ['Addresses', String(h.addresses)],
      ],
      width,
    );
  if (blocks.length > 0) {
    const rows = blocks.map((b) => [b.cidr, b.network, dash(b.tenant), dash(b.segment), `${b.allocated_ip_count}/${b.size}`]);
    text += '\n' + renderTable(
      [{ header: 'Block CIDR' }, { header: 'Network', flex: true }, { header: 'Tenant', flex: true }, { header: 'Segment', flex: true }, { header: 'Used', align: 'right' }],
      rows,
      width,
    );
  }
  return text;
}

export function hostAddText(r: { host: HostJson; created: boolean }): string {
  const h = r.host;
  if (!r.created) return `Host ${q(h.name)} (${h.ip}) already exists with the same attributes; nothing changed.\n`;
  return `Host ${q(h.name)} (${h.ip}) added: ${h.groups.length === 0 ? 'placed in no group yet' : placementText(h)}.\n`;
}

export function hostRemoveText(r: { host: HostJson; released: AddressJson[] }): string {
  return `Host ${q(r.host.name)} (${r.host.ip}) removed; ${plural(r.released.length, 'address', 'addresses')} released.\n`;
}
