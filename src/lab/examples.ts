/**
 * Example policies `lab up` leaves in `<state>/examples/` for `romana lab
 * policy FILE`, written for the lab's own namespaces (blue, green) so that
 * the matrix visibly changes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const EXAMPLES: Record<string, string> = {
  'deny-green.yaml': `# Every pod in namespace green refuses all incoming traffic.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
  namespace: green
spec:
  podSelector: {}
  policyTypes: [Ingress]
`,
  'blue-from-blue.yaml': `# Pods in namespace blue accept traffic only from pods in blue, on TCP 8080.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: from-blue-tcp
  namespace: blue
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
    - from: [{ podSelector: {} }]
      ports: [{ protocol: TCP, port: 8080 }]
`,
};

export const examplesDir = (stateDir: string): string => path.join(stateDir, 'examples');

export function writeExamples(stateDir: string): void {
  mkdirSync(examplesDir(stateDir), { recursive: true });
  for (const [name, text] of Object.entries(EXAMPLES)) writeFileSync(path.join(examplesDir(stateDir), name), text);
}
