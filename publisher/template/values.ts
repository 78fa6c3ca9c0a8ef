/**
 * How JavaScript values stand in for Go values inside templates.
 *
 *   Go                         here
 *   string, bool               string, boolean
 *   int, float64               number (integral values behave as int, others as float64)
 *   slice/array                Array
 *   map                        Map (keys looked up by `.key` and `index`; range in sorted key order)
 *   struct / pointer to struct any other object: exported (capitalised) own properties are
 *                              fields, functions on it are methods; `[GO_TYPE]` names its type
 *   fmt.Stringer               an object with a `String()` method (printed through it)
 *   nil                        null; a missing map key / field of nothing is `undefined`
 *
 * Concurrency rule: pure.
 */

/** Property naming the Go type of a data object in messages (e.g. "publisher.Data"). */
export const GO_TYPE: unique symbol = Symbol.for('romana.template.goType');

export interface GoTyped {
  readonly [GO_TYPE]?: string;
}

export function isStruct(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map);
}

/** Go's spelling of a value's type, for error messages and %T. */
export function typeName(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return isIntValue(v) ? 'int' : 'float64';
    case 'bigint':
      return 'int64';
    case 'function':
      return 'func';
    default:
      break;
  }
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof Map) return 'map[string]interface {}';
  const named = (v as GoTyped)[GO_TYPE];
  if (typeof named === 'string') return named;
  const ctor = (v as object).constructor;
  return ctor && ctor !== Object && ctor.name ? ctor.name : 'struct {}';
}

export function isIntValue(v: number): boolean {
  return Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER;
}

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false; everything else true. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'number':
      return v !== 0;
    case 'string':
      return v.length > 0;
    case 'bigint':
      return v !== 0n;
    case 'function':
      return true;
    default:
      break;
  }
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  return true;
}

/** A struct's exported fields in declaration order (what %v prints). */
export function structFields(v: object): Array<[string, unknown]> {
  return Object.entries(v).filter(([k, x]) => /^\p{Lu}/u.test(k) && typeof x !== 'function');
}

/** The String() method of a Stringer, if the value has one. */
export function stringer(v: unknown): (() => unknown) | null {
  if (!isStruct(v)) return null;
  const f = (v as Record<string, unknown>).String;
  return typeof f === 'function' ? (f as () => unknown) : null;
}

/** Map keys in Go's printing/range order: numbers numerically, then strings by code unit. */
export function sortedKeys(m: Map<unknown, unknown>): unknown[] {
  return [...m.keys()].sort((a, b) => {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    const x = String(a);
    const y = String(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** Length in bytes of a string's UTF-8 form (Go's len of a string). */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
