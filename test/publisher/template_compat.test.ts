/**
 * Differential test against Go: every case of fixtures/template_corpus.json
 * (seed and reference examples, trimming, comments, literals, range/if/with,
 * variables, pipelines, builtins, printf, define/template/block, and error
 * cases) was run through Go's own text/template by go_oracle/main.go (Go
 * 1.19, Debian's golang-go); golden/go_oracle.json holds what Go produced.
 * Our engine must produce the same text, and fail (in the same phase:
 * parse or exec) where Go fails. Data is the corpus JSON decoded the way
 * Go decodes JSON into interface{} (objects are maps).
 *
 * Deliberate differences, listed here so they cannot grow silently:
 * complex number literals are refused; `range` over an integer counts
 * (Go ≥ 1.22; the oracle is 1.19).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsonToTemplateValue } from '../../publisher/data.js';
import { Template, TemplateError } from '../../publisher/template/index.js';

interface Case {
  name: string;
  tmpl: string;
  data: unknown;
}
interface GoResult {
  name: string;
  output?: string;
  phase?: 'parse' | 'exec';
  error?: string;
}

const cases = JSON.parse(readFileSync(new URL('./fixtures/template_corpus.json', import.meta.url), 'utf8')) as Case[];
const oracle = JSON.parse(readFileSync(new URL('./golden/go_oracle.json', import.meta.url), 'utf8')) as GoResult[];
const DIFFERENT: Record<string, string> = {
  'lit-complex': 'complex literals are refused',
  'range-over-int-var': 'range over an integer (Go 1.22 semantics)',
};

function run(c: Case): { output?: string; error?: TemplateError } {
  try {
    return { output: Template.parse('t', c.tmpl).execute(jsonToTemplateValue(c.data)) };
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    return { error: e };
  }
}

describe('text/template compatibility with Go (oracle corpus)', () => {
  it('the oracle covers the corpus', () => {
    expect(oracle.map((o) => o.name)).toEqual(cases.map((c) => c.name));
    expect(cases.length).toBeGreaterThan(150);
  });

  for (const [i, c] of cases.entries()) {
    const o = oracle[i]!;
    if (DIFFERENT[c.name]) {
      it(`${c.name}: known difference (${DIFFERENT[c.name]})`, () => {
        const r = run(c);
        expect(r.output !== undefined ? r.output : r.error!.phase).not.toEqual(o.output ?? o.phase);
      });
      continue;
    }
    it(c.name, () => {
      const r = run(c);
      if (o.error !== undefined) {
        expect(r.error, `Go failed with: ${o.error}`).toBeDefined();
        expect(r.error!.phase).toBe(o.phase);
        // Every error names the line and column.
        expect(r.error!.message).toMatch(/^template: t:\d+:\d+: /);
      } else {
        expect(r.error?.message).toBeUndefined();
        expect(r.output).toBe(o.output ?? ''); // Go's side omits empty output
      }
    });
  }
});
