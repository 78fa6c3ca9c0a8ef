/**
 * The BIRD 2 configurations of the lab (text only; processes.ts starts
 * BIRD). Every session is eBGP with explicit filters, as BIRD 2 requires,
 * and short timers so that a lab comes up in about a second.
 *
 * - Host: no kernel protocol (its tables stay the agent's); it includes the
 *   file romana-publisher renders from PUBLISHER_TEMPLATE: the host's
 *   blocks, merged, announced to its ToR.
 * - ToR: accepts from its hosts only prefixes inside its rack's prefix group
 *   (a host cannot announce another rack's addresses); announces to the
 *   spine only the group as one aggregate (a static `unreachable` route:
 *   addresses of the group that no host announces stop here, not loop) and
 *   its rack subnet; installs everything it learned into its kernel.
 * - Spine: accepts from each ToR exactly that rack's aggregate and subnet,
 *   hands them to the other ToRs with itself as next hop (so it is on the
 *   path, as a spine is), installs them into its kernel.
 */
import type { LabHostState, LabSpineState, LabTorState } from './state.js';

const TIMERS = 'hold time 9; connect retry time 1; connect delay time 1;';

/** Rendered by romana-publisher (Go template) into the file the host's BIRD includes. */
export const PUBLISHER_TEMPLATE = `# romana lab: written by romana lab up. Rendered by romana-publisher into
# the file this host's BIRD includes; --neighbor-ip/--neighbor-as name the ToR.
protocol static romana_routes {
    ipv4;
{{- range .Networks }}
    route {{ . }} unreachable;
{{- end }}
}

protocol bgp tor {
    local as {{ .LocalAS }};
    neighbor {{ .NeighborIP }} as {{ .NeighborAS }};
    ${TIMERS}
    ipv4 {
        import none;
        export where proto = "romana_routes";
    };
}
`;

export function hostBirdConf(h: LabHostState, includeDir: string): string {
  return [`# romana lab: BIRD of ${h.name} (rack ${h.rack})`, 'log stderr all;', `router id ${h.ip};`, 'protocol device { scan time 10; }', `include "${includeDir}/*.conf";`, ''].join('\n');
}

export function torBirdConf(t: LabTorState, hosts: LabHostState[], spine: LabSpineState): string {
  return [
    `# romana lab: BIRD of ${t.name} (rack ${t.rack}, prefix group ${t.groupCidr})`,
    'log stderr all;',
    `router id ${t.ip};`,
    'protocol device { scan time 10; }',
    'protocol direct rack_subnet { ipv4; interface "eth0"; }',
    'protocol kernel { ipv4 { import none; export where proto != "rack_subnet"; }; }',
    `protocol static rack_aggregate { ipv4; route ${t.groupCidr} unreachable; }`,
    ...hosts.map((h) => `protocol bgp ${h.name} { local ${t.ip} as ${t.as}; neighbor ${h.ip} as ${h.as}; ${TIMERS} ipv4 { import where net ~ [ ${t.groupCidr}+ ]; export none; }; }`),
    `protocol bgp spine { local ${t.spineIp} as ${t.as}; neighbor ${spine.ip} as ${spine.as}; ${TIMERS} ipv4 { import all; export where proto = "rack_aggregate" || proto = "rack_subnet"; }; }`,
    '',
  ].join('\n');
}

export function spineBirdConf(s: LabSpineState, tors: LabTorState[]): string {
  return [
    '# romana lab: BIRD of the spine',
    'log stderr all;',
    `router id ${s.ip};`,
    'protocol device { scan time 10; }',
    'protocol kernel { ipv4 { import none; export all; }; }',
    ...tors.map(
      (t) => `protocol bgp ${t.name} { local ${s.ip} as ${s.as}; neighbor ${t.spineIp} as ${t.as}; ${TIMERS} ipv4 { import where net ~ [ ${t.groupCidr}, ${t.subnet} ]; export all; next hop self; }; }`,
    ),
    '',
  ].join('\n');
}
