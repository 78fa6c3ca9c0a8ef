/**
 * The fast YAML reader against the `yaml` package: whatever it accepts must
 * read exactly as the `yaml` package reads it, and what it gives up on is
 * left to that package. The common kubectl shapes must be accepted (or the
 * snapshot loader would be slow again without any test noticing).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadSnapshotFile, parseSnapshot } from '../../dns/snapshot.js';
import { parseYamlSubset } from '../../dns/yaml_subset.js';

const fixture = readFileSync(new URL('./fixtures/cluster.yaml', import.meta.url), 'utf8');

/** kubectl-style documents the reader must accept. */
const ACCEPTED = [
  fixture.split(/^---$/m)[0]!,
  ...fixture.split(/^---$/m).slice(1),
  `apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubectl.kubernetes.io/restartedAt: "2026-11-26T10:00:00Z"
    note: 'it''s # not a comment'
  labels: {app: web, "tier": frontend}
  name: web-7d4b9c   # trailing comment
  namespace: default
  ownerReferences:
  - apiVersion: apps/v1
    blockOwnerDeletion: true
    kind: ReplicaSet
    name: web-7d4b9c
    uid: 1b2c
spec:
  containers:
  -   image: nginx:1.27
      name: nginx
      ports:
      - containerPort: 80
        protocol: TCP
      args: [--port, "8080", -v]
  - image: busybox
    command:
    - sh
    - -c
    - echo hi
  nodeSelector: {}
  tolerations: []
  empty:
  hostNetwork: false
status:
  podIP: 10.128.0.1
  podIPs:
  - ip: 10.128.0.1
  - ip: fd00::1
  startTime: null
  phase: Running
  url: http://example.org:8080/x
  escaped: "tab\\tquote\\"unicode\\u00e9"
  nested:
  - - a
    - b
  - []
`,
  `apiVersion: v1\nkind: Pod\nmetadata: {name: pod-1, namespace: ns-1}\nstatus: {podIP: 10.128.0.1, podIPs: [{ip: 10.128.0.1}]}\n`,
  `- apiVersion: v1\n  kind: Namespace\n  metadata: {name: default}\n`,
  `{"kind": "Service", "metadata": {"name": "a", "namespace": "b"}, "spec": {"ports": [{"port": 80}]}}`,
  `key: ~\nother: Null\nt: True\nf: FALSE\nn: -12\np: +7\nz: 007\nword: yes\n`,
  '\uFEFFkind: Namespace\r\nmetadata:\r\n  name: crlf\r\n',
];

/** Shapes it must leave to the `yaml` package. */
const LEFT = [
  'a: &x 1\nb: *x\n',
  'a: !!str 1\n',
  'a: |\n  line\n',
  'a: >-\n  folded\n',
  'a: "multi\n  line"\n',
  'a: plain\n  continued\n',
  'a: {b: 1,\n  c: 2}\n',
  '? complex\n: value\n',
  'a: 1\na: 2\n',
  'a:\tb\n',
  'a: 1.5\n',
  'a: 0x1f\n',
  'a: .inf\n',
  '{a:1}\n',
  '80: http\n',
  'a: "\\U0001F600"\n',
];

describe('parseYamlSubset', () => {
  it('reads kubectl shapes exactly as the yaml package does', () => {
    for (const doc of ACCEPTED) {
      const v = parseYamlSubset(doc);
      expect(v, doc).not.toBeUndefined();
      expect(v, doc).toEqual(YAML.parse(doc));
    }
  });

  it('gives up on anchors, tags, block and multi-line scalars, complex or duplicate keys, tabs and non-decimal numbers', () => {
    for (const doc of LEFT) expect(parseYamlSubset(doc), doc).toBeUndefined();
  });

  it('never disagrees with the yaml package on small variations', () => {
    // The big sample with one character cut out or replaced by an indicator or a space, at every
    // position: each variant the reader accepts must read as the yaml package reads it.
    const base = ACCEPTED[2]!;
    let accepted = 0;
    for (let i = 0; i < base.length; i++) {
      for (const repl of ['', ' ', ':', '-', '#', '"', "'", '{', ']', ',', '\n']) {
        const doc = base.slice(0, i) + repl + base.slice(i + 1);
        const v = parseYamlSubset(doc);
        if (v === undefined) continue;
        accepted++;
        let want: unknown;
        try { want = YAML.parse(doc); } catch { want = 'error'; }
        expect(v, JSON.stringify(doc.slice(Math.max(0, i - 30), i + 30))).toEqual(want);
      }
    }
    expect(accepted).toBeGreaterThan(base.length);
  });
});

