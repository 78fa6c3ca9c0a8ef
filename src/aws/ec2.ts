/**
 * The EC2 calls the AWS add-ons make, over @aws-sdk/client-ec2, with our
 * own retry: exponential backoff with full jitter on throttling
 * (RequestLimitExceeded, Throttling, HTTP 503) and on transient server and
 * network errors. The SDK's built-in retry is turned off (maxAttempts 1) so
 * there is one retry policy, with an injectable clock that tests drive.
 *
 * Design: results are turned into the plain views of src/core/aws at once,
 * so the planners never see SDK types. Describe calls follow NextToken.
 *
 * Concurrency rule: an Ec2Api may be used concurrently; it keeps no state
 * beyond its client.
 */
import {
  CreateRouteCommand,
  DeleteRouteCommand,
  DescribeInstancesCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ReplaceRouteCommand,
  type Filter,
  type Instance,
} from '@aws-sdk/client-ec2';
import { DEFAULT_BACKOFF, withRetry, type BackoffPolicy } from '../core/aws/backoff.js';
import type { InstanceView, TableView } from '../core/aws/route_plan.js';

export interface Ec2ClientOptions {
  readonly region: string;
  /** e.g. a VPC endpoint, or a test's fake EC2 server. */
  readonly endpoint?: string | undefined;
  /** Static credentials (tests); otherwise the SDK's default chain (env, instance profile …). */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  readonly requestTimeoutMs?: number;
}

export function createEc2Client(opts: Ec2ClientOptions): EC2Client {
  return new EC2Client({
    region: opts.region,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    maxAttempts: 1,
  });
}

const THROTTLE_CODES = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'RequestThrottled', 'TooManyRequestsException']);
const TRANSIENT_CODES = new Set(['InternalError', 'InternalFailure', 'ServiceUnavailable', 'Unavailable', 'RequestTimeout', 'RequestTimeoutException']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'TimeoutError']);

function errCode(e: unknown): string {
  const o = e as { name?: string; Code?: string; code?: string } | null;
  return o?.Code ?? o?.name ?? o?.code ?? '';
}

function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

export function isThrottle(e: unknown): boolean {
  return THROTTLE_CODES.has(errCode(e)) || httpStatus(e) === 503;
}

export function isRetryable(e: unknown): boolean {
  if (isThrottle(e)) return true;
  const code = errCode(e);
  const status = httpStatus(e);
  return TRANSIENT_CODES.has(code) || NETWORK_CODES.has(code) || NETWORK_CODES.has((e as { code?: string } | null)?.code ?? '') || (status !== undefined && status >= 500);
}

/** "Code: message" for logs. */
export function describeError(e: unknown): string {
  const code = errCode(e);
  const msg = (e as Error | null)?.message ?? String(e);
  return code && !msg.startsWith(code) ? `${code}: ${msg}` : msg;
}

export interface Ec2ApiOptions {
  readonly policy?: BackoffPolicy;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  /** Every finished attempt: action, "ok" | "throttled" | "error". */
  readonly onCall?: (action: string, outcome: 'ok' | 'throttled' | 'error') => void;
  readonly onRetry?: (action: string, e: unknown, attempt: number, delayMs: number) => void;
}

export interface InstanceInfo extends InstanceView {
  readonly vpcId: string;
  readonly state: string;
  readonly sourceDestCheck: boolean | undefined;
}

function toInfo(i: Instance): InstanceInfo | null {
  if (!i.InstanceId) return null;
  const ip = i.PrivateIpAddress ?? '';
  const eni = (i.NetworkInterfaces ?? []).find((n) => n.PrivateIpAddress === ip || (n.PrivateIpAddresses ?? []).some((a) => a.PrivateIpAddress === ip)) ?? i.NetworkInterfaces?.[0];
  return {
    instanceId: i.InstanceId,
    ip,
    eniId: eni?.NetworkInterfaceId ?? '',
    subnetId: i.SubnetId ?? eni?.SubnetId ?? '',
    vpcId: i.VpcId ?? '',
    state: i.State?.Name ?? 'unknown',
    sourceDestCheck: i.SourceDestCheck,
  };
}

export class Ec2Api {
  constructor(
    readonly client: EC2Client,
    private readonly opts: Ec2ApiOptions,
  ) {}

