/**
 * Lexer for the Go `text/template` language (the subset operators write in
 * BIRD templates, which is nearly all of it), written from the language's
 * documentation: text, `{{ }}` actions, `{{- ` / ` -}}` whitespace
 * trimming, `{{/* comments *\/}}`, and inside actions fields, variables,
 * identifiers, keywords, strings (interpreted, raw, char), numbers in Go
 * syntax, `|`, `(`, `)`, `:=`, `=`, `,`.
 *
 * Design: one pass over the source producing a flat token array (the
 * parser looks ahead a few tokens, so an array beats a coroutine). Every
 * token carries its byte offset; `Source.position(offset)` turns offsets
 * into 1-based line and column for error messages. Trimming is applied
 * here: the text token before `{{- ` loses its trailing white space, the
 * text after ` -}}` its leading white space (space, tab, CR, LF — Go's
 * definition). Actions may span lines (Go ≥ 1.16).
 *
 * Concurrency rule: pure.
 */

export type TokenKind =
  | 'text'
  | 'left' // {{
  | 'right' // }}
  | 'space'
  | 'field' // .Name
  | 'dot' // .
  | 'variable' // $ or $name
  | 'identifier'
  | 'keyword' // block break continue define else end if range template with
  | 'bool'
  | 'nil'
  | 'string' // value already unquoted
  | 'char' // value = the code point as decimal text
  | 'number'
  | 'pipe'
  | 'lparen'
  | 'rparen'
  | 'declare' // :=
  | 'assign' // =
  | 'comma'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Source text (for strings: the unquoted value). */
  readonly value: string;
  /** Byte offset (UTF-16 index) of the token's first character. */
  readonly offset: number;
  /** The source text the token spans (quotes included). */
  readonly raw: string;
}

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);

/** White space as text/template trims it. */
export function isTrimSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function isAlnum(c: string | undefined): boolean {
  if (c === undefined) return false;
  return c === '_' || /^[\p{L}\p{Nd}]$/u.test(c);
}

/** A template's source with line lookups for error positions. */
export class Source {
  private readonly lineStarts: number[] = [0];

  constructor(
    readonly name: string,
    readonly text: string,
  ) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  /** 1-based line and column (in characters) of an offset. */
  position(offset: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.lineStarts[lo]! + 1 };
  }
}

/** A template syntax or execution error; the message starts with "template: NAME:LINE:COL: ". */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly templateName: string,
    readonly line: number,
    readonly col: number,
    /** The problem without the position prefix. */
    readonly reason: string,
    readonly phase: 'parse' | 'exec',
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

export function templateError(src: Source, offset: number, reason: string, phase: 'parse' | 'exec' = 'parse'): TemplateError {
  const { line, col } = src.position(offset);
  return new TemplateError(`template: ${src.name}:${line}:${col}: ${reason}`, src.name, line, col, reason, phase);
}

const LEFT = '{{';
const RIGHT = '}}';

