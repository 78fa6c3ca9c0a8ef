/**
 * `romana host add|remove|list|show` (the seed's host sub-commands).
 */
import { Command } from 'commander';
import { RomanaError } from '../../core/errors.js';
import type { HostJson } from '../../shared/api_types.js';
import { hostAddRequest } from '../args.js';
import type { CommandContext } from '../context.js';
import { hostAddText, hostListText, hostRemoveText, hostShowText, type HostDetail } from '../render/hosts.js';
import { byKey } from '../render/common.js';
import { fetchEach, group, helpAfter } from './common.js';

const HOST_JSON =
  'Host is {"name", "ip", "agent_port", "tags": {...}, "groups": [{"network", "group", "group_name", "cidr"}], "blocks", "addresses"}.';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerHost(program: Command, ctx: CommandContext): void {
  const host = group(program, 'host', 'Add, Remove or Show hosts for romana services.');

  host
    .command('add')
    .summary('Add a new host to the romana cluster.')
    .description(
      'Register a host with the daemon, which places it in a prefix group of every network (the group with the fewest hosts among those whose assignment labels the host carries).\n' +
        'Hosts are normally registered by the listener from Kubernetes nodes or written in the topology; this command is for static hosts and debugging.',
    )
    .argument('<hostname>', 'host name (the Kubernetes node name)')
    .argument('<hostip>', 'IPv4 address other hosts route pod blocks to')
    .argument('[romana cidr]', 'accepted for compatibility with Romana v1 and ignored: the IPAM places hosts by the topology')
    .argument('[agent port]', 'port of the romana agent on the host (default 9604)')
    .option('-l, --label <key=value>', 'host label (tag) matched against groups\' "assignment"; repeatable', collect)
    .addHelpText(
      'after',
      helpAfter(
        ['romana host add node1 192.168.99.10 10.0.0.0/16 9604', 'romana host add node2 192.168.99.11', 'romana host add node3 192.168.99.12 -l rack=r1 -l zone=a'],
        'JSON (-f json): {"host": Host, "created": true|false}; adding an identical host again is a no-op (created false).',
        HOST_JSON,
      ),
    )
    .action(async (hostname: string, hostip: string, cidr: string | undefined, agentPort: string | undefined, opts: { label?: string[] }, cmd: Command) => {
      const req = hostAddRequest({ hostname, hostip, cidr, agentPort, labels: opts.label ?? [] });
      await ctx.run(cmd, async (api) => {
        const r = await api.addHost(req);
        return { json: r, text: () => hostAddText(r) };
      });
    });

  host
    .command('remove')
    .summary('Remove a host from the romana cluster.')
    .description('Remove a host, releasing its blocks and the addresses in them.')
    .argument('<hostname|hostip>', 'the host\'s name, or its IP address')
    .addHelpText(
      'after',
      helpAfter(
        ['romana host remove node1', 'romana host remove 192.168.99.10'],
        'JSON (-f json): {"host": Host, "released": [Address...]}; Address is {"name", "ip", "network", "block", "host", "tenant", "segment"}.',
      ),
    )
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      await ctx.run(cmd, async (api) => {
        const name = await hostNameFor(ref, () => api.listHosts().then((r) => r.hosts));
        const r = await api.removeHost(name);
        return { json: r, text: () => hostRemoveText(r) };
      });
    });

  host
    .command('list')
    .summary('List hosts in the romana cluster.')
    .description('List the registered hosts with their placement and usage.')
    .addHelpText(
      'after',
      helpAfter(['romana host list', 'romana host list -f json'], 'JSON (-f json): {"hosts": [Host...], "revision": N}, sorted by name.', HOST_JSON),
    )
    .action(async (_opts: unknown, cmd: Command) => {
      await ctx.run(cmd, async (api) => {
        const r = await api.listHosts();
        r.hosts.sort(byKey((h) => h.name));
        return { json: r, text: (w) => hostListText(r.hosts, w) };
      });
    });

  host
    .command('show')
    .summary('Show details about specific hosts.')
    .description('Show hosts in detail, with the blocks each one holds.')
    .argument('<hostname...>', 'one or more host names')
    .addHelpText(
      'after',
      helpAfter(
        ['romana host show node1', 'romana host show node1 node2 -f json'],
        'JSON (-f json): {"hosts": [{"host": Host, "blocks": [Block...]}...]} in argument order.',
        HOST_JSON,
        'Unknown hosts are reported on stderr (exit 1); the others are still shown.',
      ),
    )
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      await ctx.run(cmd, async (api) => {
        const { found, errors } = await fetchEach(names, async (n): Promise<HostDetail> => {
          const h = await api.getHost(n);
          const b = await api.listBlocks({ host: h.name });
          return { host: h, blocks: b.blocks };
        });
        return { json: { hosts: found }, text: (w) => hostShowText(found, w), errors, nothing: found.length === 0 };
      });
    });
}

/**
 * The seed lets `host remove` take a name or an IP; the daemon deletes by
 * name. A name match wins (a host may be named like an address).
 */
export async function hostNameFor(ref: string, list: () => Promise<HostJson[]>): Promise<string> {
  const hosts = await list();
  const byName = hosts.find((h) => h.name === ref);
  if (byName) return byName.name;
  const byIp = hosts.filter((h) => h.ip === ref);
  if (byIp.length === 1) return byIp[0]!.name;
  if (byIp.length > 1) {
    throw new RomanaError('INVALID_ARGUMENT', `Several hosts have the IP ${JSON.stringify(ref)} (${byIp.map((h) => JSON.stringify(h.name)).join(', ')}): remove one by name`, {
      resourceType: 'host',
      resourceId: ref,
    });
  }
  throw new RomanaError('HOST_NOT_FOUND', `Host ${JSON.stringify(ref)} is not registered (no host has that name or IP)`, { resourceType: 'host', resourceId: ref });
}
