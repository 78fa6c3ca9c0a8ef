/**
 * A fast reader for the YAML that `kubectl get -o yaml` and hand-written
 * manifests use, for the snapshot loader: block mappings and sequences,
 * single-line flow collections, plain and quoted single-line scalars,
 * comments, resolved with the YAML 1.2 core schema as the `yaml` package
 * does.
 *
 * Why: the `yaml` package builds a full Document per parse and took
 * ~100–180 µs for a three-line Pod here; at 160k documents that was 17–30 s
 * of the romana-dns start. This reader handles the common shapes at a few
 * µs and gives up (returns undefined) on anything else — anchors, aliases,
 * tags, block scalars, multi-line scalars or flows, complex keys,
 * duplicate keys, floats and other non-decimal numbers, tab indentation —
 * so the caller hands exactly those documents to the `yaml` package. It
 * never guesses: a shape it accepts must give the same value the `yaml`
 * package gives (test/dns/yaml_subset.test.ts compares the two).
 *
 * Concurrency rule: pure.
 */

type Value = null | boolean | number | string | Value[] | { [k: string]: Value };

/** Thrown inside the reader to give up; never escapes `parseYamlSubset`. */
class GiveUp extends Error {}
const GIVE_UP = new GiveUp();

const INT = /^[-+]?[0-9]+$/;
/** Plain scalars the core schema reads as something this reader does not build (floats, octal, hex, inf, nan). */
const OTHER_NUMBER = /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;

function resolvePlain(s: string): Value {
  const c = s.charCodeAt(0);
  // Most scalars are names: only a digit, sign or dot can start a number, only t/f/n/~ a bool or null.
  if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
    if (INT.test(s)) return Number(s);
    if (OTHER_NUMBER.test(s)) throw GIVE_UP;
    return s;
  }
  if (s === '' || c === 0x7e || c === 0x6e || c === 0x4e) return NULL.test(s) ? null : s;
  if (c === 0x74 || c === 0x54 || c === 0x66 || c === 0x46) return BOOL.test(s) ? c === 0x74 || c === 0x54 : s;
  return s;
}

/** The plain scalar starting at t[i] may not start so (indicators, or shapes left to the full parser); "-x" is fine, "- x" is not. */
function badPlainStart(t: string, i: number): boolean {
  const c = t[i]!;
  if (c === '-') return i + 1 >= t.length || t[i + 1] === ' ' || ',[]{}'.includes(t[i + 1]!);
  return '&*!|>%@`{}[],#?:\'"'.includes(c);
}

interface Line {
  indent: number;
  /** The line without its indentation. */
  text: string;
}

class Reader {
  private i = 0;
  constructor(private readonly lines: Line[]) {}

  done(): boolean { return this.i >= this.lines.length; }

  document(): Value {
    if (this.lines.length === 0) return null;
    const v = this.block(this.lines[0]!.indent);
    if (!this.done()) throw GIVE_UP;
    return v;
  }

  private block(indent: number): Value {
    const line = this.lines[this.i]!;
    if (line.indent !== indent) throw GIVE_UP;
    if (isSeqEntry(line.text)) return this.seq(indent);
    if (mapKeyEnd(line.text) >= 0) return this.map(indent);
    // A lone scalar or flow collection; a continuation on the next line would be a multi-line scalar.
    this.i++;
    if (!this.done() && this.lines[this.i]!.indent > indent) throw GIVE_UP;
    return inline(line.text);
  }

  private map(indent: number): Value {
    const out: { [k: string]: Value } = {};
    while (!this.done()) {
      const line = this.lines[this.i]!;
      if (line.indent < indent) break;
      if (line.indent > indent || isSeqEntry(line.text)) {
        if (line.indent === indent) break; // a sequence at the parent's indentation ends this mapping
        throw GIVE_UP;
      }
      const end = mapKeyEnd(line.text);
      if (end < 0) throw GIVE_UP;
      const key = mapKey(line.text.slice(0, end));
      if (Object.prototype.hasOwnProperty.call(out, key) || key === '__proto__') throw GIVE_UP;
      const rest = stripComment(line.text.slice(end + 1));
      this.i++;
      if (rest !== '') {
        out[key] = inline(rest);
        if (!this.done() && this.lines[this.i]!.indent > indent) throw GIVE_UP;
        continue;
      }
      const next = this.lines[this.i];
      if (next && next.indent > indent) out[key] = this.block(next.indent);
      else if (next && next.indent === indent && isSeqEntry(next.text)) out[key] = this.seq(indent);
      else out[key] = null;
    }
    return out;
  }

