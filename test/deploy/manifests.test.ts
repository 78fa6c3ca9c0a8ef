/**
 * deploy/: every manifest validated offline against the Kubernetes API
 * schemas (kubernetes-models 4.x, JSON-schema validators generated from the
 * Kubernetes OpenAPI), every argument a flag its binary accepts, the
 * seed's upgrade commands naming real workloads and containers, and the
 * bundles equal to their components.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { REPO } from '../helpers/daemon.js';
import { LISTENER_FLAGS } from '../../src/listener/config.js';
import { AWS_FLAGS, VPCROUTER_FLAGS } from '../../src/aws/config.js';
import { DNS_FLAGS } from '../../dns/config.js';

const DEPLOY = path.join(REPO, 'deploy');
const SEED = path.join(REPO, '../shared/seed/000_cd8e673e563d9dde.txt');

type Obj = Record<string, any>;

/** Every manifest file of ours (deploy/publisher/ belongs to the publisher's issue and is checked there). */
function manifestFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && p !== path.join(DEPLOY, 'publisher')) walk(p);
      else if (/\.ya?ml$/.test(e.name)) out.push(p);
    }
  };
  walk(DEPLOY);
  return out.sort();
}

function docs(file: string): Obj[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return d.toJS() as Obj | null;
    })
    .filter((d): d is Obj => d !== null);
}

/** kubernetes-models module path for apiVersion + kind ("v1" core lives under "v1"). */
async function modelFor(apiVersion: string, kind: string): Promise<new (o: Obj) => { validate(): void }> {
  const mod = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, new (o: Obj) => { validate(): void }>;
  const cls = mod[kind];
  if (!cls) throw new Error(`no model for ${apiVersion} ${kind}`);
  return cls;
}

function podSpecOf(o: Obj): Obj | undefined {
  return o.spec?.template?.spec;
}

/** Flags (no leading "--") named in a binary's --help output. */
function helpFlags(main: string): Set<string> {
  const text = execFileSync(process.execPath, [path.join(REPO, main), '--help'], { encoding: 'utf8' });
  return new Set([...text.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!));
}

/** Binaries that are still stubs (their issues are open): the flags their issues define. None left. */
const STUB_FLAGS: Record<string, readonly string[]> = {};