/** Tokenises the whole template; throws a TemplateError at the first lexical error. */
export function lex(src: Source): Token[] {
  const s = src.text;
  const out: Token[] = [];
  let pos = 0;
  /** The previous action ended with " -}}": trim the next text's leading space. */
  let trimNext = false;
  const fail = (offset: number, reason: string): never => {
    throw templateError(src, offset, reason);
  };

  while (pos <= s.length) {
    const open = s.indexOf(LEFT, pos);
    const textEnd = open < 0 ? s.length : open;
    let textStart = pos;
    if (trimNext) while (textStart < textEnd && isTrimSpace(s[textStart])) textStart++;
    trimNext = false;
    const trimLeft = open >= 0 && s[open + 2] === '-' && isTrimSpace(s[open + 3]);
    let end = textEnd;
    if (trimLeft) while (end > textStart && isTrimSpace(s[end - 1])) end--;
    if (end > textStart) out.push({ kind: 'text', value: s.slice(textStart, end), offset: textStart, raw: s.slice(textStart, end) });
    if (open < 0) break;

    let p = open + LEFT.length + (trimLeft ? 2 : 0);
    // Comment: must follow the delimiter (and trim marker) directly and end at the closing one.
    if (s.startsWith('/*', p)) {
      const close = s.indexOf('*/', p + 2);
      if (close < 0) fail(open, 'unclosed comment');
      p = close + 2;
      if (isTrimSpace(s[p]) && s[p + 1] === '-' && s.startsWith(RIGHT, p + 2)) {
        trimNext = true;
        pos = p + 2 + RIGHT.length;
      } else if (s.startsWith(RIGHT, p)) {
        pos = p + RIGHT.length;
      } else {
        fail(p, 'comment ends before closing delimiter');
      }
      continue;
    }

    out.push({ kind: 'left', value: LEFT, offset: open, raw: s.slice(open, p) });
    let parenDepth = 0;
    for (;;) {
      if (p >= s.length) fail(open, 'unclosed action');
      // Right delimiter, with or without trim marker (checked before white space, as Go does).
      if (isTrimSpace(s[p]) && s[p + 1] === '-' && s.startsWith(RIGHT, p + 2)) {
        if (parenDepth > 0) fail(p, 'unclosed left paren');
        out.push({ kind: 'right', value: RIGHT, offset: p, raw: s.slice(p, p + 4) });
        trimNext = true;
        p += 4;
        break;
      }
      if (s.startsWith(RIGHT, p)) {
        if (parenDepth > 0) fail(p, 'unclosed left paren');
        out.push({ kind: 'right', value: RIGHT, offset: p, raw: RIGHT });
        p += 2;
        break;
      }
      const c = s[p]!;
      const start = p;
      const push = (kind: TokenKind, value: string, rawEnd: number): void => {
        out.push({ kind, value, offset: start, raw: s.slice(start, rawEnd) });
        p = rawEnd;
      };
      if (isTrimSpace(c)) {
        let q = p;
        while (q < s.length && isTrimSpace(s[q]) && !(s[q + 1] === '-' && s.startsWith(RIGHT, q + 2))) q++;
        if (q === p) q = p + 1; // a lone space before " -}}" is consumed by the trim check above next round
        push('space', ' ', q);
        continue;
      }
      if (c === '/' && s[p + 1] === '*') fail(p, 'comment must start at the opening delimiter: {{/* ... */}}');
      if (c === '|') {
        push('pipe', '|', p + 1);
        continue;
      }
      if (c === ',') {
        push('comma', ',', p + 1);
        continue;
      }
      if (c === '(') {
        parenDepth++;
        push('lparen', '(', p + 1);
        continue;
      }
      if (c === ')') {
        parenDepth--;
        if (parenDepth < 0) fail(p, 'unexpected right paren');
        push('rparen', ')', p + 1);
        continue;
      }
      if (c === ':') {
        if (s[p + 1] !== '=') fail(p, 'expected :=');
        push('declare', ':=', p + 2);
        continue;
      }
      if (c === '=') {
        push('assign', '=', p + 1);
        continue;
      }
      if (c === '"') {
        const { value, end } = lexQuoted(s, p, fail);
        push('string', value, end);
        continue;
      }
      if (c === '`') {
        const close = s.indexOf('`', p + 1);
        if (close < 0) fail(p, 'unterminated raw quoted string');
        // Go drops carriage returns from raw strings.
        push('string', s.slice(p + 1, close).replace(/\r/g, ''), close + 1);
        continue;
      }
      if (c === "'") {
        const { value, end } = lexChar(s, p, fail);
        push('char', String(value), end);
        continue;
      }
      if (c === '$') {
        let q = p + 1;
        while (isAlnum(s[q])) q++;
        push('variable', s.slice(p, q), q);
        checkTerminator(s, p, fail);
        continue;
      }
      if (c === '.' && !(s[p + 1] !== undefined && s[p + 1]! >= '0' && s[p + 1]! <= '9')) {
        let q = p + 1;
        while (isAlnum(s[q])) q++;
        if (q === p + 1) push('dot', '.', q);
        else push('field', s.slice(p + 1, q), q);
        checkTerminator(s, p, fail);
        continue;
      }
      if (c === '+' || c === '-' || c === '.' || (c >= '0' && c <= '9')) {
        const q = scanNumber(s, p);
        if (q === p || isAlnum(s[q]) || (q === p + 1 && (c === '+' || c === '-'))) {
          let e = q;
          while (isAlnum(s[e]) || s[e] === '.') e++;
          fail(p, `bad number syntax: ${JSON.stringify(s.slice(p, Math.max(e, p + 1)))}`);
        }
        push('number', s.slice(p, q), q);
        continue;
      }
      if (isAlnum(c)) {
        let q = p;
        while (isAlnum(s[q])) q++;
        const word = s.slice(p, q);
        if (KEYWORDS.has(word)) push('keyword', word, q);
        else if (word === 'true' || word === 'false') push('bool', word, q);
        else if (word === 'nil') push('nil', word, q);
        else push('identifier', word, q);
        checkTerminator(s, p, fail);
        continue;
      }
      fail(p, `unrecognized character in action: ${JSON.stringify(c)}`);
    }
    pos = p;
  }
  out.push({ kind: 'eof', value: '', offset: s.length, raw: '' });
  return out;
}

