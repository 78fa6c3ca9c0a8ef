/**
 * Go `text/template` for BIRD configuration templates: parse once, execute
 * with data. See lex.ts (syntax), parse.ts (grammar and parse-time checks),
 * exec.ts (semantics), funcs.ts and fmt.ts (builtins), values.ts (how
 * JavaScript values stand in for Go values).
 *
 * Concurrency rule: pure; a Template may be executed any number of times,
 * also concurrently.
 */
import { execute, type ExecLimits } from './exec.js';
import { FUNCTION_NAMES } from './funcs.js';
import { parseTemplate, type ParsedTemplate } from './parse.js';

export { TemplateError } from './lex.js';
export { GO_TYPE, type GoTyped } from './values.js';
export { sprintf, printValue } from './fmt.js';
export type { ExecLimits } from './exec.js';

export class Template {
  private constructor(private readonly parsed: ParsedTemplate) {}

  /** Parses `text`; throws TemplateError (phase 'parse') naming the line and column. */
  static parse(name: string, text: string): Template {
    return new Template(parseTemplate(name, text, FUNCTION_NAMES));
  }

  get name(): string {
    return this.parsed.source.name;
  }

  /** Names of the {{define}}d templates. */
  get defined(): string[] {
    return [...this.parsed.defines.keys()];
  }

  /** Renders with `data` as dot and `$`; throws TemplateError (phase 'exec') naming the line and column. */
  execute(data: unknown, limits?: ExecLimits): string {
    return execute(this.parsed, data, limits);
  }
}