describe('deploy manifests', () => {
  const files = manifestFiles();

  it('has the seed\'s bundles and every component', () => {
    const rel = files.map((f) => path.relative(DEPLOY, f));
    for (const f of ['romana-kubeadm.yml', 'romana-kops.yml', 'components/romana-etcd.yml', 'components/romana-daemon.yml', 'components/romana-daemon-custom-network.yml', 'components/romana-listener.yml', 'components/romana-agent.yml', 'components/romana-dns.yml', 'components/romana-aws.yml', 'components/romana-vpcrouter.yml']) {
      expect(rel).toContain(f);
    }
  });

  it('validates every object against the Kubernetes API schemas (and the validator does reject bad objects)', async () => {
    let n = 0;
    for (const f of files) {
      for (const d of docs(f)) {
        const Model = await modelFor(d.apiVersion, d.kind);
        expect(() => new Model(d).validate(), `${path.relative(DEPLOY, f)}: ${d.kind} ${d.metadata?.name}`).not.toThrow();
        n++;
      }
    }
    expect(n).toBeGreaterThan(30);
    // The validator is not a no-op: a wrong type and a missing required field are caught.
    const Deployment = await modelFor('apps/v1', 'Deployment');
    const good = docs(path.join(DEPLOY, 'components/romana-listener.yml')).find((d) => d.kind === 'Deployment')!;
    const badArgs = structuredClone(good);
    badArgs.spec.template.spec.containers[0].args = '--daemon=x';
    expect(() => new Deployment(badArgs).validate()).toThrow(/args/);
    const noSelector = structuredClone(good);
    delete noSelector.spec.selector;
    expect(() => new Deployment(noSelector).validate()).toThrow(/selector/);
  });

  it('passes only flags the binaries accept', () => {
    const accepted: Record<string, Set<string>> = {
      'romana-daemon': helpFlags('dist/src/daemon/main.js'),
      'romana-agent': helpFlags('dist/src/agent/main.js'),
      'romana-listener': helpFlags('dist/src/listener/main.js'),
      'romana-aws': helpFlags('dist/src/aws/aws_main.js'),
      'romana-vpcrouter': helpFlags('dist/src/aws/vpcrouter_main.js'),
      'romana-dns': helpFlags('dist/dns/main.js'),
    };
    // The exported lists and --help agree.
    expect([...accepted['romana-listener']!].sort()).toEqual([...LISTENER_FLAGS].sort());
    expect([...accepted['romana-aws']!].sort()).toEqual([...AWS_FLAGS].sort());
    expect([...accepted['romana-vpcrouter']!].sort()).toEqual([...VPCROUTER_FLAGS].sort());
    expect([...accepted['romana-dns']!].sort()).toEqual([...DNS_FLAGS].sort());
    for (const [bin, flags] of Object.entries(STUB_FLAGS)) accepted[bin] = new Set(flags);
    let checked = 0;
    for (const f of files) {
      for (const d of docs(f)) {
        for (const c of podSpecOf(d)?.containers ?? []) {
          const bin = c.command?.[0] as string | undefined;
          if (!bin?.startsWith('romana')) continue;
          const known = accepted[bin];
          expect(known, `${path.relative(DEPLOY, f)}: unknown binary ${bin}`).toBeDefined();
          for (const a of (c.args ?? []) as string[]) {
            const m = /^--([a-z][a-z0-9-]*)(=.*)?$/.exec(a);
            expect(m, `${path.relative(DEPLOY, f)} ${bin}: argument ${a} is not --flag[=value]`).not.toBeNull();
            expect(known!.has(m![1]!), `${path.relative(DEPLOY, f)} ${bin}: --${m![1]} is not a flag of ${bin}`).toBe(true);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('matches the seed\'s upgrade commands: kubectl -n kube-system set image <kind>/<name> <container>=…', () => {
    const seed = readFileSync(SEED, 'utf8');
    const cmds = [...seed.matchAll(/kubectl -n (\S+) set image (deployment|daemonset)\/(\S+) (\S+?)=\S+/g)];
    expect(cmds.map((c) => c[3]).sort()).toEqual(['romana-agent', 'romana-daemon', 'romana-listener']);
    for (const bundle of ['romana-kubeadm.yml', 'romana-kops.yml']) {
      const all = docs(path.join(DEPLOY, bundle));
      for (const [, ns, kind, name, container] of cmds) {
        const w = all.find((d) => d.kind.toLowerCase() === kind && d.metadata.name === name);
        expect(w, `${bundle}: ${kind}/${name}`).toBeDefined();
        expect(w!.metadata.namespace).toBe(ns);
        expect(podSpecOf(w!)!.containers.map((c: Obj) => c.name)).toContain(container);
      }
      // The seed's "edit daemonset romana-agent … OnDelete to RollingUpdate" is done already.
      expect(all.find((d) => d.kind === 'DaemonSet' && d.metadata.name === 'romana-agent')!.spec.updateStrategy.type).toBe('RollingUpdate');
    }
  });

  it('names what the seed and the agents rely on: Service "romana" port "daemon" 9600, romana-network-conf mounted for --initial-network', () => {
    const daemon = docs(path.join(DEPLOY, 'components/romana-daemon.yml'));
    const svc = daemon.find((d) => d.kind === 'Service')!;
    expect(svc.metadata.name).toBe('romana');
    expect(svc.spec.ports).toContainEqual(expect.objectContaining({ name: 'daemon', port: 9600 }));
    const custom = docs(path.join(DEPLOY, 'components/romana-daemon-custom-network.yml')).find((d) => d.kind === 'Deployment')!;
    const spec = podSpecOf(custom)!;
    const c = spec.containers[0];
    const arg = (c.args as string[]).find((a) => a.startsWith('--initial-network='))!;
    const mount = c.volumeMounts.find((m: Obj) => arg.slice('--initial-network='.length).startsWith(`${m.mountPath}/`));
    expect(mount).toBeDefined();
    expect(spec.volumes.find((v: Obj) => v.name === mount.name).configMap.name).toBe('romana-network-conf');
    // Every --daemon= points at the romana Service's clusterIP and port, per bundle.
    for (const [bundle, ip] of [['romana-kubeadm.yml', '10.96.0.99'], ['romana-kops.yml', '100.64.0.99']] as const) {
      const all = docs(path.join(DEPLOY, bundle));
      expect(all.find((d) => d.kind === 'Service' && d.metadata.name === 'romana')!.spec.clusterIP).toBe(ip);
      const etcd = all.find((d) => d.kind === 'Service' && d.metadata.name === 'romana-etcd')!;
      for (const d of all) {
        for (const ct of podSpecOf(d)?.containers ?? []) {
          for (const a of [...(ct.args ?? []), ...(ct.command ?? [])] as string[]) {
            if (a.startsWith('--daemon=')) expect(a).toBe(`--daemon=http://${ip}:9600`);
            if (a.startsWith('--etcd-endpoints=') || a.startsWith('--advertise-client-urls=')) expect(a).toContain(`${etcd.spec.clusterIP}:${etcd.spec.ports[0].port}`);
          }
        }
      }
    }
  });

  it('bundles are their components (kops: with its service addresses, --cloud=aws, and the AWS add-ons)', () => {
    const comp = (n: string) => docs(path.join(DEPLOY, `components/${n}.yml`));
    const kubeadm = docs(path.join(DEPLOY, 'romana-kubeadm.yml'));
    expect(kubeadm).toEqual([...comp('romana-etcd'), ...comp('romana-daemon'), ...comp('romana-listener'), ...comp('romana-agent')]);
    const kops = JSON.stringify(docs(path.join(DEPLOY, 'romana-kops.yml')));
    const expected = JSON.stringify(['romana-etcd', 'romana-daemon', 'romana-listener', 'romana-agent', 'romana-aws', 'romana-vpcrouter'].flatMap(comp))
      .replaceAll('10.96.0.88', '100.64.0.88')
      .replaceAll('10.96.0.99', '100.64.0.99')
      .replaceAll('10.96.0.0/12', '100.64.0.0/13')
      .replace('"--host=0.0.0.0",', '"--host=0.0.0.0","--cloud=aws",');
    expect(kops).toBe(expected);
  });

  it('has a Dockerfile on node:20 that installs production dependencies and links every bin', () => {
    const text = readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8');
    expect(text).toMatch(/^FROM node:20\S* AS build$/m);
    expect(text).toMatch(/^FROM node:20\S* AS romana$/m);
    // The kube-dns drop-in (seed "Romana DNS"): args-only containers run romana-dns; the default target stays the general image.
    expect(text).toMatch(/^FROM romana AS romana-dns\nRUN ln -s \/usr\/local\/bin\/romana-dns \/kube-dns\nENTRYPOINT \["romana-dns"\]$/m);
    expect(text.trimEnd().split('\n').pop()).toBe('FROM romana');
    expect(text).toContain('npm ci --omit=dev');
    expect(text).toContain('COPY --from=build /src/dist ./dist');
    expect(text).toContain('require("./package.json").bin');
    // Every command a manifest runs is a bin the image links.
    const bins = Object.keys((JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin);
    for (const f of files) for (const d of docs(f)) for (const c of podSpecOf(d)?.containers ?? []) if (c.command?.[0]?.startsWith('romana')) expect(bins).toContain(c.command[0]);
  });
});
