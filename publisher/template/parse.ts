/**
 * Parser for Go `text/template` source (see lex.ts), producing the tree
 * exec.ts walks. Grammar and parse-time checks follow the language's
 * documentation:
 *
 *   {{pipeline}}  {{if p}} … {{else if p}} … {{else}} … {{end}}
 *   {{range p}} … {{else}} … {{end}}   {{range $i, $e := p}}   {{break}} {{continue}}
 *   {{with p}} … {{else with p}} … {{else}} … {{end}}
 *   {{define "n"}} … {{end}}   {{template "n" p}}   {{block "n" p}} … {{end}}
 *   pipeline  = [decl] command { "|" command }      decl = $x := | $x = | $i, $e :=
 *   command   = operand { space operand }
 *   operand   = term { .Field }                     (a chain: (p).A.B, $x.A, .A.B)
 *   term      = .Field | . | $var | identifier (function) | literal | nil | ( pipeline )
 *
 * Checked here (as Go does at parse time): unknown functions, undefined
 * variables, misplaced {{else}}/{{end}}/{{break}}, empty commands and
 * pipelines, constants as later pipeline stages, missing {{end}}. Every
 * error carries the line and column of the offending token.
 *
 * Concurrency rule: pure.
 */
import { lex, Source, templateError, type Token } from './lex.js';

export interface Pos {
  /** Offset in the source (see Source.position). */
  readonly offset: number;
}

export type Arg =
  | (Pos & { kind: 'field'; names: string[]; text: string })
  | (Pos & { kind: 'dot'; text: string })
  | (Pos & { kind: 'variable'; name: string; names: string[]; text: string })
  | (Pos & { kind: 'identifier'; name: string; text: string })
  | (Pos & { kind: 'chain'; node: Arg; names: string[]; text: string })
  | (Pos & { kind: 'pipe'; pipe: Pipe; text: string })
  | (Pos & { kind: 'string'; value: string; text: string })
  | (Pos & { kind: 'number'; value: number; text: string })
  | (Pos & { kind: 'bool'; value: boolean; text: string })
  | (Pos & { kind: 'nil'; text: string });

export interface Command extends Pos {
  readonly args: Arg[];
  readonly text: string;
}

export interface Pipe extends Pos {
  /** Declared or assigned variable names ($x). */
  readonly decl: string[];
  readonly isAssign: boolean;
  readonly cmds: Command[];
}

export type Node =
  | { kind: 'text'; text: string }
  | (Pos & { kind: 'action'; pipe: Pipe })
  | (Pos & { kind: 'if' | 'with'; pipe: Pipe; list: Node[]; elseList: Node[] | null })
  | (Pos & { kind: 'range'; pipe: Pipe; list: Node[]; elseList: Node[] | null })
  | (Pos & { kind: 'template'; name: string; pipe: Pipe | null })
  | (Pos & { kind: 'break' | 'continue' });

export interface ParsedTemplate {
  readonly source: Source;
  /** The top-level template (named after the source). */
  readonly root: Node[];
  /** {{define}}/{{block}} templates by name. */
  readonly defines: Map<string, Node[]>;
}

/** Names the parser accepts as functions (exec.ts implements them). */
export type FunctionTable = ReadonlySet<string>;

class Parser {
  private i = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  readonly defines = new Map<string, Node[]>();

  constructor(
    private readonly src: Source,
    private readonly toks: Token[],
    private readonly funcs: FunctionTable,
  ) {}

  private fail(offset: number, reason: string): never {
    throw templateError(this.src, offset, reason);
  }

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  private skipSpace(): void {
    while (this.peek().kind === 'space') this.i++;
  }

  private nextNonSpace(): Token {
    this.skipSpace();
    return this.next();
  }

  private peekNonSpace(): Token {
    let k = 0;
    while (this.peek(k).kind === 'space') k++;
    return this.peek(k);
  }

