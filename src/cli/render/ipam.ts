/**
 * Text for `network list`, `block list`, `address list` and `ipam show`.
 * Input: the daemon's JSON (api_types.ts). Pure.
 */
import type { AddressJson, BlockJson, NetworkJson, UtilisationJson } from '../../shared/api_types.js';
import { renderTable } from '../table.js';
import { dash, percent } from './common.js';

export function tenantsText(tenants: readonly string[] | null): string {
  return tenants === null || tenants.length === 0 ? '* (all)' : tenants.join(', ');
}

export function networkListText(networks: readonly NetworkJson[], width: number): string {
  if (networks.length === 0) return 'Network List\nNo networks are defined (no topology installed).\n';
  return (
    'Network List\n' +
    renderTable(
      [
        { header: 'Network Name', flex: true, min: 16 },
        { header: 'Network CIDR' },
        { header: 'Block Mask', align: 'right' },
        { header: 'Tenants', flex: true, min: 10 },
        { header: 'Blocks', align: 'right' },
        { header: 'Allocated', align: 'right' },
        { header: 'Revision', align: 'right' },
      ],
      networks.map((n) => [n.name, n.cidr, `/${n.block_mask}`, tenantsText(n.tenants), String(n.blocks), String(n.allocated), String(n.revision)]),
      width,
    )
  );
}

export function blockListText(blocks: readonly BlockJson[], width: number): string {
  if (blocks.length === 0) return 'Block List\nNo blocks are allocated.\n';
  return (
    'Block List\n' +
    renderTable(
      [
        { header: 'Block CIDR' },
        { header: 'Network', flex: true, min: 10 },
        { header: 'Block Host', flex: true, min: 12 },
        { header: 'Block Tenant', flex: true, min: 10 },
        { header: 'Block Segment', flex: true, min: 10 },
        { header: 'Used', align: 'right' },
        { header: 'Revision', align: 'right' },
      ],
      blocks.map((b) => [b.cidr, b.network, b.host, dash(b.tenant), dash(b.segment), `${b.allocated_ip_count}/${b.size}`, String(b.revision)]),
      width,
    )
  );
}

export function addressListText(addresses: readonly AddressJson[], width: number): string {
  if (addresses.length === 0) return 'Address List\nNo addresses are allocated.\n';
  return (
    'Address List\n' +
    renderTable(
      [
        { header: 'Address Name', flex: true, min: 16 },
        { header: 'IP' },
        { header: 'Host', flex: true, min: 10 },
        { header: 'Tenant', flex: true, min: 8 },
        { header: 'Segment', flex: true, min: 8 },
      ],
      // The block is left to JSON and `block list`: pod address names are long and need the room.
      addresses.map((a) => [a.name, a.ip, a.host, dash(a.tenant), dash(a.segment)]),
      width,
    )
  );
}

/**
 * Three tables: per network, per leaf group, per host. Free = what is
 * neither allocated nor reserved; a group's Blocks is "used/slots". Block
 * counts per network are in `network list`.
 */
export function ipamShowText(u: UtilisationJson, width: number): string {
  const parts: string[] = [];
  parts.push(
    'Networks\n' +
      (u.networks.length === 0
        ? 'No networks are defined (no topology installed).\n'
        : renderTable(
            [
              { header: 'Network', flex: true, min: 12 },
              { header: 'CIDR' },
              { header: 'Size', align: 'right' },
              { header: 'Reserved', align: 'right' },
              { header: 'Allocated', align: 'right' },
              { header: 'Free', align: 'right' },
              { header: 'Used', align: 'right' },
            ],
            u.networks.map((n) => [
              n.network,
              n.cidr,
              String(n.size),
              String(n.reserved),
              String(n.allocated),
              String(n.size - n.reserved - n.allocated),
              percent(n.allocated, n.size - n.reserved),
            ]),
            width,
          )),
  );
  if (u.groups.length > 0) {
    parts.push(
      'Groups\n' +
        renderTable(
          [
            { header: 'Network', flex: true, min: 10 },
            { header: 'Group', flex: true, min: 10 },
            { header: 'CIDR' },
            { header: 'Hosts', align: 'right' },
            { header: 'Blocks', align: 'right' },
            { header: 'Allocated', align: 'right' },
            { header: 'Free', align: 'right' },
          ],
          u.groups.map((g) => [
            g.network,
            // The path ("/0") only when there is no name: it is what the daemon calls the group.
            g.name === '' ? g.group : g.name,
            g.cidr,
            String(g.hosts),
            `${g.blocks}/${g.slots}`,
            String(g.allocated),
            String(g.size - g.allocated),
          ]),
          width,
        ),
    );
  }
  if (u.hosts.length > 0) {
    parts.push(
      'Hosts\n' +
        renderTable(
          [
            { header: 'Host', flex: true, min: 12 },
            { header: 'Blocks', align: 'right' },
            { header: 'Block Addresses', align: 'right' },
            { header: 'Allocated', align: 'right' },
            { header: 'Free in Blocks', align: 'right' },
          ],
          u.hosts.map((h) => [h.host, String(h.blocks), String(h.block_addresses), String(h.allocated), String(h.block_addresses - h.allocated)]),
          width,
        ),
    );
  }
  return parts.join('\n');
}
