/**
 * `romana policy simulate`: the well-known Kubernetes network-policy
 * recipes of test/fixtures/simulate (each directory: policy file +
 * expected.json, written from the policy's meaning, not from the tool's
 * output) through the real binary with `-f json`; then table output, input
 * shapes and errors in-process.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROBE_TEXT, DEFAULT_SEGMENT_LABEL_TEXT } from '../../src/cli/commands/simulate.js';
import type { CliIo } from '../../src/cli/io.js';
import { simulateText } from '../../src/cli/render/simulate.js';
import { runCli } from '../../src/cli/run.js';
import { DEFAULT_PROBE, DEFAULT_SEGMENT_LABEL, probeText, type ProbeResult } from '../../src/core/firewall/index.js';
import { REPO } from '../helpers/daemon.js';
import { expectGolden } from './golden.js';
import { cleanupHomes, runRomana } from './helpers.js';

const FIXTURES = path.join(REPO, 'test/fixtures/simulate');
const CLUSTER = path.join(FIXTURES, 'cluster.yaml');
const RECIPES = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

interface Expected {
  probes: Array<{ protocol: string; port?: number | string; matrix: Record<string, Record<string, boolean>> }>;
}

function recipeArgs(name: string): string[] {
  const dir = path.join(FIXTURES, name);
  const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected;
  const policies = readdirSync(dir).filter((f) => f.startsWith('policy.'));
  return [
    ...policies.flatMap((f) => ['--policies', path.join(dir, f)]),
    ...expected.probes.flatMap((p) => ['--probe', p.port === undefined ? p.protocol : `${p.protocol}/${p.port}`]),
  ];
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'romana-simulate-'));
afterAll(() => {
  cleanupHomes();
  rmSync(tmp, { recursive: true, force: true });
});

describe('recipes through the real binary (-f json)', () => {
  it('has the recipes the netns tests reuse', () => {
    expect(RECIPES).toEqual([
      'allow-namespace-by-label',
      'allow-pods-and-ports',
      'allow-same-namespace',
      'deny-all',
      'deny-egress-except-dns',
      'ipblock-except',
      'named-port-and-range',
      'no-policies',
      'romana-tenant',
      'romana-v2-segments',
    ]);
  });

  for (const name of RECIPES) {
    it(`${name}: the exact expected matrices`, async () => {
      const r = await runRomana(['policy', 'simulate', '-f', 'json', '--cluster', CLUSTER, ...recipeArgs(name)]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const expected = JSON.parse(readFileSync(path.join(FIXTURES, name, 'expected.json'), 'utf8')) as unknown;
      expect(JSON.parse(r.stdout)).toEqual(expected);
      // Exactly that shape, key order included: probes in argument order, pods sorted.
      expect(r.stdout).toBe(`${JSON.stringify(expected, null, 2)}\n`);
    });
  }
});

interface Captured {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[], columns?: number): Promise<Captured> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    readStdin: async () => '',
    stdinIsTty: false,
    readFile: (p) => readFile(p, 'utf8'),
    columns,
    env: { HOME: '/nonexistent-home' },
    systemConfigFile: '/nonexistent/cli.yaml',
  };
  const code = await runCli(argv, io);
  return { code, out, err };
}

function file(name: string, text: string): string {
  const p = path.join(tmp, name);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const matrixOf = (r: Captured, i = 0) => (JSON.parse(r.out) as Expected).probes[i]!.matrix;

describe('romana policy simulate', () => {
  it('probes tcp/80 when no probe is given (and says so in its help)', async () => {
    expect(DEFAULT_PROBE_TEXT).toBe(probeText(DEFAULT_PROBE));
    expect(DEFAULT_SEGMENT_LABEL_TEXT).toBe(DEFAULT_SEGMENT_LABEL);
    const r = await run(['-f', 'json', 'policy', 'simulate', '--cluster', CLUSTER]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as Expected).probes.map((p) => [p.protocol, p.port])).toEqual([['tcp', 80]]);
    expect((await run(['policy', 'simulate', '--help'])).out).toMatch(/repeatable \(default tcp\/80\)/);
  });

  it('prints one matrix per probe in 80 columns, with a legend', async () => {
    const r = await run(['policy', 'simulate', '--cluster', CLUSTER, ...recipeArgs('deny-egress-except-dns')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const line of r.out.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expectGolden('simulate_table', r.out);
  });

  it('splits wide matrices into column blocks that fit the width', () => {
    const pods = Array.from({ length: 30 }, (_, i) => `ns/pod-${String(i).padStart(2, '0')}`);
    const matrix = Object.fromEntries(pods.map((s, i) => [s, Object.fromEntries(pods.map((d, j) => [d, (i + j) % 3 !== 0]))]));
    const probe: ProbeResult = { protocol: 'udp', port: 53, matrix };
    const text = simulateText([probe], 40);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(40);
    // 30 columns of 3 characters after a 7-character label: 11 per block, so 3 blocks.
    expect(text.match(/^from\\to/gm)).toHaveLength(3);
    // Row 1, column 30 (the last cell of the last block) is (0 + 29) % 3 ≠ 0: reachable.
    const lastBlockRow1 = text.split('\n').filter((l) => /^\s+1 /.test(l)).at(-1)!;
    expect(lastBlockRow1.trimEnd().endsWith('Y')).toBe(true);
    expect(simulateText([{ protocol: 'tcp', port: 80, matrix: {} }], 80)).toMatch(/^No pods to simulate/);
  });

  it('reads several YAML documents, JSON, Romana policies and policy directories', async () => {
    const cluster = file(
      'docs.yaml',
      [
        'apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {team: x}}',
        'apiVersion: v1\nkind: Pod\nmetadata: {name: p1, namespace: a, labels: {app: web}}\nspec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}\nstatus: {podIP: 10.0.0.1}',
        'apiVersion: v1\nkind: Pod\nmetadata: {name: p2, namespace: b}\nspec: {nodeName: n2}\nstatus: {podIP: 10.0.0.2}',
        'apiVersion: v1\nkind: Pod\nmetadata: {name: pending, namespace: b}\nspec: {}\nstatus: {phase: Pending}',
        'apiVersion: v1\nkind: Service\nmetadata: {name: ignored, namespace: a}',
        '',
      ].join('\n---\n'),
    );
    // A directory: a K8s policy in JSON (without namespace: "default" would not select a/p1, so give one), a Romana one, and a file to skip.
    file('pols/k8s.json', JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web', namespace: 'a' }, spec: { podSelector: {}, ingress: [{ ports: [{ port: 'http' }] }] } }));
    file('pols/sub/romana.json', JSON.stringify({ securitypolicies: [{ name: 'b-deny', direction: 'ingress', applied_to: [{ tenant: 'b' }], peers: [{ peer: 'any' }], rules: [{ protocol: 'udp', ports: [1] }] }] }));
    file('pols/README.txt', 'not a policy');
    const r = await run(['-f', 'json', 'policy', 'simulate', '--cluster', cluster, '--policies', path.join(tmp, 'pols'), '--probe', 'tcp/http', '--probe', 'tcp/8080', '--probe', 'udp/1']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // p1's "http" is 8080 and open to all; p2 has no port named http; b is isolated by the Romana policy except udp/1.
    expect(matrixOf(r, 0)).toEqual({ 'a/p1': { 'a/p1': true, 'b/p2': false }, 'b/p2': { 'a/p1': true, 'b/p2': true } });
    expect(matrixOf(r, 1)).toEqual({ 'a/p1': { 'a/p1': true, 'b/p2': false }, 'b/p2': { 'a/p1': true, 'b/p2': true } });
    expect(matrixOf(r, 2)).toEqual({ 'a/p1': { 'a/p1': true, 'b/p2': true }, 'b/p2': { 'a/p1': false, 'b/p2': true } });
    const table = await run(['policy', 'simulate', '--cluster', cluster]);
    expect(table.out).toContain('Note: left out (no Romana veth): b/pending: not scheduled to a node');
  });

  it('gives a NetworkPolicy without a namespace the default namespace', async () => {
    const cluster = file('default-ns.yaml', 'kind: Pod\nmetadata: {name: x, namespace: default}\nspec: {nodeName: n1}\nstatus: {podIP: 10.0.0.1}\n---\nkind: Pod\nmetadata: {name: y, namespace: default}\nspec: {nodeName: n1}\nstatus: {podIP: 10.0.0.2}\n');
    const pol = file('deny.yaml', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n');
    const r = await run(['-f', 'json', 'policy', 'simulate', '--cluster', cluster, '--policies', pol]);
    expect(matrixOf(r)).toEqual({ 'default/x': { 'default/x': true, 'default/y': false }, 'default/y': { 'default/x': false, 'default/y': true } });
  });

  it('warns about an invalid Kubernetes policy and simulates it failing closed', async () => {
    const pol = file('bad.yaml', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: prod}\nspec:\n  podSelector: {matchLabels: {app: api}}\n  ingress:\n  - ports: [{port: 70000}]\n');
    const r = await run(['-f', 'json', 'policy', 'simulate', '--cluster', CLUSTER, '--policies', pol]);
    expect(r.code).toBe(0);
    expect(r.err).toBe(`romana: warning: NetworkPolicy in ${pol} at spec.ingress[0].ports[0].port: must be an integer 1-65535 or a port name\n`);
    const m = matrixOf(r);
    expect(Object.entries(m).filter(([s, row]) => s !== 'prod/api' && row['prod/api'])).toEqual([]);
    expect(m['prod/api']!['prod/web']).toBe(true);
  });

  it('refuses bad input with one usage line and exit 2', async () => {
    const usage = (r: Captured, re: RegExp) => {
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err.trimEnd().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(re);
    };
    usage(await run(['policy', 'simulate']), /required option '--cluster <file>' not specified/);
    usage(await run(['policy', 'simulate', '--cluster', CLUSTER, '--probe', 'tcp']), /invalid probe "tcp".*\(INVALID_ARGUMENT\)/);
    usage(await run(['policy', 'simulate', '--cluster', CLUSTER, '--probe', 'tcp/70000']), /port must be 1-65535/);
    usage(await run(['policy', 'simulate', '--cluster', CLUSTER, '--probe', 'tcp/Bad_Name']), /a port name is/);
    usage(await run(['policy', 'simulate', '--cluster', path.join(tmp, 'missing.yaml')]), /Cannot read ".*missing.yaml": no such file/);
    usage(await run(['policy', 'simulate', '--cluster', CLUSTER, '--policies', path.join(tmp, 'nowhere')]), /Cannot read the policies ".*nowhere": no such file or directory/);
    usage(await run(['policy', 'simulate', '--cluster', file('broken.yaml', 'a: [1, 2')]), /is not valid YAML or JSON: .*\(INVALID_JSON\)/);
    const badRomana = file('bad-romana.json', JSON.stringify({ securitypolicies: [{ name: 'x', direction: 'sideways', applied_to: [{ tenant: 't' }], peers: [{ peer: 'any' }], rules: [{ protocol: 'tcp' }] }] }));
    usage(await run(['policy', 'simulate', '--cluster', CLUSTER, '--policies', badRomana]), /Invalid Romana policy in .*bad-romana.json: \$\.securitypolicies\[0\]\.direction: .*\(VALIDATION_FAILED\)/);
  });
});
