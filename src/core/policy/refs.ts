/**
 * Finding stored policies by reference, and deciding what a POST of parsed
 * policies does against the stored set.
 *
 * Goal: POST /policies is idempotent and never silently overwrites (the
 * original upserted by id, reference §2 and §12 item 5): the same content
 * posted again is a no-op, different content under a name or id that is
 * already in use is a conflict naming the stored policy.
 *
 * Design: ids and names share one namespace for references (`romana policy
 * remove <ref>` takes either), so a new policy may not take a name or id that
 * is another stored policy's name or id. Pure: the daemon runs the plan
 * against a snapshot and writes with compare-and-swap.
 */
import { RomanaError } from '../errors.js';
import { policyEquals } from './normalize.js';
import type { RomanaPolicy } from './types.js';

/**
 * The policy `ref` names: the one whose id is `ref`, else the one whose name
 * is `ref`. Ids win because they are unique, so an id always reaches its
 * policy. Throws NOT_FOUND when nothing matches, INVALID_ARGUMENT listing
 * the ids when the name matches several policies.
 */
export function resolvePolicyRef(policies: readonly RomanaPolicy[], ref: string): RomanaPolicy {
  const byId = policies.find((p) => p.id === ref);
  if (byId) return byId;
  const byName = policies.filter((p) => p.name === ref);
  if (byName.length === 1) return byName[0]!;
  if (byName.length === 0) {
    throw new RomanaError('NOT_FOUND', `No policy has the id or name ${JSON.stringify(ref)}`, { resourceType: 'policy', resourceId: ref });
  }
  const ids = byName.map((p) => p.id);
  throw new RomanaError(
    'INVALID_ARGUMENT',
    `Policy name ${JSON.stringify(ref)} is ambiguous: it matches ids ${ids.map((i) => JSON.stringify(i)).join(', ')}; use an id`,
    { resourceType: 'policy', resourceId: ref, details: { ids } },
  );
}

export type PolicyAddOutcome =
  /** Nothing stored answers to this policy's id or name: store it. */
  | { readonly kind: 'create'; readonly policy: RomanaPolicy }
  /** The stored policy `existing` has the same content: nothing to do. */
  | { readonly kind: 'unchanged'; readonly policy: RomanaPolicy; readonly existing: RomanaPolicy }
  /** A stored policy holds the id or name with other content: reject with `error` (409). */
  | { readonly kind: 'conflict'; readonly policy: RomanaPolicy; readonly existing: RomanaPolicy; readonly error: RomanaError };

/**
 * What adding each parsed policy to `existing` means. `idGenerated[i]`
 * (from parsePolicyDocument) says policies[i] came without an id: it is then
 * matched by name and compared without its fresh id, so re-posting a
 * documented-format file is a no-op rather than a duplicate.
 */
export function planPolicyAdds(
  existing: readonly RomanaPolicy[],
  parsed: { readonly policies: readonly RomanaPolicy[]; readonly idGenerated: readonly boolean[] },
): PolicyAddOutcome[] {
  return parsed.policies.map((policy, i) => {
    const generated = parsed.idGenerated[i] === true;
    const handles = new Set([policy.id, policy.name]);
    const clashes = existing.filter((e) => handles.has(e.id) || handles.has(e.name));
    if (clashes.length === 0) return { kind: 'create', policy };
    // The stored policy this one is "the same as", if any: same id, or (for a generated id) same name.
    const same = generated ? clashes.find((e) => e.name === policy.name) : clashes.find((e) => e.id === policy.id);
    const other = clashes.find((e) => e !== same);
    if (other) return { kind: 'conflict', policy, existing: other, error: takenError(policy, other) };
    if (same && same.name === policy.name && policyEquals(same, policy, { ignoreId: generated })) {
      return { kind: 'unchanged', policy, existing: same };
    }
    // clashes is non-empty and holds nothing but `same`.
    return { kind: 'conflict', policy, existing: same!, error: changedError(policy, same!) };
  });
}

/** `existing` is the policy `policy` stands for, but with other content (or another name). */
function changedError(policy: RomanaPolicy, existing: RomanaPolicy): RomanaError {
  const q = JSON.stringify;
  let message: string;
  if (existing.id !== policy.id) message = `A policy named ${q(existing.name)} already exists (id ${q(existing.id)}) with different content`;
  else if (existing.name !== policy.name) message = `Policy ${q(existing.id)} already exists with the name ${q(existing.name)}, not ${q(policy.name)}`;
  else message = `Policy ${q(existing.id)} already exists with different content`;
  return new RomanaError('ALREADY_EXISTS', message, { resourceType: 'policy', resourceId: existing.id });
}

/** `existing` is another policy whose id or name equals `policy`'s id or name. */
function takenError(policy: RomanaPolicy, existing: RomanaPolicy): RomanaError {
  const q = JSON.stringify;
  const taken = [policy.name, policy.id].find((h) => h === existing.id || h === existing.name)!;
  return new RomanaError('ALREADY_EXISTS', `${q(taken)} is already the id or name of policy ${q(existing.id)} (name ${q(existing.name)})`, {
    resourceType: 'policy',
    resourceId: existing.id,
  });
}
