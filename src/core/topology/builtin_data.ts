/**
 * The built-in topologies of the original (romana/romana
 * `containerize/targets/daemon/`, kept as fixtures under
 * ../shared/romana-v2-testdata/builtin-topologies/), written as the table
 * they were generated from: they are fully regular, so a table is easier to
 * review than 60 kB of JSON. `builtin.ts` expands it; a test checks the
 * expansion equals every fixture file, field for field.
 */

/** The single network every built-in defines. */
export const BUILTIN_NETWORK_NAME = 'romana-network';

/** kubeadm: 10.112.0.0/12 split into 8 unlabelled groups (→ /15 leaves). */
export const KUBEADM = { cidr: '10.112.0.0/12', groups: 8, groupPrefix: 'host-group-' } as const;

/** Pod network of every AWS built-in (kops' default). */
export const AWS_CIDR = '100.96.0.0/11';

/** AWS region → availability-zone letters and sub-groups per zone. */
export const AWS_REGIONS: Readonly<Record<string, { readonly zones: string; readonly groupsPerZone: number }>> = {
  'ap-northeast-1': { zones: 'ac', groupsPerZone: 8 },
  'ap-northeast-2': { zones: 'ac', groupsPerZone: 8 },
  'ap-south-1': { zones: 'ab', groupsPerZone: 8 },
  'ap-southeast-1': { zones: 'ab', groupsPerZone: 8 },
  'ap-southeast-2': { zones: 'abc', groupsPerZone: 8 },
  'ca-central-1': { zones: 'ab', groupsPerZone: 8 },
  'eu-central-1': { zones: 'abc', groupsPerZone: 8 },
  'eu-west-1': { zones: 'abc', groupsPerZone: 8 },
  'eu-west-2': { zones: 'ab', groupsPerZone: 8 },
  'sa-east-1': { zones: 'abc', groupsPerZone: 8 },
  'us-east-1': { zones: 'abcdef', groupsPerZone: 4 },
  'us-east-2': { zones: 'abc', groupsPerZone: 8 },
  'us-west-1': { zones: 'bc', groupsPerZone: 8 },
  'us-west-2': { zones: 'abc', groupsPerZone: 8 },
};

/** Node labels the AWS sub-groups assign on (Kubernetes' pre-1.17 failure-domain labels, as the original). */
export const AWS_REGION_LABEL = 'failure-domain.beta.kubernetes.io/region';
export const AWS_ZONE_LABEL = 'failure-domain.beta.kubernetes.io/zone';
