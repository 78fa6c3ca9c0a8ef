/**
 * The part of Go's `fmt` that templates reach: printing a value in an
 * action ({{.}} is fmt.Print), and the builtins print, println and printf.
 * Written from the fmt package documentation.
 *
 * printf supports the verbs %v %+v %#v %T %% %t %d %b %o %O %x %X %c %q %U
 * %e %E %f %F %g %G %s, the flags + - # space 0, width and precision
 * (also `*`), explicit argument indexes (%[2]d), and Go's in-band error
 * forms: %!d(string=x), %!d(MISSING), %!(EXTRA int=1), %!(NOVERB),
 * %!(BADWIDTH), %!(BADPREC), %!d(BADINDEX).
 *
 * Known differences from Go (JavaScript has one number type): integral
 * numbers format as Go ints, others as float64, so a float64 that happens
 * to be integral (1e6 from JSON) prints "1000000" rather than "1e+06";
 * the float verbs also accept integral numbers (Go reports %!f(int=1));
 * rounding of exact decimal ties follows JavaScript (half away from zero)
 * rather than Go (half to even).
 *
 * Concurrency rule: pure.
 */
import { isIntValue, isStruct, sortedKeys, stringer, structFields, typeName } from './values.js';

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | undefined;
  prec: number | undefined;
  /** %+v: struct field names. */
  plusV: boolean;
  /** %#v: Go syntax. */
  sharpV: boolean;
}

const DEFAULT_SPEC: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false, width: undefined, prec: undefined, plusV: false, sharpV: false };

function runeLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function pad(s: string, spec: Spec, zeroOk = false): string {
  if (spec.width === undefined) return s;
  const n = runeLength(s);
  if (n >= spec.width) return s;
  const fill = spec.width - n;
  if (spec.minus) return s + ' '.repeat(fill);
  if (spec.zero && zeroOk) {
    // Zeros go after the sign.
    const sign = s[0] === '-' || s[0] === '+' || s[0] === ' ' ? s[0] : '';
    return sign + '0'.repeat(fill) + s.slice(sign.length);
  }
  return ' '.repeat(fill) + s;
}

