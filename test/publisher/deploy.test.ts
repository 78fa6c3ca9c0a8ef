/**
 * The sidecar manifest stays in step with the code: it parses, has the
 * documented shape (DaemonSet, label romana-app=route-publisher, containers
 * bird and publisher sharing the run directory), and the commands it runs
 * are valid romana-publisher invocations that point at the same files.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parsePublisherArgs, type RunConfig, type SelectConfig } from '../../publisher/config.js';
import { REPO } from '../helpers/daemon.js';

const ds = parse(readFileSync(path.join(REPO, 'deploy/publisher/romana-route-publisher.yaml'), 'utf8'));

describe('deploy/publisher/romana-route-publisher.yaml', () => {
  const spec = ds.spec.template.spec;
  it('is the documented DaemonSet', () => {
    expect([ds.kind, ds.metadata.namespace, ds.spec.selector.matchLabels['romana-app']]).toEqual(['DaemonSet', 'kube-system', 'route-publisher']);
    expect(spec.hostNetwork).toBe(true);
    expect(spec.containers.map((c: { name: string }) => c.name)).toEqual(['bird', 'publisher']);
    expect(spec.volumes.find((v: { name: string }) => v.name === 'config').configMap.name).toBe('route-publisher-config');
  });

  it('runs valid publisher commands that agree with BIRD\'s paths', () => {
    const env = { NODENAME: 'node1', NODEIP: '192.168.20.30' };
    const select = parsePublisherArgs(spec.initContainers[0].command.slice(1), env);
    const run = parsePublisherArgs(spec.containers[1].command.slice(1), env);
    expect(select.kind).toBe('config');
    expect(run.kind).toBe('config');
    const s = (select as { config: SelectConfig }).config;
    const r = (run as { config: RunConfig }).config;
    const bird = spec.containers[0].command as string[];
    expect(bird[bird.indexOf('-c') + 1]).toBe(s.out);
    expect(bird[bird.indexOf('-s') + 1]).toBe(r.birdSocket);
    expect(s.placeholder).toBe(r.config);
    expect(r.healthPort).toBe(spec.containers[1].readinessProbe.httpGet.port);
    // The daemon's address is the fixed clusterIP of the "romana" Service.
    const svc = parseAllDocuments(readFileSync(path.join(REPO, 'deploy/components/romana-daemon.yml'), 'utf8'))
      .map((d) => d.toJS())
      .find((d) => d?.kind === 'Service' && d.metadata.name === 'romana');
    expect(r.daemon).toBe(`http://${svc.spec.clusterIP}:${svc.spec.ports[0].port}`);
  });
});