  private seq(indent: number): Value {
    const out: Value[] = [];
    while (!this.done()) {
      const line = this.lines[this.i]!;
      if (line.indent !== indent || !isSeqEntry(line.text)) {
        if (line.indent > indent) throw GIVE_UP;
        break;
      }
      let skip = 1;
      while (line.text[skip] === ' ') skip++;
      const rest = line.text.slice(skip);
      if (stripComment(rest) === '') {
        this.i++;
        const next = this.lines[this.i];
        out.push(next && next.indent > indent ? this.block(next.indent) : null);
        continue;
      }
      if (isSeqEntry(rest) || mapKeyEnd(rest) >= 0) {
        // "- key: v" / "- - x": a nested collection starting on this line; read it as if it began on its own line.
        this.lines[this.i] = { indent: indent + skip, text: rest };
        out.push(this.block(indent + skip));
        continue;
      }
      this.i++;
      if (!this.done() && this.lines[this.i]!.indent > indent) throw GIVE_UP;
      out.push(inline(rest));
    }
    return out;
  }
}

function isSeqEntry(t: string): boolean {
  return t[0] === '-' && (t.length === 1 || t[1] === ' ');
}

/** The index of the ':' ending a block mapping key on this line, or -1. */
function mapKeyEnd(t: string): number {
  const c = t[0];
  if (c === '"' || c === "'") {
    const close = quotedEnd(t, 0);
    return t[close] === ':' && (close + 1 === t.length || t[close + 1] === ' ') ? close : -1;
  }
  if (c === undefined || c === '#' || c === '{' || c === '[' || (c === '-' && isSeqEntry(t))) return -1;
  for (let i = 0; i < t.length; i++) {
    if (t[i] === ':' && (i + 1 === t.length || t[i + 1] === ' ')) return i;
    if (t[i] === '#' && i > 0 && t[i - 1] === ' ') return -1;
  }
  return -1;
}

function mapKey(raw: string): string {
  const k = raw.trimEnd();
  if (k[0] === '"' || k[0] === "'") {
    const [v, end] = quoted(k, 0);
    if (end !== k.length) throw GIVE_UP;
    return v;
  }
  if (k === '' || badPlainStart(k, 0) || k.includes(' #')) throw GIVE_UP;
  const v = resolvePlain(k);
  // Non-string keys (null, true, 1) become strings in the `yaml` package's toJS only by coincidence of formatting: leave them to it.
  if (typeof v !== 'string') throw GIVE_UP;
  return v;
}

/** The value text without a trailing comment and spaces (quotes and flows are skipped over). */
function stripComment(t: string): string {
  let i = 0;
  while (i < t.length) {
    const c = t[i];
    if (c === '"' || c === "'") { i = quotedEnd(t, i); continue; }
    if (c === '#' && (i === 0 || t[i - 1] === ' ')) return t.slice(0, i).trim();
    i++;
  }
  return t.trim();
}

/** Index just past the quoted scalar starting at `at` (throws when it does not end on this line). */
function quotedEnd(t: string, at: number): number {
  return quoted(t, at)[1];
}

const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', f: '\f', ' ': ' ' };

