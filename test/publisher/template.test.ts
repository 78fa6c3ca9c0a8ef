/**
 * The template engine beyond the Go oracle corpus: struct data (the
 * publisher's own types: fields, methods, Stringers, unexported names),
 * line and column of every kind of error, features newer than the oracle's
 * Go (range over an integer, else with), the guards a long-running
 * publisher needs (output size, steps, template depth), and printf
 * details (half-to-even rounding, padding of composite values).
 */
import { describe, expect, it } from 'vitest';
import { IPNet, TemplateData } from '../../publisher/data.js';
import { sprintf, Template, TemplateError } from '../../publisher/template/index.js';

const render = (src: string, data: unknown = {}): string => Template.parse('t', src).execute(data);
const failure = (src: string, data: unknown = {}): TemplateError => {
  try {
    render(src, data);
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(src)} to fail`);
};

const net = (base: string, prefix: number): IPNet => {
  const [a, b, c, d] = base.split('.').map(Number) as [number, number, number, number];
  return new IPNet({ base: ((a << 24) >>> 0) + (b << 16) + (c << 8) + d, prefix });
};
const data = new TemplateData([net('10.112.0.0', 29), net('10.112.0.8', 29)], '65534', '192.168.20.1', '65000', new Map<string, unknown>([['k', 'v']]), 'node-a', '192.168.20.30');

describe('struct data (the publisher\'s types)', () => {
  it('prints IPNet through its String method and exposes IP, Mask, PrefixLen', () => {
    expect(render('{{range .Networks}}{{.}} {{.IP}} {{.Mask}} {{.PrefixLen}} {{.String}};{{end}}', data)).toBe(
      '10.112.0.0/29 10.112.0.0 fffffff8 29 10.112.0.0/29;10.112.0.8/29 10.112.0.8 fffffff8 29 10.112.0.8/29;',
    );
    expect(render('{{printf "%s|%v|%-16s|" (index .Networks 0) (index .Networks 1) (index .Networks 0)}}', data)).toBe('10.112.0.0/29|10.112.0.8/29|10.112.0.0/29   |');
    expect(render('{{.Networks}}', data)).toBe('[10.112.0.0/29 10.112.0.8/29]');
  });

  it('reads fields and Args entries', () => {
    expect(render('{{.LocalAS}} {{.NeighborIP}} {{.NeighborAS}} {{.NodeName}} {{.NodeIP}} {{.Args.k}} {{index .Args "k"}} {{.Args.nope}}', data)).toBe(
      '65534 192.168.20.1 65000 node-a 192.168.20.30 v v <no value>',
    );
  });

  it('names the type when a field does not exist, and refuses unexported names', () => {
    const e = failure('x\n  {{ .Network }}', data);
    expect(e.message).toBe('template: t:2:6: executing "t" at <.Network>: can\'t evaluate field Network in type publisher.Data');
    expect(e.line).toBe(2);
    expect(e.col).toBe(6);
    expect(failure('{{.toJSON}}', data).message).toContain('toJSON is an unexported field of struct type publisher.Data');
    expect(failure('{{.constructor}}', data).message).toContain('unexported');
    expect(failure('{{range .Networks}}{{.Nope}}{{end}}', data).message).toContain("can't evaluate field Nope in type *net.IPNet");
  });

  it('calls methods with arguments and the piped value', () => {
    const obj = { Add: (a: number, b: number) => a + b, Name: 'x' };
    expect(render('{{.Add 1 2}} {{2 | .Add 40}}', obj)).toBe('3 42');
    expect(failure('{{.Name 1}}', obj).message).toContain('Name has arguments but cannot be invoked as function');
  });
});

describe('errors name line and column', () => {
  const cases: Array<[string, number, number, string]> = [
    ['a\nb {{ .X', 2, 3, 'unclosed action'],
    ['{{if .T}}\n  x\n', 3, 1, 'unexpected EOF'],
    ['line\n\n   {{ nosuch 1 }}', 3, 7, 'function "nosuch" not defined'],
    ['{{ $x }}', 1, 4, 'undefined variable "$x"'],
    ['{{end}}', 1, 3, 'unexpected {{end}}'],
    ['{{ 3k }}', 1, 4, 'bad number syntax'],
    ['ab{{/* x }}', 1, 3, 'unclosed comment'],
    ['{{ "abc }}', 1, 4, 'unterminated quoted string'],
    ['{{range .L}}\n\t{{ index . 9 }}\n{{end}}', 2, 5, 'index out of range: 9'],
    ['é€{{ .L | len | printf "%d" | len | not | len }}', 1, 43, 'len of type bool'],
  ];
  for (const [src, line, col, text] of cases) {
    it(JSON.stringify(src), () => {
      const e = failure(src, { L: [[1]] });
      expect(e.message).toContain(text);
      expect([e.line, e.col]).toEqual([line, col]);
      expect(e.message.startsWith(`template: t:${line}:${col}: `)).toBe(true);
    });
  }
});

describe('newer Go features', () => {
  it('range over an integer (Go 1.22)', () => {
    expect(render('{{range 3}}{{.}}{{end}}|{{range $i := 2}}[{{$i}}]{{end}}|{{range 0}}x{{else}}none{{end}}')).toBe('012|[0][1]|none');
    expect(failure('{{range $i, $e := 3}}{{end}}').message).toContain("can't use 3 to iterate over more than one variable");
  });

  it('else with (Go 1.23) and chained else if', () => {
    expect(render('{{with .A}}a{{else with .B}}b={{.}}{{else}}none{{end}}', { A: 0, B: 'x' })).toBe('b=x');
    expect(render('{{if .A}}a{{else if .B}}b{{else if .C}}c{{else}}d{{end}}', { A: 0, B: '', C: [1] })).toBe('c');
    expect(failure('{{if .A}}{{else with .B}}{{end}}', {}).message).toContain('only {{else if}} may be chained');
  });

  it('break and continue leave only their own range', () => {
    expect(render('{{range .L}}{{range .}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}};{{end}}', { L: [[1, 2, 3], [4, 2, 5]] })).toBe('1;4;');
  });
});

describe('guards for a long-running publisher', () => {
  it('bounds output, steps and template depth', () => {
    const t = Template.parse('t', '{{range 1000}}xxxxxxxxxx{{end}}');
    expect(() => t.execute({}, { maxOutput: 5000 })).toThrow(/output exceeds 5000 characters/);
    expect(() => Template.parse('t', '{{range 100000}}{{end}}').execute({}, { maxSteps: 1000 })).toThrow(/exceeded 1000 evaluation steps/);
    expect(() => render('{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}')).toThrow(/exceeded maximum template depth \(1000\)/);
  });

  it('an error inside a defined template names that template', () => {
    expect(failure('{{define "inner"}}\n{{.Nope}}{{end}}{{template "inner" .}}', data).message).toMatch(/^template: t:2:3: executing "inner" at <\.Nope>/);
  });
});

describe('printf details', () => {
  it('rounds exact ties half to even, like Go', () => {
    expect(sprintf('%.1f %.1f %.0f %.0f %.2f %.1e', [2.25, 2.35, 0.5, 1.5, 1.005, 1.25])).toBe('2.2 2.4 0 2 1.00 1.2e+00');
  });
  it('pads the elements of composite values', () => {
    expect(sprintf('%3d|%-3v|%x', [[1, 2], ['a'], 'hi'])).toBe('[  1   2]|[a  ]|6869');
  });
  it('formats floats the way %v does in Go', () => {
    expect(sprintf('%v %v %v %v %v', [1.5, 0.000012, 1234567.5, 1e21 + 0.5, -0.25])).toBe('1.5 1.2e-05 1.2345675e+06 1e+21 -0.25');
  });
});