/** strconv.Quote: Go double-quoted string with Go escapes. */
export function goQuote(s: string, quote = '"'): string {
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if ((c >= 0x80 && c < 0xa0) || c === 0xad || (c >= 0xd800 && c < 0xe000) || c === 0xfffd || c === 0xfeff) {
      out += c > 0xffff ? '\\U' + c.toString(16).padStart(8, '0') : '\\u' + c.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + quote;
}

// ---------- numbers ----------

function intString(v: number, base: number, upper: boolean): string {
  const s = Math.abs(v) <= Number.MAX_SAFE_INTEGER ? Math.abs(v).toString(base) : BigInt(Math.trunc(Math.abs(v))).toString(base);
  return upper ? s.toUpperCase() : s;
}

function fmtInt(v: number, verb: string, spec: Spec): string {
  const neg = v < 0 || Object.is(v, -0);
  let digits: string;
  let prefix = '';
  switch (verb) {
    case 'd':
    case 'v':
      digits = intString(v, 10, false);
      break;
    case 'b':
      digits = intString(v, 2, false);
      if (spec.sharp) prefix = '0b';
      break;
    case 'o':
    case 'O':
      digits = intString(v, 8, false);
      if (verb === 'O') prefix = '0o';
      else if (spec.sharp && digits[0] !== '0') prefix = '0';
      break;
    case 'x':
    case 'X':
      digits = intString(v, 16, verb === 'X');
      if (spec.sharp) prefix = verb === 'X' ? '0X' : '0x';
      break;
    case 'c':
      return pad(String.fromCodePoint(validRune(v)), spec);
    case 'q':
      return pad(goQuote(String.fromCodePoint(validRune(v)), "'"), spec);
    case 'U': {
      const hex = intString(v, 16, true).padStart(4, '0');
      let s = `U+${hex}`;
      if (spec.sharp && v >= 0 && v <= 0x10ffff) s += ` '${String.fromCodePoint(v)}'`;
      return pad(s, spec);
    }
    default:
      return badVerb(verb, v);
  }
  if (spec.prec !== undefined) {
    if (spec.prec === 0 && v === 0) digits = '';
    else digits = digits.padStart(spec.prec, '0');
  }
  const sign = neg && v !== 0 ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  // Go ignores the 0 flag when a precision is given.
  return pad(sign + prefix + digits, spec.prec === undefined ? spec : { ...spec, zero: false }, true);
}

function validRune(v: number): number {
  return v >= 0 && v <= 0x10ffff && !(v >= 0xd800 && v < 0xe000) ? v : 0xfffd;
}

/** Shortest decimal digits of |v| and the decimal point position (v = 0.d1d2… × 10^dp). */
function shortestDigits(v: number): { digits: string; dp: number } {
  if (v === 0) return { digits: '0', dp: 1 };
  const [m, e] = Math.abs(v).toExponential().split('e') as [string, string];
  return { digits: m.replace('.', ''), dp: Number(e) + 1 };
}

/**
 * |v| rounded to `keep` significant digits, half to even on exact decimal
 * ties as Go's strconv does (JavaScript's toFixed/toExponential round ties
 * away from zero). Reads 40 digits of the expansion: a double that is not
 * an exact tie shows a non-zero digit long before that.
 * keep <= 0 rounds below the first digit: the result is "" (zero) or "1"
 * one place up.
 */
function roundSig(v: number, keep: number): { digits: string; dp: number } {
  const a = Math.abs(v);
  if (a === 0) return { digits: '0'.repeat(Math.max(keep, 1)), dp: 1 };
  const [m, e] = a.toExponential(40).split('e') as [string, string];
  const all = m.replace('.', '');
  const dp = Number(e) + 1;
  if (keep < 0) return { digits: '', dp };
  const head = all.slice(0, keep);
  const tail = all.slice(keep);
  const lastOdd = keep > 0 && Number(head[keep - 1]) % 2 === 1;
  const up = tail[0]! > '5' || (tail[0] === '5' && (/[1-9]/.test(tail.slice(1)) || lastOdd));
  if (keep === 0) return up ? { digits: '1', dp: dp + 1 } : { digits: '', dp };
  if (!up) return { digits: head, dp };
  // Increment the decimal string.
  const d = head.split('');
  let i = d.length - 1;
  while (i >= 0 && d[i] === '9') d[i--] = '0';
  if (i >= 0) {
    d[i] = String(Number(d[i]) + 1);
    return { digits: d.join(''), dp };
  }
  return { digits: ('1' + d.join('')).slice(0, keep), dp: dp + 1 };
}

function precDigits(v: number, sig: number): { digits: string; dp: number } {
  return roundSig(v, sig);
}

/** |v| with exactly `frac` digits after the point, half-even rounded. */
function fixedDigits(v: number, frac: number): string {
  if (v === 0) return fixedForm('0', 1, frac);
  // Significant digits needed: those before the point plus `frac`.
  let r = roundSig(v, Number(Math.abs(v).toExponential().split('e')[1]) + 1 + frac);
  if (r.digits === '') r = { digits: '0', dp: 1 };
  return fixedForm(r.digits, r.dp, frac);
}

function expForm(digits: string, dp: number, fracDigits: number, e: string): string {
  let d = digits;
  if (d.length < fracDigits + 1) d = d.padEnd(fracDigits + 1, '0');
  const mant = fracDigits > 0 ? `${d[0]}.${d.slice(1, fracDigits + 1)}` : d[0]!;
  const x = dp - 1;
  const exp = Math.abs(x).toString().padStart(2, '0');
  return `${mant}${e}${x < 0 ? '-' : '+'}${exp}`;
}

function fixedForm(digits: string, dp: number, frac: number): string {
  let intPart: string;
  let fracPart: string;
  if (dp <= 0) {
    intPart = '0';
    fracPart = '0'.repeat(-dp) + digits;
  } else if (dp >= digits.length) {
    intPart = digits + '0'.repeat(dp - digits.length);
    fracPart = '';
  } else {
    intPart = digits.slice(0, dp);
    fracPart = digits.slice(dp);
  }
  fracPart = fracPart.padEnd(frac, '0').slice(0, frac);
  return frac > 0 ? `${intPart}.${fracPart}` : intPart;
}

function fmtFloat(v: number, verb: string, spec: Spec): string {
  const upper = verb === 'E' || verb === 'G' || verb === 'F';
  if (!Number.isFinite(v)) {
    // Go: "+Inf" (always signed), "-Inf", "NaN"; padded with spaces, never zeros.
    let s: string;
    if (Number.isNaN(v)) s = spec.plus ? '+NaN' : spec.space ? ' NaN' : 'NaN';
    else if (v < 0) s = '-Inf';
    else s = spec.space && !spec.plus ? ' Inf' : '+Inf';
    return pad(s, { ...spec, zero: false });
  }
  const neg = v < 0 || Object.is(v, -0);
  let body: string;
  switch (verb) {
    case 'e':
    case 'E': {
      const p = spec.prec ?? 6;
      const { digits, dp } = precDigits(v, p + 1);
      body = expForm(digits, dp, p, upper ? 'E' : 'e');
      break;
    }
    case 'f':
    case 'F': {
      body = fixedDigits(v, spec.prec ?? 6);
      break;
    }
    case 'g':
    case 'G':
    case 'v': {
      let digits: string;
      let dp: number;
      let eprec: number;
      const shortest = spec.prec === undefined;
      if (shortest) {
        ({ digits, dp } = shortestDigits(v));
        eprec = 6;
      } else {
        const p = spec.prec === 0 ? 1 : spec.prec!;
        ({ digits, dp } = precDigits(v, p));
        digits = digits.replace(/0+$/, '') || '0';
        eprec = p;
        if (eprec > digits.length && digits.length >= dp) eprec = digits.length;
      }
      const x = dp - 1;
      if (x < -4 || x >= eprec) body = expForm(digits, dp, digits.length - 1, upper ? 'E' : 'e');
      else body = fixedForm(digits, dp, Math.max(digits.length - dp, 0));
      break;
    }
    default:
      return badVerb(verb, v);
  }
  const sign = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  return pad(sign + body, spec, true);
}

// ---------- strings ----------

function fmtString(s: string, verb: string, spec: Spec): string {
  switch (verb) {
    case 'v':
      if (spec.sharpV) return pad(goQuote(s), spec);
      return pad(truncate(s, spec.prec), spec);
    case 's':
      return pad(truncate(s, spec.prec), spec);
    case 'q':
      if (spec.sharp && !s.includes('`') && !/[\x00-\x08\x0b-\x1f\x7f]/.test(s)) return pad('`' + truncate(s, spec.prec) + '`', spec);
      return pad(goQuote(truncate(s, spec.prec)), spec);
    case 'x':
    case 'X': {
      let bytes = [...Buffer.from(truncate(s, spec.prec), 'utf8')].map((b) => b.toString(16).padStart(2, '0'));
      if (verb === 'X') bytes = bytes.map((b) => b.toUpperCase());
      const pre = spec.sharp ? (verb === 'X' ? '0X' : '0x') : '';
      const out = spec.space ? bytes.map((b) => pre + b).join(' ') : pre + bytes.join('');
      return pad(out, spec);
    }
    default:
      return badVerb(verb, s);
  }
}

function truncate(s: string, prec: number | undefined): string {
  if (prec === undefined) return s;
  return [...s].slice(0, prec).join('');
}

function badVerb(verb: string, v: unknown): string {
  if (v === undefined || v === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(v)}=${formatValue(v, 'v', DEFAULT_SPEC)})`;
}

// ---------- any value ----------

function formatValue(v: unknown, verb: string, spec: Spec, depth = 0): string {
  if (depth > 32) return '<max depth>';
  if (verb === 'T') return pad(typeName(v), spec);
  if (v === undefined || v === null) {
    return verb === 'v' ? pad('<nil>', spec) : badVerb(verb, v);
  }
  switch (typeof v) {
    case 'string':
      return fmtString(v, verb, spec);
    case 'boolean':
      return verb === 't' || verb === 'v' ? pad(String(v), spec) : badVerb(verb, v);
    case 'number':
      if (verb === 'v') return isIntValue(v) ? fmtInt(v, 'd', spec) : fmtFloat(v, 'g', spec);
      if ('eEfFgG'.includes(verb)) return fmtFloat(v, verb, spec);
      if (!isIntValue(v)) return badVerb(verb, v);
      return fmtInt(v, verb, spec);
    case 'bigint':
      return verb === 'v' || verb === 'd' ? pad(v.toString(), spec) : badVerb(verb, v);
    case 'function':
      return `%!${verb}(func)`;
    default:
      break;
  }
  if (Array.isArray(v)) {
    if (spec.sharpV) return `[]interface {}{${v.map((x) => formatValue(x, 'v', spec, depth + 1)).join(', ')}}`;
    return `[${v.map((x) => formatValue(x, verb, spec, depth + 1)).join(' ')}]`;
  }
  if (v instanceof Map) {
    const keys = sortedKeys(v);
    if (spec.sharpV) return `map[string]interface {}{${keys.map((k) => `${formatValue(k, 'v', spec, depth + 1)}:${formatValue(v.get(k), 'v', spec, depth + 1)}`).join(', ')}}`;
    return `map[${keys.map((k) => `${formatValue(k, verb, spec, depth + 1)}:${formatValue(v.get(k), verb, spec, depth + 1)}`).join(' ')}]`;
  }
  const str = stringer(v);
  if (str && !spec.sharpV && 'vsqxX'.includes(verb)) {
    const s = str.call(v);
    return formatValue(typeof s === 'string' ? s : String(s), verb, spec, depth + 1);
  }
  if (isStruct(v)) {
    const fields = structFields(v);
    if (spec.sharpV) return `${typeName(v)}{${fields.map(([k, x]) => `${k}:${formatValue(x, 'v', spec, depth + 1)}`).join(', ')}}`;
    if (spec.plusV) return `{${fields.map(([k, x]) => `${k}:${formatValue(x, verb, spec, depth + 1)}`).join(' ')}}`;
    return `{${fields.map(([, x]) => formatValue(x, verb, spec, depth + 1)).join(' ')}}`;
  }
  return pad(String(v), spec);
}

/** The text {{.}} prints for a value (fmt.Print of one operand). */
export function printValue(v: unknown): string {
  if (typeof v === 'string') return v;
  return formatValue(v, 'v', DEFAULT_SPEC);
}

/** fmt.Sprint: operands formatted with %v, a space between two operands when neither is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = '';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a, 'v', DEFAULT_SPEC);
  }
  return out;
}

/** fmt.Sprintln: operands with %v, always space-separated, newline appended. */
export function sprintln(args: readonly unknown[]): string {
  return args.map((a) => formatValue(a, 'v', DEFAULT_SPEC)).join(' ') + '\n';
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  let i = 0;
  const n = format.length;
  while (i < n) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec: Spec = { ...DEFAULT_SPEC };
    // flags
    for (; i < n; i++) {
      const c = format[i];
      if (c === '#') spec.sharp = true;
      else if (c === '0') spec.zero = !spec.minus;
      else if (c === '+') spec.plus = true;
      else if (c === '-') {
        spec.minus = true;
        spec.zero = false;
      } else if (c === ' ') spec.space = true;
      else break;
    }
    let badIndex = false;
    // [n] argument index
    const argIndex = (): void => {
      if (format[i] !== '[') return;
      reordered = true;
      const close = format.indexOf(']', i);
      const num = close < 0 ? NaN : Number(format.slice(i + 1, close));
      if (close < 0 || !/^\d+$/.test(format.slice(i + 1, close)) || num < 1 || num > args.length) {
        badIndex = true;
        i = close < 0 ? n : close + 1;
        return;
      }
      argNum = num - 1;
      i = close + 1;
    };
    argIndex();
    // width
    if (format[i] === '*') {
      i++;
      const w = args[argNum++];
      if (typeof w === 'number' && isIntValue(w)) {
        spec.width = Math.abs(w);
        if (w < 0) {
          spec.minus = true;
          spec.zero = false;
        }
      } else out += '%!(BADWIDTH)';
    } else {
      const m = /^\d+/.exec(format.slice(i));
      if (m) {
        spec.width = Number(m[0]);
        i += m[0].length;
      }
    }
    // precision
    if (format[i] === '.') {
      i++;
      argIndex();
      if (format[i] === '*') {
        i++;
        const p = args[argNum++];
        if (typeof p === 'number' && isIntValue(p) && p >= 0) spec.prec = p;
        else out += '%!(BADPREC)';
      } else {
        const m = /^\d+/.exec(format.slice(i));
        spec.prec = m ? Number(m[0]) : 0;
        if (m) i += m[0].length;
      }
    }
    argIndex();
    if (i >= n) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (badIndex) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argNum++];
    if (verb === 'v') {
      if (spec.sharp) {
        spec.sharpV = true;
        spec.sharp = false;
      }
      if (spec.plus) {
        spec.plusV = true;
        spec.plus = false;
      }
    }
    out += formatValue(arg, verb, spec);
  }
  if (!reordered && argNum < args.length) {
    out += '%!(EXTRA ' + args.slice(argNum).map((a) => (a === undefined || a === null ? '<nil>' : `${typeName(a)}=${formatValue(a, 'v', DEFAULT_SPEC)}`)).join(', ') + ')';
  }
  return out;
}
