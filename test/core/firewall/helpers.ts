/**
 * Small builders for firewall tests: pods, namespaces, NetworkPolicy
 * objects, views, and reachability judged through the rendered rules
 * (simulate → renderModel → evaluatePacket), never the model.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import {
  parseProbe,
  simulate,
  type ClusterView,
  type PodInfo,
  type PodPort,
  type Probe,
} from '../../../src/core/firewall/index.js';
import type { RomanaPolicy } from '../../../src/core/policy/index.js';

export function pod(id: string, ip: string, labels: Record<string, string> = {}, node = 'n1', ports: PodPort[] = []): PodInfo {
  const [namespace, name] = id.split('/') as [string, string];
  return { namespace, name, labels, ip, node, ports };
}

export function netpol(id: string, spec: Record<string, unknown>): Record<string, unknown> {
  const [namespace, name] = id.split('/') as [string, string];
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

export function view(parts: {
  pods: PodInfo[];
  namespaces?: Array<{ name: string; labels: Record<string, string> }>;
  k8s?: unknown[];
  romana?: RomanaPolicy[];
  blocks?: ClusterView['blocks'];
}): ClusterView {
  return {
    namespaces: parts.namespaces ?? [],
    pods: parts.pods,
    k8sPolicies: parts.k8s ?? [],
    romanaPolicies: parts.romana ?? [],
    blocks: parts.blocks ?? [],
    hosts: [],
  };
}

function probeOf(text: string): Probe {
  const p = parseProbe(text);
  if ('error' in p) throw new Error(p.error);
  return p;
}

/** The ordered pairs "a -> b" (a ≠ b) that may talk under `probe`, judged on the rendered rules. */
export function allowedPairs(v: ClusterView, probe = 'tcp/80'): string[] {
  const r = simulate(v, [probeOf(probe)]);
  const out: string[] = [];
  for (const [src, row] of Object.entries(r.probes[0]!.matrix)) for (const [dst, ok] of Object.entries(row)) if (ok && src !== dst) out.push(`${src} -> ${dst}`);
  return out.sort();
}

/** Whether `from` reaches `to` (ids "<ns>/<pod>") under `probe`. */
export function reaches(v: ClusterView, from: string, to: string, probe = 'tcp/80'): boolean {
  const r = simulate(v, [probeOf(probe)]);
  const row = r.probes[0]!.matrix[from];
  if (!row || row[to] === undefined) throw new Error(`no pod ${from} or ${to} in the simulation`);
  return row[to]!;
}

/** Every ordered pair of distinct pod ids. */
export function allPairs(v: ClusterView): string[] {
  const ids = v.pods.map((p) => `${p.namespace}/${p.name}`);
  return ids.flatMap((a) => ids.filter((b) => b !== a).map((b) => `${a} -> ${b}`)).sort();
}

const GOLDEN_DIR = fileURLToPath(new URL('./golden', import.meta.url));

/** test/core/firewall/golden/<name>; rewritten with UPDATE_GOLDEN=1, otherwise must match exactly. */
export function expectGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`golden file ${file} is missing: run with UPDATE_GOLDEN=1 and review it`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}