function quoted(t: string, at: number): [string, number] {
  const q = t[at];
  let out = '';
  let i = at + 1;
  if (q === "'") {
    for (;;) {
      const j = t.indexOf("'", i);
      if (j < 0) throw GIVE_UP;
      out += t.slice(i, j);
      if (t[j + 1] === "'") { out += "'"; i = j + 2; continue; }
      return [out, j + 1];
    }
  }
  for (;;) {
    let j = i;
    while (j < t.length && t[j] !== '"' && t[j] !== '\\') j++;
    if (j >= t.length) throw GIVE_UP;
    out += t.slice(i, j);
    if (t[j] === '"') return [out, j + 1];
    const e = t[j + 1];
    if (e !== undefined && ESCAPES[e] !== undefined) { out += ESCAPES[e]; i = j + 2; continue; }
    if (e === 'x' || e === 'u') {
      const n = e === 'x' ? 2 : 4;
      const hex = t.slice(j + 2, j + 2 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw GIVE_UP;
      const code = parseInt(hex, 16);
      if (code >= 0xd800 && code <= 0xdfff) throw GIVE_UP; // surrogate halves: leave them to the full parser
      out += String.fromCharCode(code);
      i = j + 2 + n;
      continue;
    }
    throw GIVE_UP;
  }
}

/** A whole single-line value in block context: a flow collection, a quoted or a plain scalar. */
function inline(raw: string): Value {
  const t = stripComment(raw);
  const c = t[0];
  if (c === undefined) return null;
  if (c === '{' || c === '[') {
    const [v, end] = flow(t, 0);
    if (end !== t.length) throw GIVE_UP;
    return v;
  }
  if (c === '"' || c === "'") {
    const [v, end] = quoted(t, 0);
    if (end !== t.length) throw GIVE_UP;
    return v;
  }
  if (badPlainStart(t, 0) || t.includes(': ') || t.endsWith(':')) throw GIVE_UP;
  return resolvePlain(t);
}

function skipSpaces(t: string, i: number): number {
  while (t[i] === ' ') i++;
  return i;
}

/** A flow collection starting at `at`; returns the value and the index after its closing bracket. */
function flow(t: string, at: number): [Value, number] {
  const map = t[at] === '{';
  const close = map ? '}' : ']';
  const obj: { [k: string]: Value } = {};
  const list: Value[] = [];
  let i = skipSpaces(t, at + 1);
  for (;;) {
    if (t[i] === close) return [map ? obj : list, i + 1];
    if (map) {
      const [k, ki] = flowScalar(t, i);
      if (typeof k !== 'string' || Object.prototype.hasOwnProperty.call(obj, k) || k === '__proto__') throw GIVE_UP;
      i = skipSpaces(t, ki);
      if (t[i] !== ':') throw GIVE_UP;
      i = skipSpaces(t, i + 1);
      const [v, vi] = flowValue(t, i);
      obj[k] = v;
      i = skipSpaces(t, vi);
    } else {
      const [v, vi] = flowValue(t, i);
      list.push(v);
      i = skipSpaces(t, vi);
      if (t[i] === ':') throw GIVE_UP; // a single-pair mapping inside a sequence
    }
    if (t[i] === ',') { i = skipSpaces(t, i + 1); continue; }
    if (t[i] !== close) throw GIVE_UP;
  }
}

function flowValue(t: string, i: number): [Value, number] {
  if (t[i] === '{' || t[i] === '[') return flow(t, i);
  return flowScalar(t, i);
}

/** A scalar inside a flow collection: quoted, or plain up to `,` `{` `}` `[` `]` or a `:` that separates (followed by a space, an indicator or the end). */
function flowScalar(t: string, i: number): [Value, number] {
  const c = t[i];
  if (c === '"' || c === "'") return quoted(t, i);
  if (c === undefined || badPlainStart(t, i)) throw GIVE_UP;
  let j = i;
  for (; j < t.length; j++) {
    const d = t[j];
    if (d === ',' || d === '{' || d === '}' || d === '[' || d === ']') break;
    if (d === ':' && (t[j + 1] === ' ' || t[j + 1] === ',' || t[j + 1] === '}' || t[j + 1] === ']' || j + 1 === t.length)) break;
    if (d === '#' && t[j - 1] === ' ') throw GIVE_UP;
  }
  const s = t.slice(i, j).trimEnd();
  if (s === '') throw GIVE_UP;
  return [resolvePlain(s), j];
}

/**
 * The value of one YAML document, or undefined when the text uses
 * something this reader leaves to the `yaml` package.
 */
export function parseYamlSubset(text: string): Value | undefined {
  // A byte order mark may open a stream (and so the first document of a snapshot file); YAML ignores it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.includes('\t')) return undefined; // tabs separate tokens in places this reader does not look
    let indent = 0;
    while (line.charCodeAt(indent) === 32) indent++;
    const rest = line.slice(indent);
    if (rest === '' || rest[0] === '#') continue;
    if ((indent === 0 && (rest[0] === '%' || rest.startsWith('---') || rest.startsWith('...')))) return undefined;
    lines.push({ indent, text: rest.trimEnd() });
  }
  try {
    return new Reader(lines).document();
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  }
}
