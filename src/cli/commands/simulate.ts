/**
 * `romana policy simulate`: what traffic the rendered firewall would let
 * through, without a cluster or a daemon.
 *
 * Reads Kubernetes objects (namespaces, pods, network policies) as
 * `kubectl get ns,pods,netpol -A -o yaml` prints them, adds the policies of
 * `--policies` (Kubernetes YAML/JSON or Romana policy JSON, files or
 * directories), renders every node's iptables rules and ipsets with the
 * same code the agent uses, and evaluates one packet per (sender, receiver,
 * probe) against them (src/core/firewall/simulate.ts).
 *
 * Input problems (unreadable files, invalid Romana policies, bad probes)
 * are usage errors: nothing is simulated. An invalid Kubernetes policy is a
 * warning on stderr: it is simulated as the agent would enforce it (its
 * pods isolated, nothing allowed by it), so the matrix still shows its
 * effect.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import type { Probe, SourcedObject } from '../../core/firewall/index.js';
import type { RomanaPolicy } from '../../core/policy/index.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { helpAfter } from './common.js';

/*
 * The engine, the YAML parser and the renderer are loaded when the command
 * runs: every other command (and --help) starts without them.
 */
const engine = () => import('../../core/firewall/index.js');

/** Same values as DEFAULT_PROBE and DEFAULT_SEGMENT_LABEL of the engine (checked by test/cli/simulate.test.ts). */
export const DEFAULT_PROBE_TEXT = 'tcp/80';
export const DEFAULT_SEGMENT_LABEL_TEXT = 'romana.io/segment';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
const POLICY_FILE = /\.(ya?ml|json)$/i;

export function registerPolicySimulate(program: Command, ctx: CommandContext): void {
  const policy = program.commands.find((c) => c.name() === 'policy');
  if (!policy) throw new Error('the policy command group must be registered first');
  policy
    .command('simulate')
    .summary('Show which pods could reach which under the rendered firewall rules.')
    .description(
      'Show which pods could reach which: renders the iptables rules and ipsets of every node, exactly as romana-agent would, ' +
        'and evaluates one packet per sender, receiver and probe against them. No daemon or cluster is contacted.',
    )
    .requiredOption('--cluster <file>', 'namespaces, pods and network policies: the output of `kubectl get ns,pods,netpol -A -o yaml` (a List, or several YAML documents)')
    .option('--policies <path>', 'more policies: a Kubernetes NetworkPolicy YAML/JSON or Romana policy JSON file, or a directory of them (*.yaml, *.yml, *.json); repeatable', collect)
    .option('--probe <probe>', `traffic to try: tcp/PORT, udp/PORT, sctp/PORT, icmp; PORT may be a port name, resolved per receiving pod; repeatable (default ${DEFAULT_PROBE_TEXT})`, collect)
    .option('--segment-label <label>', 'pod label holding the Romana segment', DEFAULT_SEGMENT_LABEL_TEXT)
    .addHelpText(
      'after',
      helpAfter(
        [
          'romana policy simulate --cluster cluster.yaml',
          'romana policy simulate --cluster cluster.yaml --policies new.yaml \\',
          '    --probe tcp/80 --probe udp/53',
          'romana policy simulate --cluster cluster.yaml --probe tcp/http -f json',
        ],
        'The cluster file: kubectl get ns,pods,netpol -A -o yaml > cluster.yaml',
        'JSON (-f json): {"probes": [{"protocol": "tcp", "port": 80, "matrix": {"<ns>/<pod>": {"<ns>/<pod>": true|false}}}]}: outer key the sender, inner key the receiver, every pod in both; probes in argument order ("port" is absent for icmp, a string for a port name).',
        'A pod always reaches itself (its own traffic never leaves its network namespace). Traffic between pods on different nodes must pass the egress rules of the sender\'s node and the ingress rules of the receiver\'s. A named-port probe fails for a receiver without that port. Pods on the host network, without an address or finished are left out.',
        'Invalid Kubernetes policies are reported on stderr and simulated as enforced: their pods isolated, nothing allowed by them.',
      ),
    )
    .action(async (opts: { cluster: string; policies?: string[]; probe?: string[]; segmentLabel: string }, cmd: Command) => {
      await ctx.local(cmd, async () => {
        const { collectKubeObjects, DEFAULT_PROBE, parseProbe, simulate, simulatedView } = await engine();
        const { simulateText } = await import('../render/simulate.js');
        const probes: Probe[] = (opts.probe ?? []).map((t) => {
          const p = parseProbe(t);
          if ('error' in p) throw new UsageError(p.error);
          return p;
        });
        if (probes.length === 0) probes.push(DEFAULT_PROBE);

        const kube: SourcedObject[] = await readObjects(opts.cluster, ctx);
        const romana: RomanaPolicy[] = [];
        for (const p of opts.policies ?? []) {
          for (const file of await policyFiles(p)) {
            for (const o of await readObjects(file, ctx)) {
              if (isKubeDocument(o.object)) kube.push(o);
              else romana.push(...(await romanaPolicies(o, romana.length)));
            }
          }
        }
        const objs = collectKubeObjects(kube);
        const view = simulatedView(objs, romana, opts.segmentLabel);
        const result = simulate(view, probes, { segmentLabel: opts.segmentLabel });
        for (const prob of [...objs.problems, ...result.problems]) ctx.io.stderr(`romana: warning: ${problemText(prob, objs.k8sPolicySources)}\n`);
        const notes = objs.skipped.length === 0 ? [] : [`left out (no Romana veth): ${objs.skipped.join('; ')}`];
        const json = { probes: result.probes.map((r) => ({ protocol: r.protocol, ...(r.port !== undefined ? { port: r.port } : {}), matrix: r.matrix })) };
        return { json, text: (w: number) => simulateText(result.probes, w, notes) };
      });
    });
}

