/**
 * The daemon's initial topology (reference §1.9): what it installs when the
 * store holds no topology yet.
 *
 * Order: --initial-network FILE; else --cloud=aws → built-in aws-<region>
 * (region from --aws-region, or from the EC2 metadata service's
 * availability zone minus its letter); else the built-in "kubeadm".
 * --network-cidr-overrides then replaces CIDRs of named networks (an unknown
 * name is an error, the original's jq silently did nothing), and the result
 * is validated with the service range, listing every problem.
 *
 * It is resolved at start-up even when the store already has a topology, so
 * that a bad flag or file fails the start instead of lurking until the day
 * the store is empty.
 *
 * Concurrency rule: runs once, before the server starts.
 */
import { readFile } from 'node:fs/promises';
import { RomanaError, validationError } from '../core/errors.js';
import {
  applyNetworkCidrOverrides,
  builtinTopology,
  carveTopology,
  parseTopologyText,
  validateTopology,
  type CarvedTopology,
  type TopologyInput,
} from '../core/topology/index.js';
import type { DaemonConfig } from './config.js';

export interface InitialTopology {
  readonly input: TopologyInput;
  readonly carved: CarvedTopology;
  /** For logs: 'built-in "kubeadm"', 'file "/x.json"', 'built-in "aws-us-east-1" (region from EC2 metadata)'. */
  readonly source: string;
}

export interface InitialTopologyDeps {
  readFile?: (path: string) => Promise<string>;
  /** The EC2 region this instance runs in (only called for --cloud=aws without --aws-region). */
  awsRegionFromMetadata?: () => Promise<string>;
}

/** Which flag a failure is about, so main.ts can print "invalid --flag ...". */
export class InitialTopologyError extends Error {
  constructor(
    readonly flag: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'InitialTopologyError';
  }
}

export async function resolveInitialTopology(cfg: DaemonConfig, deps: InitialTopologyDeps = {}): Promise<InitialTopology> {
  const read = deps.readFile ?? ((p: string) => readFile(p, 'utf8'));
  let input: TopologyInput;
  let source: string;
  let flag: string;
  if (cfg.initialNetwork !== null) {
    flag = 'initial-network';
    let text: string;
    try {
      text = await read(cfg.initialNetwork);
    } catch (e) {
      throw new InitialTopologyError(flag, `invalid --initial-network ${JSON.stringify(cfg.initialNetwork)}: cannot read it: ${(e as Error).message}`, e);
    }
    try {
      input = parseTopologyText(text);
    } catch (e) {
      throw new InitialTopologyError(flag, `invalid --initial-network ${JSON.stringify(cfg.initialNetwork)}: ${(e as Error).message}`, e);
    }
    source = `file ${JSON.stringify(cfg.initialNetwork)}`;
  } else if (cfg.cloud === 'aws') {
    flag = 'cloud';
    let region = cfg.awsRegion;
    let how = 'from --aws-region';
    if (region === null) {
      const lookup = deps.awsRegionFromMetadata ?? awsRegionFromMetadata;
      try {
        region = await lookup();
      } catch (e) {
        throw new InitialTopologyError(
          flag,
          `invalid --cloud "aws": cannot determine the AWS region from EC2 metadata (${(e as Error).message}); pass --aws-region`,
          e,
        );
      }
      how = 'from EC2 metadata';
    }
    try {
      input = builtinTopology(`aws-${region}`);
    } catch (e) {
      const msg =
        cfg.awsRegion !== null
          ? `invalid --aws-region ${JSON.stringify(region)}: ${(e as Error).message}`
          : `invalid --cloud "aws": EC2 metadata gave region ${JSON.stringify(region)}: ${(e as Error).message}`;
      throw new InitialTopologyError(cfg.awsRegion !== null ? 'aws-region' : flag, msg, e);
    }
    source = `built-in ${JSON.stringify(`aws-${region}`)} (region ${how})`;
  } else {
    flag = 'initial-network';
    input = builtinTopology('kubeadm');
    source = 'built-in "kubeadm"';
  }

  if (cfg.networkCidrOverrides.size > 0) {
    try {
      input = applyNetworkCidrOverrides(input, cfg.networkCidrOverrides);
    } catch (e) {
      throw new InitialTopologyError('network-cidr-overrides', `invalid --network-cidr-overrides: ${(e as Error).message}`, e);
    }
    source += ` with CIDR overrides ${[...cfg.networkCidrOverrides].map(([n, c]) => `${n}=${c}`).join(',')}`;
  }

  const problems = validateTopology(input, cfg.serviceClusterIpRange === null ? {} : { serviceCidr: cfg.serviceClusterIpRange });
  if (problems.length > 0) {
    const err = validationError(`initial topology (${source})`, problems);
    throw new InitialTopologyError(flag, `invalid ${shapingFlags(cfg)}: ${err.message}`, err);
  }
  return { input, carved: carveTopology(input), source };
}

/** The flags that shaped the initial topology, as the operator wrote them (for error lines). */
function shapingFlags(cfg: DaemonConfig): string {
  const q = JSON.stringify;
  const parts: string[] = [];
  if (cfg.initialNetwork !== null) parts.push(`--initial-network ${q(cfg.initialNetwork)}`);
  if (cfg.cloud !== null) parts.push(`--cloud ${q(cfg.cloud)}`);
  if (cfg.awsRegion !== null) parts.push(`--aws-region ${q(cfg.awsRegion)}`);
  if (cfg.networkCidrOverrides.size > 0) parts.push(`--network-cidr-overrides ${q([...cfg.networkCidrOverrides].map(([n, c]) => `${n}=${c}`).join(','))}`);
  if (cfg.serviceClusterIpRange !== null) parts.push(`--service-cluster-ip-range ${q(cfg.serviceClusterIpRange)}`);
  return parts.length > 0 ? parts.join(' ') : 'built-in default topology';
}

const METADATA = 'http://169.254.169.254/latest';

/**
 * The region of this EC2 instance: IMDSv2 (token, then the availability
 * zone), falling back to IMDSv1; "us-east-1a" → "us-east-1".
 */
export async function awsRegionFromMetadata(timeoutMs = 2000): Promise<string> {
  const headers: Record<string, string> = {};
  try {
    const t = await fetch(`${METADATA}/api/token`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (t.ok) headers['x-aws-ec2-metadata-token'] = await t.text();
  } catch {
    // IMDSv1 may still answer.
  }
  const r = await fetch(`${METADATA}/meta-data/placement/availability-zone`, { headers, signal: AbortSignal.timeout(timeoutMs) });
  if (!r.ok) throw new RomanaError('NOT_FOUND', `EC2 metadata answered ${r.status} for the availability zone`);
  const az = (await r.text()).trim();
  if (!/^[a-z]{2}(-[a-z]+)+-\d+[a-z]$/.test(az)) throw new RomanaError('INVALID_ARGUMENT', `EC2 metadata gave an unexpected availability zone ${JSON.stringify(az)}`);
  return az.slice(0, -1);
}