/** After a field, variable or word ending at `end`: only a separator may follow (Go's "bad character" check). */
function checkTerminator(s: string, end: number, fail: (o: number, r: string) => never): void {
  const c = s[end];
  if (c === undefined || isTrimSpace(c) || c === '.' || c === ',' || c === '|' || c === ':' || c === ')' || c === '(' || c === '=' || s.startsWith(RIGHT, end)) return;
  fail(end, `bad character ${JSON.stringify(c)}`);
}

/** End of a Go number literal starting at p (sign, base prefix, digits with underscores, fraction, exponent, 'i'). */
function scanNumber(s: string, p: number): number {
  let q = p;
  if (s[q] === '+' || s[q] === '-') q++;
  let digits = '0123456789_';
  let expChars = 'eE';
  if (s[q] === '0' && /[xXoObB]/.test(s[q + 1] ?? '')) {
    const b = s[q + 1]!.toLowerCase();
    q += 2;
    digits = b === 'x' ? '0123456789abcdefABCDEF_' : b === 'o' ? '01234567_' : '01_';
    if (b === 'x') expChars = 'pP';
    else expChars = '';
  }
  const run = (set: string): void => {
    while (q < s.length && set.includes(s[q]!)) q++;
  };
  run(digits);
  if (s[q] === '.') {
    q++;
    run(digits);
  }
  if (expChars !== '' && expChars.includes(s[q] ?? '\0')) {
    q++;
    if (s[q] === '+' || s[q] === '-') q++;
    run('0123456789_');
  }
  if (s[q] === 'i') q++;
  return q;
}

function lexQuoted(s: string, p: number, fail: (o: number, r: string) => never): { value: string; end: number } {
  let q = p + 1;
  let out = '';
  for (;;) {
    const c = s[q];
    if (c === undefined || c === '\n') fail(p, 'unterminated quoted string');
    if (c === '"') return { value: out, end: q + 1 };
    if (c === '\\') {
      const r = unescape(s, q, '"', fail);
      out += r.text;
      q = r.end;
      continue;
    }
    out += c;
    q++;
  }
}

function lexChar(s: string, p: number, fail: (o: number, r: string) => never): { value: number; end: number } {
  let q = p + 1;
  let text: string;
  if (s[q] === '\\') {
    const r = unescape(s, q, "'", fail);
    text = r.text;
    q = r.end;
  } else {
    const cp = s.codePointAt(q);
    if (cp === undefined || s[q] === '\n' || s[q] === "'") fail(p, 'malformed character constant');
    text = String.fromCodePoint(cp!);
    q += text.length;
  }
  if (s[q] !== "'") fail(p, 'unterminated character constant');
  return { value: text.codePointAt(0)!, end: q + 1 };
}

/** One Go escape sequence at s[q] === '\\'. */
function unescape(s: string, q: number, quote: string, fail: (o: number, r: string) => never): { text: string; end: number } {
  const e = s[q + 1];
  const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
  if (e !== undefined && simple[e] !== undefined) return { text: simple[e]!, end: q + 2 };
  if (e === quote) return { text: quote, end: q + 2 };
  const hex = (n: number): { text: string; end: number } => {
    const h = s.slice(q + 2, q + 2 + n);
    if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) fail(q, 'invalid escape sequence in string');
    const v = parseInt(h, 16);
    if (n > 2 && (v > 0x10ffff || (v >= 0xd800 && v < 0xe000))) fail(q, 'escape sequence is invalid Unicode code point');
    // \xNN is a byte in Go; bytes above 0x7f cannot be represented alone in a JS string, so they map to U+00NN.
    return { text: String.fromCodePoint(v), end: q + 2 + n };
  };
  if (e === 'x') return hex(2);
  if (e === 'u') return hex(4);
  if (e === 'U') return hex(8);
  if (e !== undefined && e >= '0' && e <= '7') {
    const o = s.slice(q + 1, q + 4);
    if (!/^[0-7]{3}$/.test(o) || parseInt(o, 8) > 255) fail(q, 'invalid octal escape in string');
    return { text: String.fromCodePoint(parseInt(o, 8)), end: q + 4 };
  }
  return fail(q, 'unknown escape sequence in string');
}
