/**
 * Rendered configurations: every shipped example (deploy/publisher/examples:
 * the seed's BIRD 1.x files verbatim and their BIRD 2 equivalents) rendered
 * for node-a of a small cluster (scenario.ts) in every aggregation mode,
 * compared with golden files, and parsed by the BIRD each is written for —
 * `bird -p` of BIRD 2.0.12 for the BIRD 2 files, of an unpacked BIRD 1.6.8
 * for the seed's (CI installs it; see .ci/setup-debian.sh) — together with
 * the example bird.conf whose include they are loaded through.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { birdParse } from '../../publisher/bird.js';
import { buildTemplateData, type AggregateMode, type DataOptions } from '../../publisher/data.js';
import { birdCheckWrapper, findBinary, poolAggregator } from '../../publisher/run.js';
import { Template } from '../../publisher/template/index.js';
import { REPO } from '../helpers/daemon.js';
import { expectGolden } from './golden.js';
import { BIRD16, TEMPLATES } from './helpers.js';
import { scenario } from './scenario.js';

const state = scenario().state;
const BIRD2 = findBinary('bird') ? 'bird' : null;
const HAVE_BIRD16 = existsSync(BIRD16);
const SEED = path.join(REPO, '../shared/seed/000_cd8e673e563d9dde.txt');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'romana-publisher-golden-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function render(example: string, opts: Partial<DataOptions> = {}): Promise<string> {
  const text = readFileSync(path.join(TEMPLATES, example), 'utf8');
  const data = await buildTemplateData(state, { node: 'node-a', ...opts }, poolAggregator);
  return Template.parse(path.basename(example), text).execute(data);
}

/** `bird -p` on the rendered text loaded through the example bird.conf's include. */
async function birdAccepts(bin: string, birdConf: string, rendered: string, name: string): Promise<{ ok: boolean; message: string }> {
  const file = path.join(tmp, `${name}.rendered.conf`);
  writeFileSync(file, rendered);
  const main = path.join(tmp, `${name}.bird.conf`);
  writeFileSync(main, birdCheckWrapper(file, readFileSync(path.join(TEMPLATES, birdConf), 'utf8')));
  return birdParse(bin, main);
}

const BIRD2_CASES: Array<[string, string, Partial<DataOptions>]> = [
  ['bird2/publisher-bgp.conf', 'bird2-bgp.conf', {}],
  ['bird2/publisher-ospf.conf', 'bird2-ospf.conf', {}],
  ['bird2/publisher-bgp-neighbor.conf', 'bird2-bgp-neighbor-ebgp.conf', { localAs: '65001', neighborIp: '192.168.20.1', neighborAs: '65000' }],
  ['bird2/publisher-bgp-neighbor.conf', 'bird2-bgp-neighbor-ibgp.conf', { neighborIp: '192.168.20.1' }],
  ['bird2/publisher-prefix-groups.conf', 'bird2-prefix-groups.conf', {}],
  ...(['blocks', 'cluster', 'group'] as AggregateMode[]).map((m): [string, string, Partial<DataOptions>] => ['bird2/publisher-ospf.conf', `bird2-ospf-aggregate-${m}.conf`, { aggregate: m }]),
];

describe('BIRD 2 examples', () => {
  for (const [example, golden, opts] of BIRD2_CASES) {
    it(`${example} → ${golden}${BIRD2 ? ' (bird -p accepts it)' : ''}`, async () => {
      const out = await render(example, opts);
      expectGolden(golden, out);
      expect(BIRD2, 'bird2 must be installed (apt-get install bird2)').not.toBeNull();
      const r = await birdAccepts(BIRD2!, 'bird2/bird.conf', out, golden);
      expect(r.message).toBe('');
      expect(r.ok).toBe(true);
    });
  }

  it('with no blocks the static protocol is empty and still valid', async () => {
    const data = await buildTemplateData(state, { node: 'not-registered' }, poolAggregator);
    const out = Template.parse('x', readFileSync(path.join(TEMPLATES, 'bird2/publisher-bgp.conf'), 'utf8')).execute(data);
    expect(out).toContain('protocol static romana_routes {\n    ipv4;\n}\n');
    expect((await birdAccepts(BIRD2!, 'bird2/bird.conf', out, 'empty')).ok).toBe(true);
  });
});

describe('the seed\'s BIRD 1.x examples', () => {
  for (const name of ['bird.conf', 'publisher-bgp.conf', 'publisher-ospf.conf']) {
    it(`bird1/${name} is the seed's text verbatim`, (ctx) => {
      if (!existsSync(SEED)) ctx.skip();
      expect(readFileSync(SEED, 'utf8')).toContain(readFileSync(path.join(TEMPLATES, 'bird1', name), 'utf8').trimEnd());
    });
  }

  for (const example of ['publisher-bgp.conf', 'publisher-ospf.conf']) {
    it(`bird1/${example} renders as documented and BIRD 1.6 accepts it`, async (ctx) => {
      const out = await render(`bird1/${example}`);
      expectGolden(`bird1-${example}`, out);
      // The documented shape: one "route <block> reject;" line per block, between the range's blank lines.
      expect(out).toContain('protocol static romana_routes {\n    \n    route 10.112.0.0/29 reject;\n    \n    route 10.112.0.8/29 reject;\n');
      if (!HAVE_BIRD16) {
        if (process.env.CI) throw new Error(`BIRD 1.6 is missing at ${BIRD16}: .ci/setup-debian.sh unpacks it`);
        ctx.skip();
      }
      const r = await birdAccepts(BIRD16, 'bird1/bird.conf', out, `bird1-${example}`);
      expect(r.message).toBe('');
    });

    it(`bird1/${example} is BIRD 1.x syntax: BIRD 2 rejects it (hence the BIRD 2 equivalents)`, async () => {
      const r = await birdAccepts(BIRD2!, 'bird1/bird.conf', await render(`bird1/${example}`), `bird1-on-2-${example}`);
      expect(r.ok).toBe(false);
      expect(r.message).toMatch(/syntax error|Channel not specified/);
    });
  }
});

describe('the data model', () => {
  it('node-a\'s data, as JSON (the shape render --data reads)', async () => {
    const data = await buildTemplateData(state, { node: 'node-a', localAs: '65001', args: new Map([['rack', 'r1']]) }, poolAggregator);
    expectGolden('node-a.data.json', `${JSON.stringify(data, null, 2)}\n`);
  });
});
