/**
 * A JSON reader for operator-written topology files.
 *
 * Goal: the topology examples in the documentation must load exactly as
 * printed there, and those carry `#` comments and trailing commas ("},"
 * before "]"). Plain `JSON.parse` accepts neither, and its error positions
 * are engine-specific text, so this is a small recursive-descent reader of
 * strict JSON plus exactly two relaxations:
 *   - `#` starts a comment that runs to the end of the line (outside strings);
 *   - one trailing comma is allowed before `]` or `}`.
 * Every syntax error is a RomanaError INVALID_JSON whose message says
 * "line:column" (1-based, columns count UTF-16 units) and whose details carry
 * {line, column, offset}. Duplicate keys in one object are an error too:
 * `JSON.parse` would silently keep the last one, hiding a typo in the topology.
 *
 * Pure and synchronous; no state survives a call.
 */
import { RomanaError } from '../errors.js';

export function parseLenientJson(text: string): unknown {
  const r = new Reader(text);
  r.skipSpace();
  const value = r.value(0);
  r.skipSpace();
  if (r.pos < text.length) r.fail(`unexpected ${r.describeHere()} after the end of the document`);
  return value;
}

/** Nesting limit: deeper documents are certainly not topologies, and the limit keeps recursion off the stack ceiling. */
const MAX_DEPTH = 256;

class Reader {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(what: string, at: number = this.pos): never {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at && i < this.text.length; i++) {
      if (this.text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    const column = at - lineStart + 1;
    throw new RomanaError('INVALID_JSON', `Invalid JSON at ${line}:${column}: ${what}`, {
      details: { line, column, offset: at },
    });
  }

  describeHere(): string {
    if (this.pos >= this.text.length) return 'end of input';
    return JSON.stringify(this.text[this.pos]);
  }

  skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
        this.pos++;
      } else if (c === 0x23 /* # */) {
        while (this.pos < t.length && t.charCodeAt(this.pos) !== 0x0a) this.pos++;
      } else {
        return;
      }
    }
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        return this.fail(`expected a value, found ${this.describeHere()}`);
    }
  }

  literal<T>(word: string, v: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return v;
    }
    return this.fail(`expected a value, found ${this.describeHere()}`);
  }

  number(): number {
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = this.pos;
    const found = m.exec(this.text);
    if (!found) return this.fail(`malformed number`);
    this.pos += found[0].length;
    return Number(found[0]);
  }

  string(): string {
    const start = this.pos;
    this.pos++; // opening quote
    let out = '';
    const t = this.text;
    for (;;) {
      if (this.pos >= t.length) return this.fail('unterminated string', start);
      const ch = t[this.pos]!;
      const code = ch.charCodeAt(0);
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (code < 0x20) return this.fail('control character in string (newlines must be written as \\n)');
      if (ch !== '\\') {
        out += ch;
        this.pos++;
        continue;
      }
      const esc = t[this.pos + 1];
      switch (esc) {
        case '"':
        case '\\':
        case '/':
          out += esc;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = t.slice(this.pos + 2, this.pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) return this.fail('malformed \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          return this.fail(`unknown escape "\\${esc ?? ''}"`);
      }
      this.pos += 2;
    }
  }

  array(depth: number): unknown[] {
    this.pos++; // [
    const out: unknown[] = [];
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      out.push(this.value(depth + 1));
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ']') {
        this.pos++;
        return out;
      }
      if (c !== ',') return this.fail(`expected "," or "]", found ${this.describeHere()}`);
      this.pos++;
      this.skipSpace();
      // The one relaxation on commas: "[a, b,]" (what the documented examples print).
      if (this.text[this.pos] === ']') {
        this.pos++;
        return out;
      }
    }
  }

  object(depth: number): Record<string, unknown> {
    this.pos++; // {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') return this.fail(`expected a quoted key, found ${this.describeHere()}`);
      const keyAt = this.pos;
      const key = this.string();
      if (seen.has(key)) this.fail(`duplicate key ${JSON.stringify(key)}`, keyAt);
      seen.add(key);
      this.skipSpace();
      if (this.text[this.pos] !== ':') return this.fail(`expected ":" after key ${JSON.stringify(key)}, found ${this.describeHere()}`);
      this.pos++;
      this.skipSpace();
      const v = this.value(depth + 1);
      // defineProperty, not assignment: a "__proto__" key must become data, not change the prototype.
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === '}') {
        this.pos++;
        return out;
      }
      if (c !== ',') return this.fail(`expected "," or "}", found ${this.describeHere()}`);
      this.pos++;
      this.skipSpace();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return out;
      }
    }
  }
}
