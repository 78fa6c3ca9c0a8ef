/**
 * `romana tenant create|delete|list|show` and `romana segment add|remove|list`
 * (the seed's tenant and segment sub-commands).
 *
 * Tenants are Kubernetes namespaces and segments the values of the pod
 * label romana.io/segment; the listener creates them as pods appear, so
 * these commands matter on platforms without such a source.
 */
import { Command } from 'commander';
import type { SegmentJson } from '../../shared/api_types.js';
import type { CommandContext } from '../context.js';
import { byKey } from '../render/common.js';
import {
  segmentAddText,
  segmentListText,
  segmentRemoveText,
  tenantCreateText,
  tenantDeleteText,
  tenantListText,
  tenantShowText,
  type TenantDetail,
} from '../render/tenants.js';
import { fetchEach, group, helpAfter } from './common.js';

const TENANT_JSON = 'Tenant is {"name", "segments": [names...], "addresses": N} (addresses the IPAM holds for it).';
const SEGMENT_JSON = 'Segment is {"tenant", "name", "addresses": N}.';

export function registerTenant(program: Command, ctx: CommandContext): void {
  const tenant = group(program, 'tenant', 'Create, Delete, Show or List Tenant Details.');

  tenant
    .command('create')
    .summary('Create a new tenant.')
    .description('Create a tenant. On Kubernetes tenants (namespaces) are created automatically; this is for other platforms.')
    .argument('<tenantname>', 'tenant name')
    .addHelpText('after', helpAfter(['romana tenant create tenant-a'], 'JSON (-f json): {"tenant": Tenant, "created": true|false}; creating an existing tenant is a no-op.', TENANT_JSON))
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await ctx.run(cmd, async (api) => {
        const r = await api.createTenant(name);
        return { json: r, text: () => tenantCreateText(r) };
      });
    });

  tenant
    .command('delete')
    .summary('Delete a tenant.')
    .description('Delete a tenant and its segments. Refused while the IPAM holds addresses of the tenant.')
    .argument('<tenantname>', 'tenant name')
    .addHelpText('after', helpAfter(['romana tenant delete tenant-a'], 'JSON (-f json): the deleted Tenant.', TENANT_JSON))
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await ctx.run(cmd, async (api) => {
        const t = await api.deleteTenant(name);
        return { json: t, text: () => tenantDeleteText(t) };
      });
    });

  tenant
    .command('list')
    .description('List tenants with their segments.')
    .addHelpText('after', helpAfter(['romana tenant list', 'romana tenant list -f json'], 'JSON (-f json): {"tenants": [Tenant...], "revision": N}, sorted by name.', TENANT_JSON))
    .action(async (_opts: unknown, cmd: Command) => {
      await ctx.run(cmd, async (api) => {
        const r = await api.listTenants();
        r.tenants.sort(byKey((t) => t.name));
        return { json: r, text: (w) => tenantListText(r.tenants, w) };
      });
    });

  tenant
    .command('show')
    .description('Show tenants in detail, with the addresses held per segment.')
    .argument('<tenantname...>', 'one or more tenant names')
    .addHelpText(
      'after',
      helpAfter(
        ['romana tenant show tenant-a', 'romana tenant show tenant-a tenant-b -f json'],
        'JSON (-f json): {"tenants": [{"tenant": Tenant, "segments": [Segment...]}...]} in argument order.',
        TENANT_JSON,
        SEGMENT_JSON,
        'Unknown tenants are reported on stderr (exit 1); the others are still shown.',
      ),
    )
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      await ctx.run(cmd, async (api) => {
        const { found, errors } = await fetchEach(names, async (n): Promise<TenantDetail> => {
          const t = await api.getTenant(n);
          const s = await api.listSegments(t.name);
          return { tenant: t, segments: s.segments.sort(byKey((x) => x.name)) };
        });
        return { json: { tenants: found }, text: (w) => tenantShowText(found, w), errors, nothing: found.length === 0 };
      });
    });

  const segment = group(program, 'segment', 'Add or Remove a segment.');

  segment
    .command('add')
    .summary('Add a new segment to a tenant.')
    .description('Add a segment to an existing tenant. On Kubernetes segments come from the pod label romana.io/segment; this is for other platforms.')
    .argument('<tenantName>', 'the tenant the segment belongs to')
    .argument('<segmentName>', 'segment name')
    .addHelpText('after', helpAfter(['romana segment add tenant-a backend'], 'JSON (-f json): {"segment": Segment, "created": true|false}; adding an existing segment is a no-op.', SEGMENT_JSON))
    .action(async (tenantName: string, segmentName: string, _opts: unknown, cmd: Command) => {
      await ctx.run(cmd, async (api) => {
        const r = await api.addSegment(tenantName, segmentName);
        return { json: r, text: () => segmentAddText(r) };
      });
    });

  segment
    .command('remove')
    .summary('Remove a segment from a tenant.')
    .description('Remove a segment from a tenant. Refused while the IPAM holds addresses of the segment.')
    .argument('<tenantName>', 'the tenant the segment belongs to')
    .argument('<segmentName>', 'segment name')
    .addHelpText('after', helpAfter(['romana segment remove tenant-a backend'], 'JSON (-f json): the removed Segment.', SEGMENT_JSON))
    .action(async (tenantName: string, segmentName: string, _opts: unknown, cmd: Command) => {
      await ctx.run(cmd, async (api) => {
        const s = await api.removeSegment(tenantName, segmentName);
        return { json: s, text: () => segmentRemoveText(s) };
      });
    });

  segment
    .command('list')
    .summary('List the segments of tenants.')
    .description('List the segments of the given tenants, or of every tenant when none is given.')
    .argument('[tenantName...]', 'tenant names (default: all tenants)')
    .addHelpText(
      'after',
      helpAfter(
        ['romana segment list', 'romana segment list tenant-a tenant-b'],
        'JSON (-f json): {"segments": [Segment...]} sorted by tenant, then name.',
        SEGMENT_JSON,
        'Unknown tenants are reported on stderr (exit 1); the others are still listed.',
      ),
    )
    .action(async (tenants: string[], _opts: unknown, cmd: Command) => {
      await ctx.run(cmd, async (api) => {
        const names = tenants.length > 0 ? tenants : (await api.listTenants()).tenants.map((t) => t.name);
        const { found, errors } = await fetchEach(names, async (t) => (await api.listSegments(t)).segments);
        const segments: SegmentJson[] = found.flat().sort((a, b) => byKey<SegmentJson>((s) => s.tenant)(a, b) || byKey<SegmentJson>((s) => s.name)(a, b));
        return { json: { segments }, text: (w) => segmentListText(segments, w), errors, nothing: found.length === 0 && errors.length > 0 };
      });
    });
}
