/**
 * Text for the `tenant` and `segment` commands. Pure.
 */
import type { SegmentJson, TenantJson } from '../../shared/api_types.js';
import { renderFields, renderTable } from '../table.js';
import { q } from './common.js';

export function tenantListText(tenants: readonly TenantJson[], width: number): string {
  if (tenants.length === 0) return 'Tenant List\nNo tenants exist.\n';
  return (
    'Tenant List\n' +
    renderTable(
      [{ header: 'Tenant Name', flex: true, min: 16 }, { header: 'Segments', flex: true }, { header: 'Addresses', align: 'right' }],
      tenants.map((t) => [t.name, t.segments.length === 0 ? '-' : t.segments.join(', '), String(t.addresses)]),
      width,
    )
  );
}

export interface TenantDetail {
  tenant: TenantJson;
  segments: SegmentJson[];
}

export function tenantShowText(details: readonly TenantDetail[], width: number): string {
  return details
    .map(({ tenant: t, segments }) => {
      let text = `Tenant ${t.name}\n` + renderFields([['Segments', String(t.segments.length)], ['Addresses', String(t.addresses)]], width);
      if (segments.length > 0) {
        text += '\n' + renderTable([{ header: 'Segment Name', flex: true, min: 16 }, { header: 'Addresses', align: 'right' }], segments.map((s) => [s.name, String(s.addresses)]), width);
      }
      return text;
    })
    .join('\n');
}

export function segmentListText(segments: readonly SegmentJson[], width: number): string {
  if (segments.length === 0) return 'Segment List\nNo segments exist.\n';
  return (
    'Segment List\n' +
    renderTable(
      [{ header: 'Tenant Name', flex: true, min: 16 }, { header: 'Segment Name', flex: true, min: 16 }, { header: 'Addresses', align: 'right' }],
      segments.map((s) => [s.tenant, s.name, String(s.addresses)]),
      width,
    )
  );
}

export function tenantCreateText(r: { tenant: TenantJson; created: boolean }): string {
  return r.created ? `Tenant ${q(r.tenant.name)} created.\n` : `Tenant ${q(r.tenant.name)} already exists; nothing changed.\n`;
}

export function tenantDeleteText(t: TenantJson): string {
  const segs = t.segments.length === 0 ? '' : ` with its ${t.segments.length === 1 ? 'segment' : `${t.segments.length} segments`} (${t.segments.join(', ')})`;
  return `Tenant ${q(t.name)} deleted${segs}.\n`;
}

export function segmentAddText(r: { segment: SegmentJson; created: boolean }): string {
  const s = r.segment;
  return r.created ? `Segment ${q(s.name)} added to tenant ${q(s.tenant)}.\n` : `Segment ${q(s.name)} of tenant ${q(s.tenant)} already exists; nothing changed.\n`;
}

export function segmentRemoveText(s: SegmentJson): string {
  return `Segment ${q(s.name)} removed from tenant ${q(s.tenant)}.\n`;
}
