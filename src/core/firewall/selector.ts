/**
 * Kubernetes label selectors (`metav1.LabelSelector`): validation with JSON
 * paths, matching, and a canonical text used to name ipsets by meaning.
 *
 * Semantics (Kubernetes API conventions, "Label selectors"): every
 * `matchLabels` pair and every `matchExpressions` requirement must hold
 * (AND); an empty selector matches everything. `In` needs the key with one
 * of the values, `NotIn` matches when the key is absent or its value is not
 * listed, `Exists` / `DoesNotExist` test the key only. Pure.
 */
import type { Problem } from '../errors.js';
import { jsonPathKey } from '../topology/index.js';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
export const SELECTOR_OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Sorted, deduplicated; empty for Exists / DoesNotExist. */
  readonly values: readonly string[];
}

/** A validated selector in canonical form (keys sorted, requirements sorted). */
export interface LabelSelector {
  /** key → required value. */
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly SelectorRequirement[];
}

export const MATCH_ALL: LabelSelector = Object.freeze({ matchLabels: Object.freeze({}), matchExpressions: Object.freeze([]) });

export function isEmptySelector(s: LabelSelector): boolean {
  return Object.keys(s.matchLabels).length === 0 && s.matchExpressions.length === 0;
}

export function selectorMatches(s: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const k in s.matchLabels) {
    if (labels[k] !== s.matchLabels[k]) return false;
  }
  for (const r of s.matchExpressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.operator) {
      case 'In':
        if (!has || !r.values.includes(labels[r.key]!)) return false;
        break;
      case 'NotIn':
        if (has && r.values.includes(labels[r.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

const keys = new WeakMap<LabelSelector, string>();

/** Canonical JSON of a selector: equal text ⇔ same selector (used in set names). Memoized per (immutable) selector object. */
export function selectorKey(s: LabelSelector): string {
  let k = keys.get(s);
  if (k === undefined) {
    k = JSON.stringify([s.matchLabels, s.matchExpressions.map((r) => [r.key, r.operator, r.values])]);
    keys.set(s, k);
  }
  return k;
}

/*
 * Label syntax (Kubernetes "Syntax and character set"): a key is an optional
 * DNS-subdomain prefix and '/', then a name of at most 63 characters,
 * alphanumeric at both ends with '-', '_', '.' inside; a value is empty or
 * such a name. Checked because an invalid key can never match and almost
 * always means a typo the user should hear about.
 */
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function labelKeyProblem(key: string): string | null {
  const slash = key.lastIndexOf('/');
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) return 'the prefix before "/" must be a DNS subdomain';
  }
  if (!LABEL_NAME.test(name)) return 'a label name must be 1-63 characters, alphanumeric at both ends, with "-", "_" or "." inside';
  return null;
}

export function labelValueProblem(value: string): string | null {
  if (value === '') return null;
  return LABEL_NAME.test(value) ? null : 'a label value must be empty or 1-63 characters, alphanumeric at both ends, with "-", "_" or "." inside';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates and canonicalizes a selector at `path`. `null`/absent means the
 * empty selector (Go's zero value, which the API server treats as "all").
 * Returns null when there are problems (they are pushed onto `problems`).
 */
export function parseSelector(raw: unknown, path: string, problems: Problem[]): LabelSelector | null {
  if (raw === undefined || raw === null) return MATCH_ALL;
  if (!isObject(raw)) {
    problems.push({ path, value: raw, message: 'must be a label selector object' });
    return null;
  }
  const before = problems.length;
  for (const k of Object.keys(raw)) {
    if (k !== 'matchLabels' && k !== 'matchExpressions') problems.push({ path: jsonPathKey(path, k), value: raw[k], message: 'unknown field (expected matchLabels, matchExpressions)' });
  }
  const labels: Record<string, string> = {};
  const ml = raw.matchLabels;
  if (ml !== undefined && ml !== null) {
    if (!isObject(ml)) problems.push({ path: `${path}.matchLabels`, value: ml, message: 'must be a map of label keys to values' });
    else {
      for (const k of Object.keys(ml).sort()) {
        const p = jsonPathKey(`${path}.matchLabels`, k);
        const kp = labelKeyProblem(k);
        if (kp) problems.push({ path: p, value: k, message: `invalid label key: ${kp}` });
        const v = ml[k];
        if (typeof v !== 'string') problems.push({ path: p, value: v, message: 'must be a string' });
        else {
          const vp = labelValueProblem(v);
          if (vp) problems.push({ path: p, value: v, message: `invalid label value: ${vp}` });
          else labels[k] = v;
        }
      }
    }
  }
  const exprs: SelectorRequirement[] = [];
  const me = raw.matchExpressions;
  if (me !== undefined && me !== null) {
    if (!Array.isArray(me)) problems.push({ path: `${path}.matchExpressions`, value: me, message: 'must be a list' });
    else {
      me.forEach((e: unknown, i) => {
        const p = `${path}.matchExpressions[${i}]`;
        if (!isObject(e)) {
          problems.push({ path: p, value: e, message: 'must be an object with key, operator and values' });
          return;
        }
        const { key, operator, values } = e;
        let ok = true;
        if (typeof key !== 'string') {
          problems.push({ path: `${p}.key`, value: key, message: 'must be a string' });
          ok = false;
        } else {
          const kp = labelKeyProblem(key);
          if (kp) {
            problems.push({ path: `${p}.key`, value: key, message: `invalid label key: ${kp}` });
            ok = false;
          }
        }
        if (typeof operator !== 'string' || !SELECTOR_OPERATORS.includes(operator as SelectorOperator)) {
          problems.push({ path: `${p}.operator`, value: operator, message: `must be one of ${SELECTOR_OPERATORS.join(', ')}` });
          return;
        }
        const op = operator as SelectorOperator;
        const needsValues = op === 'In' || op === 'NotIn';
        let vals: string[] = [];
        if (values !== undefined && values !== null) {
          if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
            problems.push({ path: `${p}.values`, value: values, message: 'must be a list of strings' });
            return;
          }
          vals = values as string[];
        }
        if (needsValues && vals.length === 0) {
          problems.push({ path: `${p}.values`, value: values ?? null, message: `must be non-empty for operator ${op}` });
          ok = false;
        }
        if (!needsValues && vals.length > 0) {
          problems.push({ path: `${p}.values`, value: values, message: `must be empty for operator ${op}` });
          ok = false;
        }
        vals.forEach((v, j) => {
          const vp = labelValueProblem(v);
          if (vp) {
            problems.push({ path: `${p}.values[${j}]`, value: v, message: `invalid label value: ${vp}` });
            ok = false;
          }
        });
        if (ok) exprs.push({ key: key as string, operator: op, values: [...new Set(vals)].sort() });
      });
    }
  }
  if (problems.length > before) return null;
  const keyed = exprs.map((r) => ({ k: JSON.stringify([r.key, r.operator, r.values]), r }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const unique = keyed.filter((x, i) => i === 0 || x.k !== keyed[i - 1]!.k).map((x) => x.r);
  return { matchLabels: labels, matchExpressions: unique };
}
