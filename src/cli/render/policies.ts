/**
 * Text for the `policy` commands. Input: canonical policies (what the daemon
 * stores, src/core/policy/types.ts). Pure.
 */
import { describeEndpoint, describeRule, policyEntries, type RomanaPolicy } from '../../core/policy/index.js';
import type { PolicyAddJson } from '../../shared/api_types.js';
import { renderFields, renderTable } from '../table.js';
import { q } from './common.js';

/**
 * Name over id in one cell: the two are the handles `policy remove` takes,
 * and stacking them leaves the width to the rules. v2 policies have no
 * name (it defaults to the id), so the id is not repeated then.
 */
function handleCell(p: RomanaPolicy): string {
  return p.id === p.name ? p.name : `${p.name}\n${p.id}`;
}

function appliedText(p: RomanaPolicy): string {
  return p.applied_to.map(describeEndpoint).join(', ');
}

/** One line per entry: "ingress from any: tcp 22,80,443; icmp" (the direction word saves a column). */
function entriesText(p: RomanaPolicy): string {
  const word = p.direction === 'ingress' ? 'ingress from' : 'egress to';
  return policyEntries(p)
    .map((e) => `${word} ${e.peers.map(describeEndpoint).join(', ')}: ${e.rules.map(describeRule).join('; ')}`)
    .join('\n');
}

export function policyListText(policies: readonly RomanaPolicy[], width: number): string {
  if (policies.length === 0) return 'Policy List\nNo policies exist.\n';
  return (
    'Policy List\n' +
    renderTable(
      [
        { header: 'Policy Name / Id', flex: true, min: 16, last: true },
        { header: 'Applied To', flex: true, min: 14 },
        { header: 'Traffic Allowed', flex: true, min: 20 },
      ],
      policies.map((p) => [handleCell(p), appliedText(p), entriesText(p)]),
      width,
    )
  );
}

export function policyShowText(policies: readonly RomanaPolicy[], width: number): string {
  return policies
    .map((p) => {
      const entries = policyEntries(p);
      const fields: Array<[string, string]> = [['Id', p.id]];
      if (p.description !== undefined) fields.push(['Description', p.description]);
      fields.push(['Direction', p.direction], ['Applied to', appliedText(p)]);
      entries.forEach((e, i) => {
        const n = entries.length === 1 ? '' : ` (${i + 1})`;
        fields.push([`Peers${n}`, e.peers.map(describeEndpoint).join(', ')]);
        fields.push([`Rules${n}`, e.rules.map(describeRule).join('; ')]);
      });
      return `Policy ${p.name}\n` + renderFields(fields, width);
    })
    .join('\n');
}

export function policyAddText(r: PolicyAddJson, width: number): string {
  return (
    'New Policies Processed:\n' +
    renderTable(
      [
        { header: 'Policy Name / Id', flex: true, min: 16 },
        { header: 'Direction' },
        { header: 'Outcome' },
      ],
      r.results.map((x) => [handleCell(x.policy), x.policy.direction, x.outcome]),
      width,
    )
  );
}

export function policyRemoveText(p: RomanaPolicy): string {
  return p.id === p.name ? `Policy ${q(p.id)} deleted.\n` : `Policy ${q(p.name)} (id ${p.id}) deleted.\n`;
}
