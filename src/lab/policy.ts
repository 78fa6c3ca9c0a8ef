/**
 * `romana lab policy FILE`: every document of FILE applied through the
 * daemon — a Kubernetes NetworkPolicy through PUT /k8s/networkpolicies (as
 * the listener would), anything else as a Romana policy through POST
 * /policies — then waits until every agent has applied what the daemon
 * holds (the same barrier the CNI plugin uses).
 */
import { parse as parseYaml } from 'yaml';
import { must, unixRequest } from './daemon_client.js';
import { LabError, type LabState } from './state.js';


/** Applies every document of FILE; returns what was done, one line each. */
export async function applyPolicyFile(st: LabState, text: string): Promise<string[]> {
  let docs: unknown[];
  try {
    docs = text.trimStart().startsWith('{') || text.trimStart().startsWith('[') ? [JSON.parse(text)] : parseAllYaml(text);
  } catch (e) {
    throw new LabError(`cannot parse the policy file: ${(e as Error).message}`, 2);
  }
  const done: string[] = [];
  for (const doc0 of docs) {
    const items = Array.isArray(doc0) ? doc0 : isObj(doc0) && doc0.kind === 'List' && Array.isArray(doc0.items) ? doc0.items : [doc0];
    for (const doc of items) {
      if (doc === null || doc === undefined) continue;
      if (isObj(doc) && doc.kind === 'NetworkPolicy') {
        const meta = (isObj(doc.metadata) ? doc.metadata : {}) as { name?: string; namespace?: string };
        if (!meta.name) throw new LabError('a NetworkPolicy without metadata.name', 2);
        const ns = meta.namespace ?? 'default';
        const body = { ...doc, metadata: { ...meta, namespace: ns } };
        const r = await unixRequest(st.socket, 'PUT', `/k8s/networkpolicies/${encodeURIComponent(ns)}/${encodeURIComponent(meta.name)}`, body);
        if (r.status >= 300) throw new LabError(`PUT /k8s/networkpolicies/${ns}/${meta.name}: ${r.status} ${r.text}`);
        done.push(`NetworkPolicy ${ns}/${meta.name}: ${r.status === 201 ? 'created' : 'updated'}`);
      } else {
        const r = await unixRequest(st.socket, 'POST', '/policies', doc);
        if (r.status >= 300) throw new LabError(`POST /policies: ${r.status} ${r.text}`);
        const results = (r.json?.results ?? []) as Array<{ outcome: string; policy: { name?: string; id?: string } }>;
        for (const x of results) done.push(`Romana policy ${x.policy.name ?? x.policy.id}: ${x.outcome}`);
      }
    }
  }
  // Every agent has applied everything the daemon holds now (the CNI plugin's own barrier).
  await Promise.all(st.hosts.map((h) => must(h.healthSocket, 'POST', '/sync?timeout_ms=20000')));
  return done;
}

function parseAllYaml(text: string): unknown[] {
  // yaml's parseAllDocuments would keep errors per document; plain split keeps this small.
  return text
    .split(/^---\s*$/m)
    .filter((d) => d.trim() !== '')
    .map((d) => parseYaml(d) as unknown);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

