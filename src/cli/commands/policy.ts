/**
 * `romana policy add|remove|list|show` (the seed's policy sub-commands, plus
 * `show` from the original v2 CLI).
 *
 * JSON output of list/show is the documented `{"securitypolicies": [...]}`
 * shape with ids, which `policy add` accepts back unchanged (re-adding the
 * same policy is a no-op).
 */
import { Command } from 'commander';
import { RomanaError } from '../../core/errors.js';
import { policiesToDocument, type RomanaPolicy } from '../../core/policy/index.js';
import { policyRemoveRef } from '../args.js';
import type { CommandContext } from '../context.js';
import { byKey } from '../render/common.js';
import { policyAddText, policyListText, policyRemoveText, policyShowText } from '../render/policies.js';
import { readJsonInput } from '../input.js';
import { fetchEach, group, helpAfter } from './common.js';

const byNameThenId = (a: RomanaPolicy, b: RomanaPolicy): number => byKey<RomanaPolicy>((p) => p.name)(a, b) || byKey<RomanaPolicy>((p) => p.id)(a, b);

export function registerPolicy(program: Command, ctx: CommandContext): void {
  const policy = group(program, 'policy', 'Add, Remove or List a policy.');

  policy
    .command('add')
    .summary('Add policies from a file or standard input.')
    .description(
      'Add policies from a file, or from standard input when no file (or "-") is given.\n' +
        'Accepted: the documented {"securitypolicies": [...]} document, the original v2 policy objects (with "id" and "ingress"), a single policy or a list. ' +
        'The daemon validates every policy and lists every problem; nothing is stored unless all are valid. ' +
        'Adding a policy identical to a stored one is a no-op; a different policy under a taken name or id is refused.',
    )
    .argument('[policyFile]', 'JSON file with the policies ("-" or nothing: standard input); # comments are allowed')
    .addHelpText(
      'after',
      helpAfter(['romana policy add policy.json', 'cat policy.json | romana policy add'], 'JSON (-f json): {"results": [{"outcome": "created"|"unchanged", "policy": Policy}...]}.') +
        '\nA policy file (from the Romana documentation):\n' +
        '  {"securitypolicies": [{"name": "policy1", "direction": "ingress",\n' +
        '    "applied_to": [{"tenant": "admin", "segment": "default"}],\n' +
        '    "peers": [{"peer": "any"}],\n' +
        '    "rules": [{"protocol": "tcp", "ports": [22, 80, 443]},\n' +
        '              {"protocol": "icmp"}]}]}\n',
    )
    .action(async (file: string | undefined, _opts: unknown, cmd: Command) => {
      const doc = await readJsonInput(file, 'policy', ctx.io);
      await ctx.run(cmd, async (api) => {
        const r = await api.addPolicies(doc);
        return { json: r, text: (w) => policyAddText(r, w) };
      });
    });

  policy
    .command('remove')
    .description('Remove a policy, given by its name or with -i by its id.')
    .argument('[policyName]', 'the policy\'s name (an id is accepted here too)')
    .option('-i, --policyid <id>', 'Policy ID (a string: generated ids are UUIDs; the seed\'s "uint" predates them)')
    .addHelpText('after', helpAfter(['romana policy remove policy1', 'romana policy remove -i 8e66083f-20e3-4228-af69-96b7c8269bbb'], 'JSON (-f json): the removed Policy.'))
    .action(async (name: string | undefined, opts: { policyid?: string }, cmd: Command) => {
      const target = policyRemoveRef(name, opts.policyid);
      await ctx.run(cmd, async (api) => {
        let ref = target.ref;
        if (target.by === 'id') {
          // Ids and names share one namespace on the daemon; -i promises an id, so check that it is one.
          const p = await api.getPolicy(ref);
          if (p.id !== ref) {
            throw new RomanaError('NOT_FOUND', `No policy has the id ${JSON.stringify(ref)} (policy ${JSON.stringify(p.id)} is named so: remove it by name)`, {
              resourceType: 'policy',
              resourceId: ref,
            });
          }
          ref = p.id;
        }
        const removed = await api.removePolicy(ref);
        return { json: removed, text: () => policyRemoveText(removed) };
      });
    });

  policy
    .command('list')
    .description('List all policies.')
    .addHelpText(
      'after',
      helpAfter(
        ['romana policy list', 'romana policy list -f json > policies.json'],
        'JSON (-f json): {"securitypolicies": [Policy...]} sorted by name, each with its "id": the documented format, which `romana policy add` takes back.',
      ),
    )
    .action(async (_opts: unknown, cmd: Command) => {
      await ctx.run(cmd, async (api) => {
        const list = (await api.listPolicies()).sort(byNameThenId);
        return { json: policiesToDocument(list), text: (w) => policyListText(list, w) };
      });
    });

  policy
    .command('show')
    .description('Show policies in detail.')
    .argument('<policy...>', 'policy names or ids')
    .addHelpText(
      'after',
      helpAfter(
        ['romana policy show policy1', 'romana policy show policy1 -f json'],
        'JSON (-f json): {"securitypolicies": [Policy...]} in argument order (the documented format).',
        'Unknown policies are reported on stderr (exit 1); the others are still shown.',
      ),
    )
    .action(async (refs: string[], _opts: unknown, cmd: Command) => {
      await ctx.run(cmd, async (api) => {
        const { found, errors } = await fetchEach(refs, (r) => api.getPolicy(r));
        return { json: policiesToDocument(found), text: (w) => policyShowText(found, w), errors, nothing: found.length === 0 };
      });
    });
}
