/**
 * text/template's predefined functions (except `and`/`or`, which evaluate
 * their arguments lazily and live in exec.ts), written from the package
 * documentation: not len index slice print printf println eq ne lt le gt ge
 * html js urlquery call.
 *
 * A function throws FuncError for a bad call; exec.ts adds the position
 * ("error calling index: …", "wrong number of args for len: …").
 *
 * Concurrency rule: pure.
 */
import { goQuote, sprint, sprintf, sprintln } from './fmt.js';
import { isIntValue, truth, typeName, utf8Length } from './values.js';

export class FuncError extends Error {}

export interface Builtin {
  /** Fixed argument count, or the minimum for variadic functions. */
  readonly min: number;
  readonly variadic: boolean;
  readonly fn: (args: unknown[]) => unknown;
}

const fail = (msg: string): never => {
  throw new FuncError(msg);
};

function toIndex(v: unknown): number {
  if (typeof v !== 'number' || !isIntValue(v)) return fail(`cannot index slice/array with type ${typeName(v)}`);
  return v;
}

function index(args: unknown[]): unknown {
  let item = args[0];
  if (item === undefined || item === null) return fail('index of untyped nil');
  for (const k of args.slice(1)) {
    if (item === undefined || item === null) return fail('index of nil pointer');
    if (Array.isArray(item)) {
      const i = toIndex(k);
      if (i < 0 || i >= item.length) return fail(`index out of range: ${i}`);
      item = item[i];
    } else if (typeof item === 'string') {
      const bytes = Buffer.from(item, 'utf8');
      const i = toIndex(k);
      if (i < 0 || i >= bytes.length) return fail(`index out of range: ${i}`);
      item = bytes[i];
    } else if (item instanceof Map) {
      if (k === undefined || k === null) return fail('value is nil; should be of type string');
      // A missing key gives the zero value: nothing.
      item = item.get(k);
    } else {
      return fail(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

function slice(args: unknown[]): unknown {
  const item = args[0];
  if (item === undefined || item === null) return fail('slice of untyped nil');
  const idx = args.slice(1).map(toIndex);
  if (idx.length > 3) return fail(`too many slice indexes: ${idx.length}`);
  if (typeof item === 'string') {
    if (idx.length === 3) return fail('cannot 3-index slice a string');
    const bytes = Buffer.from(item, 'utf8');
    const lo = idx[0] ?? 0;
    const hi = idx[1] ?? bytes.length;
    if (lo < 0 || hi > bytes.length || lo > hi) return fail(`index out of range: ${lo > hi ? lo : hi}`);
    return bytes.subarray(lo, hi).toString('utf8');
  }
  if (Array.isArray(item)) {
    const lo = idx[0] ?? 0;
    const hi = idx[1] ?? item.length;
    const max = idx[2] ?? item.length;
    if (lo < 0 || hi > max || max > item.length || lo > hi) return fail(`index out of range: ${lo > hi ? lo : hi}`);
    return item.slice(lo, hi);
  }
  return fail(`can't slice item of type ${typeName(item)}`);
}

function len(args: unknown[]): number {
  const v = args[0];
  if (typeof v === 'string') return utf8Length(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map) return v.size;
  if (v === undefined || v === null) return fail('len of nil pointer');
  return fail(`len of type ${typeName(v)}`);
}

type Kind = 'bool' | 'number' | 'string' | 'nil' | 'other';

function basicKind(v: unknown): Kind {
  if (v === undefined || v === null) return 'nil';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
    default:
      return 'other';
  }
}

function eqPair(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'nil' || kb === 'nil') return ka === kb;
  if (ka === 'other' || kb === 'other') {
    if (Array.isArray(a) || Array.isArray(b) || a instanceof Map || b instanceof Map || typeof a === 'function' || typeof b === 'function') {
      return fail(`non-comparable type ${typeName(ka === 'other' ? a : b)}`);
    }
    if (ka !== kb) return fail('incompatible types for comparison');
    return a === b;
  }
  if (ka !== kb) return fail('incompatible types for comparison');
  return a === b || (ka === 'number' && Number(a) === Number(b));
}

function eq(args: unknown[]): boolean {
  if (args.length < 2) return fail('missing argument for comparison');
  const [first, ...rest] = args;
  for (const x of rest) if (eqPair(first, x)) return true;
  return false;
}

function lt(args: unknown[]): boolean {
  const [a, b] = args;
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'bool' || ka === 'nil' || ka === 'other' || kb === 'bool' || kb === 'nil' || kb === 'other') return fail('invalid type for comparison');
  if (ka !== kb) return fail('incompatible types for comparison');
  if (ka === 'string') {
    // Go compares strings byte-wise (UTF-8).
    return Buffer.compare(Buffer.from(a as string, 'utf8'), Buffer.from(b as string, 'utf8')) < 0;
  }
  return (a as number) < (b as number);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' };

function htmlEscape(s: string): string {
  return s.replace(/[&'<>"\0]/g, (c) => HTML_ESCAPES[c]!);
}

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '"') out += '\\"';
    else if (ch === '<') out += '\\u003C';
    else if (ch === '>') out += '\\u003E';
    else if (ch === '&') out += '\\u0026';
    else if (ch === '=') out += '\\u003D';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20) out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
    else out += ch;
  }
  return out;
}

/** url.QueryEscape. */
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+')
    .replace(/~/g, '%7E');
}

/** Go's evalArgs for the escapers: one string argument as is, else fmt.Sprint of all. */
function escaperArg(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args);
}

export const BUILTINS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ['not', { min: 1, variadic: false, fn: (a) => !truth(a[0]) }],
  ['len', { min: 1, variadic: false, fn: len }],
  ['index', { min: 1, variadic: true, fn: index }],
  ['slice', { min: 1, variadic: true, fn: slice }],
  ['print', { min: 0, variadic: true, fn: sprint }],
  ['println', { min: 0, variadic: true, fn: sprintln }],
  [
    'printf',
    {
      min: 1,
      variadic: true,
      fn: (a) => {
        if (typeof a[0] !== 'string') return fail(`wrong type for value; expected string; got ${typeName(a[0])}`);
        return sprintf(a[0], a.slice(1));
      },
    },
  ],
  ['eq', { min: 1, variadic: true, fn: eq }],
  ['ne', { min: 2, variadic: false, fn: (a) => !eq(a) }],
  ['lt', { min: 2, variadic: false, fn: lt }],
  ['le', { min: 2, variadic: false, fn: (a) => lt(a) || eq(a) }],
  ['gt', { min: 2, variadic: false, fn: (a) => !lt(a) && !eq(a) }],
  ['ge', { min: 2, variadic: false, fn: (a) => !lt(a) }],
  ['html', { min: 0, variadic: true, fn: (a) => htmlEscape(escaperArg(a)) }],
  ['js', { min: 0, variadic: true, fn: (a) => jsEscape(escaperArg(a)) }],
  ['urlquery', { min: 0, variadic: true, fn: (a) => queryEscape(escaperArg(a)) }],
  [
    'call',
    {
      min: 1,
      variadic: true,
      fn: (a) => {
        const f = a[0];
        if (typeof f !== 'function') return fail(`non-function of type ${typeName(f)}`);
        return (f as (...x: unknown[]) => unknown)(...a.slice(1));
      },
    },
  ],
]);

/** Every name the parser accepts as a function. */
export const FUNCTION_NAMES: ReadonlySet<string> = new Set([...BUILTINS.keys(), 'and', 'or']);

export { goQuote };
