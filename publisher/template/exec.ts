/**
 * Executes a parsed template against data, with text/template's semantics
 * (from its documentation): dot and `$`, variables scoped to their control
 * structure, pipelines passing each command's result as the next one's
 * last argument, fields of structs and keys of maps, methods with
 * arguments, if/with/range (with else, break, continue; maps in sorted key
 * order; integers count from 0), template/define/block, and the builtins.
 * A missing map key yields "no value" (printed "<no value>", false in
 * conditions), as Go's default `missingkey` option does.
 *
 * Errors name the template, line and column of the failing command and its
 * text: `template: NAME:L:C: executing "NAME" at <.Foo>: can't evaluate …`.
 *
 * Guards for a long-running publisher: output size, nesting depth of
 * {{template}} calls and total steps are bounded, so a runaway template
 * fails with an error instead of stalling or exhausting memory.
 *
 * Concurrency rule: pure; each execute() call has its own state.
 */
import { printValue } from './fmt.js';
import { BUILTINS, FuncError } from './funcs.js';
import { templateError, TemplateError, type Source } from './lex.js';
import type { Arg, Command, Node, ParsedTemplate, Pipe } from './parse.js';
import { isIntValue, isStruct, sortedKeys, stringer, truth, typeName } from './values.js';

export interface ExecLimits {
  /** Most characters of output (default 64 Mi). */
  maxOutput?: number;
  /** Deepest {{template}} nesting (default 1000). */
  maxDepth?: number;
  /** Most nodes and commands evaluated (default 50 million). */
  maxSteps?: number;
}

/** "No argument": the first command of a pipeline has no final (piped-in) value. */
const NO_FINAL: unique symbol = Symbol('no final');
type Final = unknown | typeof NO_FINAL;

const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');

interface Var {
  name: string;
  value: unknown;
}

class ExecFailure extends Error {}

class State {
  readonly out: string[] = [];
  outLen = 0;
  vars: Var[];
  depth = 0;
  steps = 0;
  /** The template being executed ({{template}} switches it), for messages. */
  current: string;
  /** What is being evaluated, for error messages. */
  at: { offset: number; text: string } = { offset: 0, text: '' };
  readonly maxOutput: number;
  readonly maxDepth: number;
  readonly maxSteps: number;

  constructor(
    readonly tmpl: ParsedTemplate,
    data: unknown,
    limits: ExecLimits,
  ) {
    this.vars = [{ name: '$', value: data }];
    this.current = tmpl.source.name;
    this.maxOutput = limits.maxOutput ?? 64 * 1024 * 1024;
    this.maxDepth = limits.maxDepth ?? 1000;
    this.maxSteps = limits.maxSteps ?? 50_000_000;
  }

  get src(): Source {
    return this.tmpl.source;
  }

  fail(reason: string): never {
    const e = templateError(this.src, this.at.offset, `executing ${JSON.stringify(this.current)} at <${this.at.text}>: ${reason}`, 'exec');
    throw e;
  }

  failAt(offset: number, reason: string): never {
    throw templateError(this.src, offset, `executing ${JSON.stringify(this.current)}: ${reason}`, 'exec');
  }

  step(): void {
    if (++this.steps > this.maxSteps) this.fail(`template exceeded ${this.maxSteps} evaluation steps`);
  }

  write(s: string): void {
    if (s === '') return;
    this.outLen += s.length;
    if (this.outLen > this.maxOutput) this.fail(`output exceeds ${this.maxOutput} characters`);
    this.out.push(s);
  }

  mark(): number {
    return this.vars.length;
  }

  pop(mark: number): void {
    this.vars.length = mark;
  }

  varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return this.fail(`undefined variable: ${name}`);
  }

  setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.fail(`undefined variable: ${name}`);
  }

  // ---------- walking ----------

  walkList(dot: unknown, list: readonly Node[]): void {
    for (const n of list) this.walk(dot, n);
  }

  walk(dot: unknown, node: Node): void {
    this.step();
    switch (node.kind) {
      case 'text':
        this.write(node.text);
        return;
      case 'action': {
        const v = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printResult(node.pipe, v);
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.mark();
        try {
          const v = this.evalPipeline(dot, node.pipe);
          if (truth(v)) this.walkList(node.kind === 'with' ? v : dot, node.list);
          else if (node.elseList) this.walkList(dot, node.elseList);
        } finally {
          this.pop(mark);
        }
        return;
      }
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'template':
        this.walkTemplate(dot, node);
        return;
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
    }
  }

  private printResult(pipe: Pipe, v: unknown): void {
    if (typeof v === 'function') {
      const last = pipe.cmds[pipe.cmds.length - 1]!;
      this.at = { offset: last.offset, text: last.text };
      this.fail(`can't print ${last.text} of type func`);
    }
    if (v === undefined || v === null) return this.write('<no value>');
    // Fast path for the common case, a Stringer such as an IPNet (one per announced prefix).
    const str = stringer(v);
    const s = str ? str.call(v) : undefined;
    this.write(typeof s === 'string' ? s : printValue(v));
  }

  private walkRange(dot: unknown, node: Extract<Node, { kind: 'range' }>): void {
    const mark0 = this.mark();
    try {
      const val = this.evalPipeline(dot, node.pipe);
      const mark = this.mark();
      const decl = node.pipe.decl;
      const one = (key: unknown, elem: unknown): boolean => {
        this.step();
        if (decl.length === 1) {
          if (node.pipe.isAssign) this.setVar(decl[0]!, elem);
          else this.vars[mark - 1]!.value = elem;
        } else if (decl.length === 2) {
          if (node.pipe.isAssign) {
            this.setVar(decl[0]!, key);
            this.setVar(decl[1]!, elem);
          } else {
            this.vars[mark - 2]!.value = key;
            this.vars[mark - 1]!.value = elem;
          }
        }
        try {
          this.walkList(elem, node.list);
        } catch (e) {
          if (e === BREAK) return false;
          if (e !== CONTINUE) throw e;
        } finally {
          this.pop(mark);
        }
        return true;
      };
      let ran = false;
      if (Array.isArray(val)) {
        for (let i = 0; i < val.length; i++) {
          ran = true;
          if (!one(i, val[i])) break;
        }
      } else if (val instanceof Map) {
        for (const k of sortedKeys(val)) {
          ran = true;
          if (!one(k, val.get(k))) break;
        }
      } else if (typeof val === 'number') {
        if (!isIntValue(val)) this.rangeFail(node.pipe, `range can't iterate over ${printValue(val)}`);
        if (decl.length > 1) this.rangeFail(node.pipe, `can't use ${printValue(val)} to iterate over more than one variable`);
        for (let i = 0; i < val; i++) {
          ran = true;
          if (!one(i, i)) break;
        }
      } else if (val === undefined || val === null) {
        // Nothing to iterate (a missing key, nil): the else branch, as in Go.
      } else {
        this.rangeFail(node.pipe, `range can't iterate over ${printValue(val)}`);
      }
      if (!ran && node.elseList) this.walkList(dot, node.elseList);
    } finally {
      this.pop(mark0);
    }
  }

  private rangeFail(pipe: Pipe, reason: string): never {
    const last = pipe.cmds[pipe.cmds.length - 1]!;
    this.at = { offset: last.offset, text: last.text };
    return this.fail(reason);
  }

  private walkTemplate(dot: unknown, node: Extract<Node, { kind: 'template' }>): void {
    const list = this.tmpl.defines.get(node.name);
    if (list === undefined) this.failAt(node.offset, `no such template ${JSON.stringify(node.name)}`);
    const newDot = node.pipe === null ? undefined : this.evalPipeline(dot, node.pipe);
    if (this.depth >= this.maxDepth) this.failAt(node.offset, `exceeded maximum template depth (${this.maxDepth})`);
    const saved = this.vars;
    const savedName = this.current;
    this.vars = [{ name: '$', value: newDot }];
    this.current = node.name;
    this.depth++;
    try {
      this.walkList(newDot, list!);
    } finally {
      this.depth--;
      this.vars = saved;
      this.current = savedName;
    }
  }

  // ---------- evaluation ----------

  evalPipeline(dot: unknown, pipe: Pipe): unknown {
    let value: Final = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, value);
      else this.vars.push({ name, value });
    }
    return value;
  }

  private evalCommand(dot: unknown, cmd: Command, final: Final): unknown {
    this.step();
    const first = cmd.args[0]!;
    this.at = { offset: cmd.offset, text: cmd.text };
    switch (first.kind) {
      case 'field':
        return this.evalFieldChain(dot, dot, first, first.names, cmd.args, final);
      case 'chain': {
        const base = this.evalArg(dot, first.node);
        this.at = { offset: cmd.offset, text: cmd.text };
        return this.evalFieldChain(dot, base, first, first.names, cmd.args, final);
      }
      case 'identifier':
        return this.evalFunction(dot, first.name, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first.pipe);
      case 'variable': {
        const v = this.varValue(first.name);
        if (first.names.length === 0) {
          this.notAFunction(cmd.args, final);
          return v;
        }
        return this.evalFieldChain(dot, v, first, first.names, cmd.args, final);
      }
      default:
        break;
    }
    this.notAFunction(cmd.args, final);
    switch (first.kind) {
      case 'bool':
      case 'number':
      case 'string':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return this.fail('nil is not a command');
    }
    return this.fail(`can't evaluate command ${cmd.text}`);
  }

  private notAFunction(args: readonly Arg[], final: Final): void {
    if (args.length > 1 || final !== NO_FINAL) this.fail(`can't give argument to non-function ${args[0]!.text}`);
  }

  /** Evaluates an argument of a command (no arguments of its own). */
  private evalArg(dot: unknown, arg: Arg): unknown {
    this.step();
    const saved = this.at;
    this.at = { offset: arg.offset, text: arg.text };
    try {
      switch (arg.kind) {
        case 'dot':
          return dot;
        case 'nil':
          return null;
        case 'field':
          return this.evalFieldChain(dot, dot, arg, arg.names, [arg], NO_FINAL);
        case 'variable': {
          const v = this.varValue(arg.name);
          return arg.names.length === 0 ? v : this.evalFieldChain(dot, v, arg, arg.names, [arg], NO_FINAL);
        }
        case 'pipe':
          return this.evalPipeline(dot, arg.pipe);
        case 'identifier':
          return this.evalFunction(dot, arg.name, null, [arg], NO_FINAL);
        case 'chain': {
          const base = this.evalArg(dot, arg.node);
          return this.evalFieldChain(dot, base, arg, arg.names, [arg], NO_FINAL);
        }
        case 'bool':
        case 'number':
        case 'string':
          return arg.value;
      }
    } finally {
      this.at = saved;
    }
  }

  private evalFieldChain(dot: unknown, receiver: unknown, _node: Arg, names: readonly string[], args: readonly Arg[], final: Final): unknown {
    let r = receiver;
    for (let i = 0; i < names.length - 1; i++) r = this.evalField(dot, names[i]!, [], NO_FINAL, r);
    return this.evalField(dot, names[names.length - 1]!, args, final, r);
  }

  private evalField(dot: unknown, name: string, args: readonly Arg[], final: Final, receiver: unknown): unknown {
    // Nothing (a missing key further up): nothing, as Go's default missingkey option gives.
    if (receiver === undefined) return undefined;
    if (receiver === null) this.fail(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 1 || final !== NO_FINAL;
    if (receiver instanceof Map) {
      if (hasArgs) this.fail(`${name} is not a method but has arguments`);
      return receiver.get(name);
    }
    if (isStruct(receiver) && typeof receiver !== 'function') {
      if (!/^\p{Lu}/u.test(name)) this.fail(`${name} is an unexported field of struct type ${typeName(receiver)}`);
      // Own data properties are fields; functions (own or inherited, except Object's) are methods.
      const own = Object.prototype.hasOwnProperty.call(receiver, name);
      let v: unknown;
      if (own) v = (receiver as Record<string, unknown>)[name];
      else {
        let proto = Object.getPrototypeOf(receiver) as object | null;
        while (proto !== null && proto !== Object.prototype) {
          if (Object.prototype.hasOwnProperty.call(proto, name)) {
            v = (receiver as Record<string, unknown>)[name];
            break;
          }
          proto = Object.getPrototypeOf(proto) as object | null;
        }
        if (proto === null || proto === Object.prototype) this.fail(`can't evaluate field ${name} in type ${typeName(receiver)}`);
      }
      if (typeof v === 'function') return this.evalCall(dot, (v as (...a: unknown[]) => unknown).bind(receiver), name, args, final, null);
      if (hasArgs) this.fail(`${name} has arguments but cannot be invoked as function`);
      return v;
    }
    return this.fail(`can't evaluate field ${name} in type ${typeName(receiver)}`);
  }

  /** Calls a method or a builtin with the command's remaining arguments plus the piped-in final value. */
  private evalCall(dot: unknown, fn: (...a: unknown[]) => unknown, name: string, args: readonly Arg[], final: Final, builtin: { min: number; variadic: boolean } | null): unknown {
    const argv: unknown[] = [];
    for (const a of args.slice(1)) argv.push(this.evalArg(dot, a));
    if (final !== NO_FINAL) argv.push(final);
    if (builtin) {
      const ok = builtin.variadic ? argv.length >= builtin.min : argv.length === builtin.min;
      if (!ok) this.fail(`wrong number of args for ${name}: want ${builtin.variadic ? 'at least ' : ''}${builtin.min} got ${argv.length}`);
    }
    try {
      return fn(...argv);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      return this.fail(`error calling ${name}: ${(e as Error).message}`);
    }
  }

  private evalFunction(dot: unknown, name: string, _cmd: Command | null, args: readonly Arg[], final: Final): unknown {
    if (name === 'and' || name === 'or') {
      // Evaluated left to right, stopping at the first argument that decides the result.
      const rest = args.slice(1);
      if (rest.length === 0 && final === NO_FINAL) this.fail(`wrong number of args for ${name}: want at least 1 got 0`);
      let v: unknown;
      for (const a of rest) {
        v = this.evalArg(dot, a);
        if (truth(v) === (name === 'or')) return v;
      }
      if (final !== NO_FINAL) v = final;
      return v;
    }
    const b = BUILTINS.get(name);
    if (b === undefined) return this.fail(`function ${JSON.stringify(name)} not defined`);
    return this.evalCall(dot, (...a: unknown[]) => b.fn(a), name, args, final, b);
  }
}

/** Runs the template on `data`; throws TemplateError (phase 'exec') on failure. */
export function execute(tmpl: ParsedTemplate, data: unknown, limits: ExecLimits = {}): string {
  const st = new State(tmpl, data, limits);
  try {
    st.walkList(data, tmpl.root);
  } catch (e) {
    if (e === BREAK || e === CONTINUE) throw new ExecFailure('break/continue outside range');
    if (e instanceof FuncError) throw st.fail(e.message);
    if (e instanceof RangeError) throw st.fail(`evaluation failed: ${e.message}`);
    throw e;
  }
  return st.out.join('');
}