  private async call<T>(action: string, send: () => Promise<T>): Promise<T> {
    return withRetry(
      async () => {
        try {
          const r = await send();
          this.opts.onCall?.(action, 'ok');
          return r;
        } catch (e) {
          this.opts.onCall?.(action, isThrottle(e) ? 'throttled' : 'error');
          throw e;
        }
      },
      {
        policy: this.opts.policy ?? DEFAULT_BACKOFF,
        isRetryable,
        sleep: this.opts.sleep,
        random: this.opts.random,
        onRetry: (e, attempt, d) => this.opts.onRetry?.(action, e, attempt, d),
      },
    );
  }

  async describeInstances(q: { ids?: readonly string[]; filters?: Filter[] }): Promise<InstanceInfo[]> {
    const out: InstanceInfo[] = [];
    let token: string | undefined;
    do {
      const r = await this.call('DescribeInstances', () =>
        this.client.send(
          new DescribeInstancesCommand({
            ...(q.ids && q.ids.length > 0 ? { InstanceIds: [...q.ids] } : {}),
            ...(q.filters ? { Filters: q.filters } : {}),
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      for (const res of r.Reservations ?? []) for (const i of res.Instances ?? []) {
        const info = toInfo(i);
        if (info) out.push(info);
      }
      token = r.NextToken;
    } while (token);
    return out;
  }

  /** Running instances owning these private IPs (in `vpcId` when given). */
  async instancesByIp(ips: readonly string[], vpcId?: string): Promise<Map<string, InstanceInfo>> {
    const m = new Map<string, InstanceInfo>();
    if (ips.length === 0) return m;
    const filters: Filter[] = [
      { Name: 'private-ip-address', Values: [...ips] },
      { Name: 'instance-state-name', Values: ['running'] },
      ...(vpcId ? [{ Name: 'vpc-id', Values: [vpcId] }] : []),
    ];
    for (const i of await this.describeInstances({ filters })) if (i.ip) m.set(i.ip, i);
    return m;
  }

  async disableSourceDestCheck(instanceId: string): Promise<void> {
    await this.call('ModifyInstanceAttribute', () =>
      this.client.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, SourceDestCheck: { Value: false } })),
    );
  }

  async vpcExists(vpcId: string): Promise<boolean> {
    const r = await this.call('DescribeVpcs', () => this.client.send(new DescribeVpcsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })));
    return (r.Vpcs ?? []).length > 0;
  }

  async subnets(vpcId: string): Promise<Array<{ subnetId: string; cidr: string }>> {
    const r = await this.call('DescribeSubnets', () => this.client.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })));
    return (r.Subnets ?? []).map((s) => ({ subnetId: s.SubnetId ?? '', cidr: s.CidrBlock ?? '' }));
  }

  async routeTables(vpcId: string): Promise<TableView[]> {
    const out: TableView[] = [];
    let token: string | undefined;
    do {
      const r = await this.call('DescribeRouteTables', () =>
        this.client.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], ...(token ? { NextToken: token } : {}) })),
      );
      for (const t of r.RouteTables ?? []) {
        out.push({
          id: t.RouteTableId ?? '',
          main: (t.Associations ?? []).some((a) => a.Main === true),
          subnetIds: (t.Associations ?? []).flatMap((a) => (a.SubnetId ? [a.SubnetId] : [])),
          routes: (t.Routes ?? [])
            .filter((x) => x.DestinationCidrBlock)
            .map((x) => ({
              cidr: x.DestinationCidrBlock!,
              instanceId: x.InstanceId,
              eniId: x.NetworkInterfaceId,
              otherTarget: x.GatewayId ?? x.NatGatewayId ?? x.VpcPeeringConnectionId ?? x.TransitGatewayId ?? x.EgressOnlyInternetGatewayId ?? x.LocalGatewayId ?? x.CarrierGatewayId ?? undefined,
              state: x.State,
            })),
        });
      }
      token = r.NextToken;
    } while (token);
    return out;
  }

  /** Routes always name the router's ENI: exact even for multi-ENI instances, and what the ENI check compares. */
  async createRoute(table: string, cidr: string, eniId: string): Promise<void> {
    await this.call('CreateRoute', () => this.client.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: cidr, NetworkInterfaceId: eniId })));
  }

  async replaceRoute(table: string, cidr: string, eniId: string): Promise<void> {
    await this.call('ReplaceRoute', () => this.client.send(new ReplaceRouteCommand({ RouteTableId: table, DestinationCidrBlock: cidr, NetworkInterfaceId: eniId })));
  }

  async deleteRoute(table: string, cidr: string): Promise<void> {
    await this.call('DeleteRoute', () => this.client.send(new DeleteRouteCommand({ RouteTableId: table, DestinationCidrBlock: cidr })));
  }
}