  private describe(t: Token): string {
    if (t.kind === 'eof') return 'EOF';
    if (t.kind === 'right') return '"}}"';
    return `<${t.raw}>`;
  }

  private expectRight(context: string): void {
    const t = this.nextNonSpace();
    if (t.kind !== 'right') this.fail(t.offset, `unexpected ${this.describe(t)} in ${context}`);
  }

  parseRoot(): Node[] {
    const list: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return list;
      if (t.kind === 'left' && this.peekNonSpaceAt(1).kind === 'keyword' && this.peekNonSpaceAt(1).value === 'define') {
        this.parseDefine();
        continue;
      }
      const n = this.textOrAction();
      if (n.kind === 'end' || n.kind === 'else') this.fail(n.offset, `unexpected {{${n.kind}}}`);
      list.push(n.node!);
    }
  }

  private peekNonSpaceAt(k: number): Token {
    while (this.peek(k).kind === 'space') k++;
    return this.peek(k);
  }

  private parseDefine(): void {
    this.next(); // {{
    this.nextNonSpace(); // define
    const nameTok = this.nextNonSpace();
    if (nameTok.kind !== 'string') this.fail(nameTok.offset, 'define clause: expected a quoted template name');
    this.expectRight('define clause');
    const saved = this.vars;
    this.vars = ['$'];
    const { list, end } = this.itemList('define');
    if (end !== 'end') this.fail(this.peek().offset, 'unexpected {{else}} in define');
    this.vars = saved;
    this.addDefine(nameTok, list);
  }

  private addDefine(nameTok: Token, list: Node[]): void {
    const old = this.defines.get(nameTok.value);
    // Go lets an empty definition be replaced, and a non-empty one replace an empty one.
    const empty = (l: Node[]): boolean => l.every((n) => n.kind === 'text' && n.text.trim() === '');
    if (old !== undefined && !empty(old) && !empty(list)) this.fail(nameTok.offset, `template: multiple definition of template ${JSON.stringify(nameTok.value)}`);
    if (old === undefined || !empty(list)) this.defines.set(nameTok.value, list);
  }

  /** Nodes until {{end}} or {{else}}; returns which one ended the list (consumed up to its keyword). */
  private itemList(context: string): { list: Node[]; end: 'end' | 'else'; endOffset: number } {
    const list: Node[] = [];
    for (;;) {
      if (this.peek().kind === 'eof') this.fail(this.peek().offset, `unexpected EOF: {{${context}}} has no {{end}}`);
      const r = this.textOrAction();
      if (r.kind === 'end' || r.kind === 'else') return { list, end: r.kind, endOffset: r.offset };
      list.push(r.node!);
    }
  }

  private textOrAction(): { kind: 'node' | 'end' | 'else'; node?: Node; offset: number } {
    const t = this.next();
    if (t.kind === 'text') return { kind: 'node', node: { kind: 'text', text: t.value }, offset: t.offset };
    if (t.kind !== 'left') this.fail(t.offset, `unexpected ${this.describe(t)} in input`);
    return this.action(t);
  }

  private action(left: Token): { kind: 'node' | 'end' | 'else'; node?: Node; offset: number } {
    const t = this.peekNonSpace();
    if (t.kind === 'keyword') {
      switch (t.value) {
        case 'end':
          this.nextNonSpace();
          this.expectRight('end');
          return { kind: 'end', offset: t.offset };
        case 'else':
          // {{else}} or {{else if …}} / {{else with …}}: leave "if"/"with" to the caller.
          this.nextNonSpace();
          if (this.peekNonSpace().kind === 'keyword' && (this.peekNonSpace().value === 'if' || this.peekNonSpace().value === 'with')) {
            return { kind: 'else', offset: t.offset };
          }
          this.expectRight('else');
          return { kind: 'else', offset: t.offset };
        case 'if':
        case 'with':
        case 'range':
          this.nextNonSpace();
          return { kind: 'node', node: this.control(t.value, t.offset), offset: t.offset };
        case 'template':
          this.nextNonSpace();
          return { kind: 'node', node: this.templateCall(t), offset: t.offset };
        case 'block':
          this.nextNonSpace();
          return { kind: 'node', node: this.block(t), offset: t.offset };
        case 'break':
        case 'continue':
          this.nextNonSpace();
          if (this.rangeDepth === 0) this.fail(t.offset, `{{${t.value}}} outside {{range}}`);
          this.expectRight(t.value);
          return { kind: 'node', node: { kind: t.value, offset: t.offset }, offset: t.offset };
        case 'define':
          this.fail(t.offset, 'unexpected <define> in command: {{define}} is only allowed at the top level');
      }
    }
    const pipe = this.pipeline('command', 'right');
    return { kind: 'node', node: { kind: 'action', offset: left.offset, pipe }, offset: left.offset };
  }

  /** if / with / range: pipeline, list, optional else (chained "else if"/"else with"), end. */
  private control(kind: 'if' | 'with' | 'range', offset: number): Node {
    const mark = this.vars.length;
    const pipe = this.pipeline(kind, 'right');
    if (kind === 'range') this.rangeDepth++;
    const { list, end } = this.itemList(kind);
    if (kind === 'range') this.rangeDepth--;
    let elseList: Node[] | null = null;
    if (end === 'else') {
      const k = this.peekNonSpace();
      if (k.kind === 'keyword' && (k.value === 'if' || k.value === 'with') && kind !== 'range') {
        // "{{else if p}}" is "{{else}}{{if p}} … {{end}}{{end}}" sharing one {{end}}.
        if (k.value !== kind) this.fail(k.offset, `{{else ${k.value}}} after {{${kind}}}: only {{else ${kind}}} may be chained`);
        this.nextNonSpace();
        elseList = [this.control(k.value, k.offset)];
      } else {
        if (k.kind === 'keyword' && (k.value === 'if' || k.value === 'with')) this.fail(k.offset, `{{else ${k.value}}} is not allowed in {{range}}`);
        const r = this.itemList(kind);
        if (r.end !== 'end') this.fail(r.endOffset, `expected end; found {{else}}`);
        elseList = r.list;
      }
    }
    this.vars.length = mark;
    return kind === 'range' ? { kind, offset, pipe, list, elseList } : { kind, offset, pipe, list, elseList };
  }

  private templateName(context: string): Token {
    const t = this.nextNonSpace();
    if (t.kind !== 'string') this.fail(t.offset, `unexpected ${this.describe(t)} in ${context} clause: expected a quoted template name`);
    return t;
  }

  private templateCall(kw: Token): Node {
    const name = this.templateName('template');
    let pipe: Pipe | null = null;
    if (this.peekNonSpace().kind !== 'right') pipe = this.pipeline('template', 'right');
    else this.expectRight('template clause');
    return { kind: 'template', offset: kw.offset, name: name.value, pipe };
  }

  private block(kw: Token): Node {
    const name = this.templateName('block');
    let pipe: Pipe | null = null;
    if (this.peekNonSpace().kind !== 'right') pipe = this.pipeline('block', 'right');
    else this.expectRight('block clause');
    const saved = this.vars;
    const savedDepth = this.rangeDepth;
    this.vars = ['$'];
    this.rangeDepth = 0;
    const { list, end, endOffset } = this.itemList('block');
    if (end !== 'end') this.fail(endOffset, 'unexpected {{else}} in block');
    this.vars = saved;
    this.rangeDepth = savedDepth;
    this.addDefine(name, list);
    return { kind: 'template', offset: kw.offset, name: name.value, pipe };
  }

  /** A pipeline up to (and consuming) `end` ("right" for }}, "rparen" for a parenthesised one). */
  private pipeline(context: string, end: 'right' | 'rparen'): Pipe {
    const start = this.peekNonSpace();
    const decl: string[] = [];
    let isAssign = false;
    // Declarations: $x := | $x = | (range only) $i, $e :=
    const v = this.peekNonSpace();
    if (v.kind === 'variable') {
      const save = this.i;
      this.nextNonSpace();
      const n = this.peekNonSpace();
      if (n.kind === 'declare' || n.kind === 'assign') {
        this.nextNonSpace();
        isAssign = n.kind === 'assign';
        if (isAssign && !this.vars.includes(v.value)) this.fail(v.offset, `undefined variable ${JSON.stringify(v.value)}`);
        decl.push(v.value);
      } else if (n.kind === 'comma') {
        this.nextNonSpace();
        if (context !== 'range') this.fail(n.offset, `too many declarations in ${context}`);
        const v2 = this.nextNonSpace();
        if (v2.kind !== 'variable') this.fail(v2.offset, 'range can only initialize variables');
        const op = this.nextNonSpace();
        if (op.kind !== 'declare' && op.kind !== 'assign') this.fail(op.offset, `unexpected ${this.describe(op)} in range: expected := or =`);
        isAssign = op.kind === 'assign';
        for (const x of [v, v2]) if (isAssign && !this.vars.includes(x.value)) this.fail(x.offset, `undefined variable ${JSON.stringify(x.value)}`);
        decl.push(v.value, v2.value);
      } else {
        this.i = save;
      }
    }
    const cmds: Command[] = [];
    for (;;) {
      const t = this.peekNonSpace();
      if (t.kind === end) {
        this.nextNonSpace();
        break;
      }
      if (t.kind === 'eof' || (end === 'rparen' && t.kind === 'right')) this.fail(t.offset, end === 'rparen' ? 'unclosed left paren' : 'unclosed action');
      if (t.kind === 'pipe') this.fail(t.offset, cmds.length === 0 ? 'missing value for command' : 'missing command after "|"');
      cmds.push(this.command(end));
      const after = this.peekNonSpace();
      // A trailing "|" before the closing delimiter is accepted, as Go does.
      if (after.kind === 'pipe') this.nextNonSpace();
    }
    if (!isAssign) for (const d of decl) this.vars.push(d);
    if (cmds.length === 0) this.fail(start.offset, `missing value for ${context}`);
    for (let k = 1; k < cmds.length; k++) {
      const a = cmds[k]!.args[0]!;
      if (a.kind === 'bool' || a.kind === 'dot' || a.kind === 'nil' || a.kind === 'number' || a.kind === 'string') {
        this.fail(a.offset, `non executable command in pipeline stage ${k + 1}`);
      }
    }
    return { offset: start.offset, decl, isAssign, cmds };
  }

  private command(end: 'right' | 'rparen'): Command {
    const args: Arg[] = [];
    const first = this.peekNonSpace();
    for (;;) {
      this.skipSpace();
      const t = this.peek();
      if (t.kind === end || t.kind === 'pipe' || t.kind === 'eof' || t.kind === 'right') break;
      const op = this.operand();
      if (op === null) this.fail(t.offset, `unexpected ${this.describe(t)} in operand`);
      args.push(op);
      const after = this.peek();
      if (after.kind === 'space' || after.kind === end || after.kind === 'pipe' || after.kind === 'right') continue;
      this.fail(after.offset, `unexpected ${this.describe(after)} in operand`);
    }
    if (args.length === 0) this.fail(first.offset, 'missing value for command');
    const last = args[args.length - 1]!;
    const text = this.src.text.slice(first.offset, last.offset + last.text.length);
    return { offset: first.offset, args, text };
  }

  private operand(): Arg | null {
    const node = this.term();
    if (node === null) return null;
    if (this.peek().kind !== 'field') return node;
    const names: string[] = [];
    let endOff = node.offset + node.text.length;
    while (this.peek().kind === 'field') {
      const f = this.next();
      names.push(f.value);
      endOff = f.offset + f.raw.length;
    }
    const text = this.src.text.slice(node.offset, endOff);
    switch (node.kind) {
      case 'field':
        return { kind: 'field', offset: node.offset, names: [...node.names, ...names], text };
      case 'variable':
        return { kind: 'variable', offset: node.offset, name: node.name, names: [...node.names, ...names], text };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return this.fail(node.offset + node.text.length, `unexpected . after term ${JSON.stringify(node.text)}`);
      default:
        return { kind: 'chain', offset: node.offset, node, names, text };
    }
  }

  private term(): Arg | null {
    const t = this.peek();
    switch (t.kind) {
      case 'identifier':
        this.next();
        if (!this.funcs.has(t.value)) this.fail(t.offset, `function ${JSON.stringify(t.value)} not defined`);
        return { kind: 'identifier', offset: t.offset, name: t.value, text: t.raw };
      case 'dot':
        this.next();
        return { kind: 'dot', offset: t.offset, text: '.' };
      case 'nil':
        this.next();
        return { kind: 'nil', offset: t.offset, text: 'nil' };
      case 'variable':
        this.next();
        if (!this.vars.includes(t.value)) this.fail(t.offset, `undefined variable ${JSON.stringify(t.value)}`);
        return { kind: 'variable', offset: t.offset, name: t.value, names: [], text: t.raw };
      case 'field':
        this.next();
        return { kind: 'field', offset: t.offset, names: [t.value], text: t.raw };
      case 'bool':
        this.next();
        return { kind: 'bool', offset: t.offset, value: t.value === 'true', text: t.raw };
      case 'char':
        this.next();
        return { kind: 'number', offset: t.offset, value: Number(t.value), text: t.raw };
      case 'number': {
        this.next();
        return { kind: 'number', offset: t.offset, value: parseGoNumber(t.raw, (r) => this.fail(t.offset, r)), text: t.raw };
      }
      case 'string':
        this.next();
        return { kind: 'string', offset: t.offset, value: t.value, text: t.raw };
      case 'lparen': {
        this.next();
        const pipe = this.pipeline('parenthesized pipeline', 'rparen');
        const close = this.toks[this.i - 1]!;
        return { kind: 'pipe', offset: t.offset, pipe, text: this.src.text.slice(t.offset, close.offset + 1) };
      }
      default:
        return null;
    }
  }
}

