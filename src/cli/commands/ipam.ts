/**
 * Views of the IPAM beyond the seed: `network list`, `block list`,
 * `address list`, `ipam show`, `topology show`, `topology update`.
 */
import { Command } from 'commander';
import { filterFrom } from '../args.js';
import type { CommandContext } from '../context.js';
import { readJsonInput } from '../input.js';
import { addressListText, blockListText, ipamShowText, networkListText } from '../render/ipam.js';
import { buildTopologyTree, topologyTreeText, topologyUpdateText } from '../render/topology.js';
import { group, helpAfter } from './common.js';

const BLOCK_JSON =
  'Block is {"cidr", "network", "group", "group_name", "host", "tenant", "segment", "allocated_ip_count", "reserved", "size", "revision"}.';

export function registerIpamViews(program: Command, ctx: CommandContext): void {
  const network = group(program, 'network', 'List the networks pod addresses come from.');
  network
    .command('list')
    .description('List the networks of the topology with their usage.')
    .addHelpText(
      'after',
      helpAfter(
        ['romana network list', 'romana network list -f json'],
        'JSON (-f json): [{"id", "name", "cidr", "block_mask", "tenants": [...]|null, "revision", "blocks", "allocated"}...] in topology order ("id" is the name, as the original served it; tenants null = every tenant).',
      ),
    )
    .action(async (_opts: unknown, cmd: Command) => {
      await ctx.run(cmd, async (api) => {
        const list = await api.listNetworks();
        return { json: list, text: (w) => networkListText(list, w) };
      });
    });

  const block = group(program, 'block', 'List address blocks.');
  block
    .command('list')
    .summary('List allocated address blocks.')
    .description('List the allocated address blocks, optionally only those matching every filter given.')
    .option('--network <name>', 'only blocks of this network')
    .option('--host <name>', 'only blocks owned by this host')
    .option('--tenant <name>', 'only blocks of this tenant')
    .option('--segment <name>', 'only blocks of this segment')
    .addHelpText(
      'after',
      helpAfter(['romana block list', 'romana block list --host node1 --tenant default'], 'JSON (-f json): {"revision": N, "blocks": [Block...]} in network, then address order.', BLOCK_JSON),
    )
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const filter = filterFrom(opts, ['network', 'host', 'tenant', 'segment']);
      await ctx.run(cmd, async (api) => {
        const r = await api.listBlocks(filter);
        return { json: r, text: (w) => blockListText(r.blocks, w) };
      });
    });

  const address = group(program, 'address', 'List allocated pod addresses.');
  address
    .command('list')
    .summary('List allocated addresses.')
    .description('List allocated addresses, optionally only those matching every filter given.')
    .option('--host <name>', 'only addresses on this host')
    .option('--tenant <name>', 'only addresses of this tenant')
    .option('--segment <name>', 'only addresses of this segment')
    .option('--network <name>', 'only addresses of this network')
    .addHelpText(
      'after',
      helpAfter(
        ['romana address list', 'romana address list --host node1', 'romana address list --tenant kube-system -f json'],
        'JSON (-f json): {"revision": N, "addresses": [{"name", "ip", "network", "block", "host", "tenant", "segment"}...]} in network, then address order.',
      ),
    )
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const filter = filterFrom(opts, ['network', 'host', 'tenant', 'segment']);
      await ctx.run(cmd, async (api) => {
        const r = await api.listAddresses(filter);
        return { json: r, text: (w) => addressListText(r.addresses, w) };
      });
    });

  const ipam = group(program, 'ipam', 'Show address usage.');
  ipam
    .command('show')
    .summary('Show free and used addresses.')
    .description('Show free and used addresses per network, per prefix group (leaf) and per host.')
    .addHelpText(
      'after',
      helpAfter(
        ['romana ipam show', 'romana ipam show -f json'],
        'JSON (-f json): {"networks": [{"network", "cidr", "size", "reserved", "blocks", "block_addresses", "allocated", "utilisation"}...], "groups": [{"network", "group", "name", "cidr", "hosts", "slots", "blocks", "size", "allocated"}...], "hosts": [{"host", "blocks", "block_addresses", "allocated"}...]}.',
        'utilisation = allocated / (size - reserved); slots = blocks the group can hold; groups are the leaf groups, by path ("/0", "/1/3").',
      ),
    )
    .action(async (_opts: unknown, cmd: Command) => {
      await ctx.run(cmd, async (api) => {
        const u = await api.utilisation();
        return { json: u, text: (w) => ipamShowText(u, w) };
      });
    });

  const topology = group(program, 'topology', 'Show or update the network topology.');
  topology
    .command('show')
    .alias('list')
    .summary('Show the topology as a tree with usage.')
    .description('Show the topology as a tree: networks, their prefix groups and the hosts in them, with CIDRs and usage.')
    .addHelpText(
      'after',
      helpAfter(
        ['romana topology show', 'romana topology show -f json'],
        'JSON (-f json): {"networks": [{"name", "cidr", "block_mask", "tenants", "size", "reserved", "blocks", "allocated", "groups": [Group...]}...]}; Group is {"path", "name", "cidr", "padding", "assignment", "size", "host_count", "blocks", "allocated", "hosts": [{"name", "ip", "blocks", "allocated"}...], "groups": [Group...]}.',
        'The topology as the daemon stores it (to edit and post back with `topology update`): GET /topology on the daemon.',
      ),
    )
    .action(async (_opts: unknown, cmd: Command) => {
      await ctx.run(cmd, async (api) => {
        const [topo, util, hosts, blocks] = await Promise.all([api.getTopology(), api.utilisation(), api.listHosts(), api.listBlocks()]);
        const tree = buildTopologyTree(topo, util, hosts.hosts, blocks.blocks);
        return { json: tree, text: (w) => topologyTreeText(tree, w) };
      });
    });

  topology
    .command('update')
    .summary('Replace the topology (keeps allocations; --dry-run).')
    .description(
      'Replace the topology with the one in FILE (or standard input when no file, or "-", is given). ' +
        'Existing allocations are kept: a change that would orphan a block is refused, listing the blocks. ' +
        'With --dry-run the daemon only reports what would change.',
    )
    .argument('[file]', 'topology JSON (the documented format; # comments and trailing commas allowed)')
    .option('--dry-run', 'show what would change without changing anything')
    .addHelpText(
      'after',
      helpAfter(
        ['romana topology update topology.json --dry-run', 'romana topology update topology.json'],
        'JSON (-f json): {"dry_run", "changed", "diff": {"networksAdded", "networksRemoved", "networksChanged", "hostsCreated", "hostsPlaced", "hostsMoved", "hostsUnplaced", "reservationsRemoved", "warnings"}, "revision"}.',
      ),
    )
    .action(async (file: string | undefined, opts: { dryRun?: boolean }, cmd: Command) => {
      const doc = await readJsonInput(file, 'topology', ctx.io);
      await ctx.run(cmd, async (api) => {
        const r = await api.updateTopology(doc, { dryRun: opts.dryRun === true });
        return { json: r, text: () => topologyUpdateText(r) };
      });
    });
}