/** Rewrites `$.k8sPolicies[3].spec…` into `<where it came from>: spec…`. */
function problemText(p: { path: string; message: string }, sources: readonly string[]): string {
  const m = /^\$\.k8sPolicies\[(\d+)\]\.?(.*)$/.exec(p.path);
  if (m) {
    const src = sources[Number(m[1])] ?? '?';
    return `NetworkPolicy in ${src}${m[2] ? ` at ${m[2]}` : ''}: ${p.message}`;
  }
  return `${p.path}: ${p.message}`;
}

/** A path, or the policy files of a directory (recursively, in name order). */
async function policyFiles(p: string): Promise<string[]> {
  let st;
  try {
    st = await stat(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`Cannot read the policies ${JSON.stringify(p)}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  if (!st.isDirectory()) return [p];
  const out: string[] = [];
  const entries = (await readdir(p, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = path.join(p, e.name);
    if (e.isDirectory()) out.push(...(await policyFiles(full)));
    else if (POLICY_FILE.test(e.name)) out.push(full);
  }
  return out;
}

/** Every YAML (or JSON, which is YAML) document of a file, with where it came from. */
async function readObjects(file: string, ctx: CommandContext): Promise<SourcedObject[]> {
  let text: string;
  try {
    text = await ctx.io.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new UsageError(`Cannot read ${JSON.stringify(file)}: ${why}`);
  }
  const { parseAllDocuments } = await import('yaml');
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const out: SourcedObject[] = [];
  list.forEach((d, i) => {
    const err = d.errors[0];
    if (err) throw new UsageError(`${JSON.stringify(file)} is not valid YAML or JSON: ${err.message}`, 'INVALID_JSON');
    const object: unknown = d.toJS();
    if (object === null || object === undefined) return;
    out.push({ object, source: list.length > 1 ? `${file} document ${i + 1}` : file });
  });
  return out;
}

/** Kubernetes objects carry `kind`; Romana policy documents never do. */
function isKubeDocument(o: unknown): boolean {
  if (Array.isArray(o)) return o.length > 0 && o.every((x) => typeof x === 'object' && x !== null && 'kind' in x);
  return typeof o === 'object' && o !== null && 'kind' in o;
}

async function romanaPolicies(o: SourcedObject, already: number): Promise<RomanaPolicy[]> {
  const { parsePolicyDocument } = await import('../../core/policy/index.js');
  let n = already;
  const parsed = parsePolicyDocument(o.object, { newId: () => `simulated-${++n}` });
  if (parsed.problems.length > 0) {
    const shown = parsed.problems.slice(0, 3).map((p) => `${p.path}: ${p.message}`).join('; ');
    const more = parsed.problems.length > 3 ? ` (and ${parsed.problems.length - 3} more)` : '';
    throw new UsageError(`Invalid Romana policy in ${o.source}: ${shown}${more}`, 'VALIDATION_FAILED');
  }
  return parsed.policies;
}