/** Value of a Go number literal (ints in any base, floats, underscores); complex numbers are refused. */
export function parseGoNumber(text: string, fail: (reason: string) => never): number {
  if (text.endsWith('i')) return fail(`complex number ${JSON.stringify(text)} is not supported`);
  let sign = 1;
  let t = text;
  if (t[0] === '+' || t[0] === '-') {
    if (t[0] === '-') sign = -1;
    t = t.slice(1);
  }
  const bad = (): never => fail(`bad number syntax: ${JSON.stringify(text)}`);
  // Underscores only between digits (or after a base prefix).
  if (/^_|_$|__/.test(t) || /_\./.test(t) || /\._/.test(t)) bad();
  const prefixed = /^0[xXoObB]/.test(t);
  if (t.includes('_') && !prefixed && !/^[0-9_]+(\.[0-9_]*)?([eE][+-]?[0-9_]+)?$/.test(t)) bad();
  const clean = t.replace(/_/g, '');
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(clean)) v = parseInt(clean.slice(2), 16);
  else if (/^0[oO][0-7]+$/.test(clean)) v = parseInt(clean.slice(2), 8);
  else if (/^0[bB][01]+$/.test(clean)) v = parseInt(clean.slice(2), 2);
  else if (/^0[0-7]+$/.test(clean)) v = parseInt(clean.slice(1), 8); // legacy octal, as in Go
  else if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(clean)) v = Number(clean);
  else return bad();
  if (!Number.isFinite(v)) bad();
  return sign * v;
}

export function parseTemplate(name: string, text: string, funcs: FunctionTable): ParsedTemplate {
  const source = new Source(name, text);
  const p = new Parser(source, lex(source), funcs);
  const root = p.parseRoot();
  return { source, root, defines: p.defines };
}
