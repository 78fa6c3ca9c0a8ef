import { describe, expect, it } from 'vitest';
import { parseDuration, parseListenerArgs } from '../../src/listener/config.js';
import { externalIpsPatch, MANAGED_TAG, nodeToHost, parseCniAddressName, podToEndpoint, policyForDaemon, PROVIDER_ID_TAG, readyEndpointNodes, scanLeaks, serviceVip, VIP_EXTERNAL_IP_ANNOTATION } from '../../src/listener/translate.js';

describe('listener translation', () => {
  it('prefers the InternalIP over addresses[0] (the original took the first of any type)', () => {
    const plan = nodeToHost({ metadata: { name: 'n1', labels: { rack: 'a' } }, status: { addresses: [{ type: 'Hostname', address: 'n1' }, { type: 'ExternalIP', address: '203.0.113.1' }, { type: 'InternalIP', address: '10.0.0.5' }] } });
    expect(plan).toEqual({ ok: true, host: { name: 'n1', ip: '10.0.0.5', tags: { rack: 'a', [MANAGED_TAG]: 'romana-listener' } } });
    expect(nodeToHost({ metadata: { name: 'n2' }, status: { addresses: [{ type: 'InternalIP', address: 'fd00::1' }] } }).ok).toBe(false);
  });

  it('pods: labels and container ports; no endpoint for hostNetwork or finished pods', () => {
    const pod = { metadata: { name: 'p', namespace: 'ns', labels: { 'romana.io/segment': 'db' } }, spec: { containers: [{ ports: [{ containerPort: 53, protocol: 'UDP', name: 'dns' }, { containerPort: 80 }] }] } };
    expect(podToEndpoint(pod)).toEqual({ namespace: 'ns', pod: 'p', segment: 'db', body: { labels: { 'romana.io/segment': 'db' }, ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { containerPort: 80, protocol: 'TCP' }] } });
    expect(podToEndpoint({ ...pod, spec: { ...pod.spec, hostNetwork: true } })).toBeNull();
    expect(podToEndpoint({ ...pod, status: { phase: 'Succeeded' } })).toBeNull();
  });

  it('policies keep their whole spec (no widening) and drop volatile metadata', () => {
    const spec = { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['a'] }] }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] };
    const out = policyForDaemon({ metadata: { name: 'x', namespace: 'ns', uid: 'u', resourceVersion: '9', managedFields: [] } as never, spec });
    expect(out).toEqual({ namespace: 'ns', name: 'x', object: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'x', namespace: 'ns', uid: 'u' }, spec } });
  });

  it('puts the node providerID into the romana.io/provider-id host tag (the one romana-aws reads first)', () => {
    const n = { metadata: { name: 'n1' }, spec: { providerID: 'aws:///us-east-1a/i-0123456789abcdef0' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.5' }] } };
    expect(PROVIDER_ID_TAG).toBe('romana.io/provider-id');
    expect(nodeToHost(n)).toMatchObject({ ok: true, host: { tags: { [PROVIDER_ID_TAG]: 'aws:///us-east-1a/i-0123456789abcdef0' } } });
    const plain = nodeToHost({ ...n, spec: {} });
    expect(plain.ok && PROVIDER_ID_TAG in plain.host.tags).toBe(false);
  });

  it('VIP annotation: romanaip and romanavip, auto passed on, bad ip refused', () => {
    expect(serviceVip({ metadata: { annotations: { romanaip: '{"auto": false, "ip": "192.168.99.101"}' } } })).toEqual({ ok: true, annotation: 'romanaip', ip: '192.168.99.101', auto: false });
    expect(serviceVip({ metadata: { annotations: { romanavip: '{"auto": false, "ip": "192.168.99.102"}' } } })).toMatchObject({ ok: true, annotation: 'romanavip' });
    expect(serviceVip({ metadata: { annotations: { romanavip: '{"auto": true}' } } })).toEqual({ ok: true, annotation: 'romanavip', ip: null, auto: true });
    expect(serviceVip({ metadata: { annotations: { romanavip: '{"auto": "yes", "ip": "192.168.99.102"}' } } })).toMatchObject({ ok: false });
    expect(serviceVip({ metadata: { annotations: { romanavip: '{"ip": "300.1.1.1"}' } } })).toMatchObject({ ok: false });
    expect(serviceVip({ metadata: {} })).toBeNull();
  });

  it('CNI address names and leak scanning: grace respected, live pods never leaked, foreign names ignored', () => {
    expect(parseCniAddressName('cni:ns:pod:abc:eth0')).toEqual({ namespace: 'ns', pod: 'pod', containerId: 'abc', ifname: 'eth0' });
    expect(parseCniAddressName('pod-a')).toBeNull();
    const addrs = [{ name: 'cni:ns:gone:1:eth0', ip: '10.0.0.1' }, { name: 'cni:ns:live:2:eth0', ip: '10.0.0.2' }, { name: 'other', ip: '10.0.0.3' }];
    const alive = (_ns: string, p: string) => p === 'live';
    const first = scanLeaks(addrs, alive, new Map(), 1000, 500);
    expect(first.leaked).toEqual([]);
    expect([...first.orphanedSince.keys()]).toEqual(['cni:ns:gone:1:eth0']);
    const later = scanLeaks(addrs, alive, first.orphanedSince, 1500, 500);
    expect(later.leaked).toEqual([{ name: 'cni:ns:gone:1:eth0', ip: '10.0.0.1', since: 1000 }]);
    // The pod came back: forgotten.
    expect(scanLeaks(addrs, () => true, later.orphanedSince, 2000, 500).orphanedSince.size).toBe(0);
  });

  it('flags: durations, defaults, every problem reported', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('30')).toBe(30_000);
    expect(parseDuration('x')).toBeNull();
    const ok = parseListenerArgs(['--release-leaked', '--node-grace', '1m']);
    expect(ok.kind === 'config' && ok.config.nodeGraceMs === 60_000 && ok.config.releaseLeaked && ok.config.leakGraceMs === 600_000).toBe(true);
    const bad = parseListenerArgs(['--resync', 'soon', '--token', 'a', '--token-file', 'f', '--health-port', '70000']);
    expect(bad.kind === 'error' && bad.problems.length).toBe(3);
    expect(parseListenerArgs(['--nope']).kind).toBe('error');
  });

  it('VIP candidates: node names of ready endpoint addresses only, deduplicated and sorted', () => {
    const ep = {
      metadata: { name: 's', namespace: 'ns' },
      subsets: [
        { addresses: [{ ip: '10.1.0.1', nodeName: 'n2' }, { ip: '10.1.0.2', nodeName: 'n1' }], notReadyAddresses: [{ ip: '10.1.0.3', nodeName: 'n3' }] },
        { addresses: [{ ip: '10.1.0.4', nodeName: 'n2' }, { ip: '10.1.0.5' }] },
      ],
    };
    expect(readyEndpointNodes(ep)).toEqual(['n1', 'n2']);
    expect(readyEndpointNodes(undefined)).toEqual([]);
    expect(readyEndpointNodes({ metadata: { name: 's' } })).toEqual([]);
  });

  it('externalIPs patch: adds the VIP keeping the others, swaps it on change, removes only its own', () => {
    const svc = (ips: string[] | undefined, mark?: string) => ({
      metadata: { name: 's', namespace: 'ns', resourceVersion: '7', annotations: mark ? { [VIP_EXTERNAL_IP_ANNOTATION]: mark } : {} },
      spec: ips ? { externalIPs: ips } : {},
    });
    expect(externalIpsPatch(svc(['1.1.1.1']), '10.9.0.1')).toEqual({ metadata: { resourceVersion: '7', annotations: { [VIP_EXTERNAL_IP_ANNOTATION]: '10.9.0.1' } }, spec: { externalIPs: ['1.1.1.1', '10.9.0.1'] } });
    expect(externalIpsPatch(svc(['1.1.1.1', '10.9.0.1'], '10.9.0.1'), '10.9.0.1')).toBeNull();
    expect(externalIpsPatch(svc(['1.1.1.1', '10.9.0.1'], '10.9.0.1'), '10.9.0.2')).toMatchObject({ spec: { externalIPs: ['1.1.1.1', '10.9.0.2'] } });
    expect(externalIpsPatch(svc(['1.1.1.1', '10.9.0.1'], '10.9.0.1'), null)).toEqual({ metadata: { resourceVersion: '7', annotations: { [VIP_EXTERNAL_IP_ANNOTATION]: null } }, spec: { externalIPs: ['1.1.1.1'] } });
    expect(externalIpsPatch(svc(['10.9.0.1'], '10.9.0.1'), null)).toMatchObject({ spec: { externalIPs: null } });
    expect(externalIpsPatch(svc(['1.1.1.1']), null)).toBeNull();
    expect(externalIpsPatch(svc(undefined), null)).toBeNull();
  });
});