describe('snapshot units', () => {
  it('streams List items one at a time and reads the same cluster as the whole-document parse', () => {
    const list = `# comment\napiVersion: v1\nitems:\n\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a, namespace: n}\n  spec: {clusterIP: 10.0.0.1}\n# between items\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, namespace: m}\nkind: List\nmetadata: {resourceVersion: ""}\n`;
    const s = parseSnapshot(list);
    expect(s.services.map((x) => `${x.namespace}/${x.name} ${x.clusterIPs.join()}`)).toEqual(['n/a 10.0.0.1']);
    expect(s.namespaces).toEqual(['m', 'n']);
    expect(s.podCount).toBe(1);
    // Indented entries stay in the document (no streaming), with the same result.
    const indented = `apiVersion: v1\nitems:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: a, namespace: n}\n    spec: {clusterIP: 10.0.0.1}\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: p, namespace: m}\nkind: List\n`;
    expect(parseSnapshot(indented)).toEqual(s);
    expect(parseSnapshot('kind: List\nitems: []\n').services).toEqual([]);
  });

  it('reads a file across 1 MiB chunk boundaries (multi-byte characters included) as parseSnapshot reads its text', () => {
    const docs: string[] = [];
    for (let i = 0; i < 8000; i++) {
      docs.push(`apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-${i}\n  namespace: ns-${i % 7}\n  annotations: {note: "żółw ${'é'.repeat(i % 50)}"}\nspec:\n  clusterIP: 10.96.${i >> 8}.${i & 255}\n  externalIPs: [192.168.${i >> 8}.${i & 255}]\n  ports: [{name: http, port: 80, protocol: TCP}]\n`);
    }
    const text = `apiVersion: v1\nitems:\n${docs.slice(0, 4000).map((d) => `- ${d.replace(/\n(?=.)/g, '\n  ')}`).join('')}kind: List\n---\n${docs.slice(4000).join('---\n')}`;
    expect(Buffer.byteLength(text)).toBeGreaterThan(2 * 1024 * 1024);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'romana-snapshot-'));
    try {
      writeFileSync(path.join(dir, 'cluster.yaml'), text);
      const fromFile = loadSnapshotFile(path.join(dir, 'cluster.yaml'));
      expect(fromFile.services).toHaveLength(8000);
      expect(fromFile.services[7999]).toMatchObject({ name: 'svc-7999', namespace: 'ns-5', clusterIPs: ['10.96.31.63'], externalIPs: ['192.168.31.63'] });
      expect(fromFile).toEqual(parseSnapshot(text));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts pods from their name and namespace lines alone, in any shape the full parse would accept', () => {
    const cases: Array<[string, number, string[]]> = [
      // kubectl's block shape: name and namespace among managedFields and ownerReferences (whose "name:" is deeper).
      [`apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    managedFields:\n    - manager: kubelet\n      fieldsV1:\n        f:metadata: {}\n    name: web-1\n    namespace: "shop"  # quoted\n    ownerReferences:\n    - kind: ReplicaSet\n      name: not-the-pod\n      namespace: not-the-ns\n  spec:\n    containers:\n    - name: nginx\n  status: {podIP: 10.1.1.1}\nkind: List\n`, 1, ['shop']],
      [`kind: Pod\nmetadata: {name: p, namespace: flow}\n`, 1, ['flow']],
      [`kind: Pod\nmetadata:\n  name: p\n`, 1, ['default']],
      [`kind: Pod\nmetadata:\n  namespace: nameless\n`, 0, []],
      [`kind: Pod\nmetadata:\n  name:\n    continued\n  namespace: later\n`, 1, ['later']],
      [`metadata:\n  namespace: kind-last\n  name: p\nspec: {}\nkind: Pod\n`, 1, ['kind-last']],
      [`kind: Deployment\nmetadata: {name: d, namespace: deploy}\nspec:\n  template:\n    kind: Pod\n    metadata: {name: t, namespace: inner}\n`, 0, []],
      [`kind: Pod\nmetadata:\n  name: 42\n  namespace: numeric-name\n`, 0, []],
    ];
    for (const [text, pods, namespaces] of cases) {
      const st = parseSnapshot(text);
      expect({ pods: st.podCount, namespaces: st.namespaces }, text).toEqual({ pods, namespaces });
    }
  });
});
