/**
 * A local EC2 Query API server for the AWS add-ons' tests: the real
 * @aws-sdk/client-ec2 is pointed at it (endpoint + static fake credentials
 * + region). It implements the actions the add-ons use —
 * DescribeInstances, ModifyInstanceAttribute, DescribeVpcs, DescribeSubnets,
 * DescribeRouteTables, CreateRoute, ReplaceRoute, DeleteRoute — over a
 * small in-memory VPC, answers with EC2's XML (2016-11-15 namespace) and
 * EC2's error envelope, and lets tests inject errors (throttling with
 * `RequestLimitExceeded`/503, any code) for the next N calls of an action.
 * Every request is recorded (action + parameters) so tests can assert what
 * was, or was not, written.
 *
 * Route semantics follow EC2: CreateRoute fails with RouteAlreadyExists,
 * Replace/DeleteRoute with InvalidRoute.NotFound; a route names exactly one
 * target; a route to an instance's ENI is described with both its
 * instanceId and networkInterfaceId, and becomes "blackhole" when that
 * instance is gone.
 */
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeInstance {
  instanceId: string;
  ip: string;
  subnetId: string;
  eniId: string;
  sourceDestCheck: boolean;
  state: 'running' | 'terminated' | 'stopped';
  az: string;
}
export interface FakeRoute {
  cidr: string;
  instanceId?: string;
  eniId?: string;
  gatewayId?: string;
}
export interface FakeRouteTable {
  id: string;
  main: boolean;
  subnetIds: string[];
  routes: FakeRoute[];
}
export interface FakeSubnet {
  subnetId: string;
  cidr: string;
  az: string;
}
export interface RecordedCall {
  action: string;
  params: Record<string, string>;
}

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const WRITES = new Set(['CreateRoute', 'ReplaceRoute', 'DeleteRoute', 'ModifyInstanceAttribute']);

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const tag = (name: string, value: string | boolean | number | undefined): string =>
  value === undefined ? '' : `<${name}>${esc(String(value))}</${name}>`;

class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export class FakeEc2 {
  vpcId = 'vpc-0a1b2c3d';
  vpcCidr = '10.0.0.0/16';
  subnets: FakeSubnet[] = [];
  instances: FakeInstance[] = [];
  tables: FakeRouteTable[] = [];
  calls: RecordedCall[] = [];
  private faults: Array<{ action: string; code: string; status: number; left: number }> = [];
  private server: Server | null = null;
  private seq = 0;
  url = '';

  /** Makes the next `times` calls of `action` ('*' for any) fail with `code`. */
  failNext(action: string, code = 'RequestLimitExceeded', times = 1, status = code === 'RequestLimitExceeded' ? 503 : 400): void {
    this.faults.push({ action, code, status, left: times });
  }

  /** Calls of the write actions (what a dry run must not make). */
  writes(): RecordedCall[] {
    return this.calls.filter((c) => WRITES.has(c.action));
  }

  callsOf(action: string): RecordedCall[] {
    return this.calls.filter((c) => c.action === action);
  }

  addSubnet(cidr: string, az = 'us-east-1a'): FakeSubnet {
    const s = { subnetId: `subnet-${(++this.seq).toString(16).padStart(8, '0')}`, cidr, az };
    this.subnets.push(s);
    return s;
  }

  addInstance(ip: string, subnetId: string, opts: Partial<FakeInstance> = {}): FakeInstance {
    const n = (++this.seq).toString(16).padStart(8, '0');
    const i: FakeInstance = { instanceId: `i-${n}0000`, ip, subnetId, eniId: `eni-${n}`, sourceDestCheck: true, state: 'running', az: 'us-east-1a', ...opts };
    this.instances.push(i);
    return i;
  }

  addTable(subnetIds: string[], opts: { main?: boolean; routes?: FakeRoute[] } = {}): FakeRouteTable {
    const t: FakeRouteTable = {
      id: `rtb-${(++this.seq).toString(16).padStart(8, '0')}`,
      main: opts.main ?? false,
      subnetIds,
      routes: [{ cidr: this.vpcCidr, gatewayId: 'local' }, ...(opts.routes ?? [])],
    };
    this.tables.push(t);
    return t;
  }

  table(id: string): FakeRouteTable {
    const t = this.tables.find((x) => x.id === id);
    if (!t) throw new Error(`no table ${id}`);
    return t;
  }

  /** CIDR → ip of the instance its route points at (null: black hole), for the instance routes of a table. */
  routesOf(id: string): Record<string, string | null> {
    const out: Record<string, string | null> = {};
    for (const r of this.table(id).routes) {
      if (!r.eniId && !r.instanceId) continue;
      out[r.cidr] = this.instances.find((i) => i.state === 'running' && (r.eniId ? i.eniId === r.eniId : i.instanceId === r.instanceId))?.ip ?? null;
    }
    return out;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const params = Object.fromEntries(new URLSearchParams(body));
        const action = params.Action ?? '';
        this.calls.push({ action, params });
        const requestId = `req-${this.calls.length}`;
        let status = 200;
        let xml: string;
        try {
          const fault = this.faults.find((f) => f.left > 0 && (f.action === action || f.action === '*'));
          if (fault) {
            fault.left--;
            throw new Ec2Error(fault.code, fault.code === 'RequestLimitExceeded' ? 'Request limit exceeded.' : `Injected ${fault.code}`, fault.status);
          }
          xml = `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}"><requestId>${requestId}</requestId>${this.handle(action, params)}</${action}Response>`;
        } catch (e) {
          const err = e instanceof Ec2Error ? e : new Ec2Error('InternalError', String(e), 500);
          status = err.status;
          xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
        }
        res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
        res.end(xml);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = null;
  }

  // ---------- actions ----------

  private handle(action: string, p: Record<string, string>): string {
    switch (action) {
      case 'DescribeVpcs':
        return `<vpcSet>${this.filtered(p, [{ 'vpc-id': this.vpcId }]).length ? `<item>${tag('vpcId', this.vpcId)}${tag('cidrBlock', this.vpcCidr)}${tag('state', 'available')}</item>` : ''}</vpcSet>`;
      case 'DescribeSubnets':
        return `<subnetSet>${this.subnets
          .filter((s) => this.matches(p, { 'vpc-id': this.vpcId, 'subnet-id': s.subnetId }))
          .map((s) => `<item>${tag('subnetId', s.subnetId)}${tag('vpcId', this.vpcId)}${tag('cidrBlock', s.cidr)}${tag('availabilityZone', s.az)}${tag('state', 'available')}</item>`)
          .join('')}</subnetSet>`;
      case 'DescribeInstances':
        return this.describeInstances(p);
      case 'DescribeRouteTables':
        return `<routeTableSet>${this.tables
          .filter((t) => this.matches(p, { 'vpc-id': this.vpcId, 'route-table-id': t.id }))
          .map((t) => this.tableXml(t))
          .join('')}</routeTableSet>`;
      case 'ModifyInstanceAttribute': {
        const inst = this.instance(p.InstanceId);
        if (p['SourceDestCheck.Value'] === undefined) throw new Ec2Error('InvalidParameterCombination', 'Only SourceDestCheck is implemented by the fake');
        inst.sourceDestCheck = p['SourceDestCheck.Value'] === 'true';
        return tag('return', true);
      }
      case 'CreateRoute':
      case 'ReplaceRoute': {
        const t = this.routeTable(p.RouteTableId);
        const cidr = p.DestinationCidrBlock ?? '';
        const existing = t.routes.find((r) => r.cidr === cidr);
        if (action === 'CreateRoute' && existing) throw new Ec2Error('RouteAlreadyExists', `The route identified by ${cidr} already exists.`);
        if (action === 'ReplaceRoute' && !existing) throw new Ec2Error('InvalidRoute.NotFound', `no route with destination-cidr-block ${cidr} in route table ${t.id}`);
        const targets = ['InstanceId', 'NetworkInterfaceId', 'GatewayId'].filter((k) => p[k] !== undefined);
        if (targets.length !== 1) throw new Ec2Error('InvalidParameterCombination', 'The parameter combination is not valid: exactly one target is required');
        const route: FakeRoute = { cidr };
        if (p.GatewayId) route.gatewayId = p.GatewayId;
        else {
          const inst = p.InstanceId ? this.instance(p.InstanceId) : this.instances.find((i) => i.eniId === p.NetworkInterfaceId && i.state === 'running');
          if (!inst) throw new Ec2Error('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${p.NetworkInterfaceId}' does not exist`);
          route.instanceId = inst.instanceId;
          route.eniId = inst.eniId;
        }
        if (existing) Object.assign(existing, { instanceId: undefined, eniId: undefined, gatewayId: undefined }, route);
        else t.routes.push(route);
        return tag('return', true);
      }
      case 'DeleteRoute': {
        const t = this.routeTable(p.RouteTableId);
        const i = t.routes.findIndex((r) => r.cidr === p.DestinationCidrBlock);
        if (i < 0) throw new Ec2Error('InvalidRoute.NotFound', `no route with destination-cidr-block ${p.DestinationCidrBlock} in route table ${t.id}`);
        t.routes.splice(i, 1);
        return tag('return', true);
      }
      default:
        throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  private instance(id: string | undefined): FakeInstance {
    const inst = this.instances.find((i) => i.instanceId === id && i.state !== 'terminated');
    if (!inst) throw new Ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    return inst;
  }

  private routeTable(id: string | undefined): FakeRouteTable {
    const t = this.tables.find((x) => x.id === id);
    if (!t) throw new Ec2Error('InvalidRouteTableID.NotFound', `The routeTable ID '${id}' does not exist`);
    return t;
  }

  /** Filter.N.Name / Filter.N.Value.M → name → values. */
  private filters(p: Record<string, string>): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [k, v] of Object.entries(p)) {
      const m = /^Filter\.(\d+)\.Name$/.exec(k);
      if (!m) continue;
      const vals = Object.entries(p).filter(([k2]) => k2.startsWith(`Filter.${m[1]}.Value.`)).map(([, v2]) => v2);
      out.set(v, vals);
    }
    return out;
  }

  /** Every filter whose name `attrs` knows must match; unknown filter names are an error, as in EC2. */
  private matches(p: Record<string, string>, attrs: Record<string, string>): boolean {
    for (const [name, vals] of this.filters(p)) {
      if (!(name in attrs)) throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
      if (!vals.includes(attrs[name]!)) return false;
    }
    return true;
  }

  private filtered(p: Record<string, string>, rows: Array<Record<string, string>>): Array<Record<string, string>> {
    return rows.filter((r) => this.matches(p, r));
  }

  private describeInstances(p: Record<string, string>): string {
    const ids = Object.entries(p).filter(([k]) => /^InstanceId\.\d+$/.test(k)).map(([, v]) => v);
    for (const id of ids) if (!this.instances.some((i) => i.instanceId === id)) throw new Ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    const items = this.instances
      .filter((i) => (ids.length === 0 || ids.includes(i.instanceId)) && this.matches(p, { 'vpc-id': this.vpcId, 'instance-id': i.instanceId, 'private-ip-address': i.ip, 'instance-state-name': i.state, 'subnet-id': i.subnetId }))
      .map((i) => {
        const code = { running: 16, stopped: 80, terminated: 48 }[i.state];
        const eni =
          i.state === 'terminated'
            ? ''
            : `<networkInterfaceSet><item>${tag('networkInterfaceId', i.eniId)}${tag('subnetId', i.subnetId)}${tag('vpcId', this.vpcId)}${tag('privateIpAddress', i.ip)}${tag('sourceDestCheck', i.sourceDestCheck)}<attachment>${tag('deviceIndex', 0)}${tag('status', 'attached')}</attachment><privateIpAddressesSet><item>${tag('privateIpAddress', i.ip)}${tag('primary', true)}</item></privateIpAddressesSet></item></networkInterfaceSet>`;
        return `<item>${tag('reservationId', `r-${i.instanceId.slice(2)}`)}${tag('ownerId', '123456789012')}<instancesSet><item>${tag('instanceId', i.instanceId)}<instanceState>${tag('code', code)}${tag('name', i.state)}</instanceState>${tag('privateIpAddress', i.state === 'terminated' ? undefined : i.ip)}${tag('subnetId', i.subnetId)}${tag('vpcId', this.vpcId)}<placement>${tag('availabilityZone', i.az)}</placement>${tag('sourceDestCheck', i.sourceDestCheck)}${eni}</item></instancesSet></item>`;
      });
    return `<reservationSet>${items.join('')}</reservationSet>`;
  }

  private tableXml(t: FakeRouteTable): string {
    const routes = t.routes
      .map((r) => {
        const alive = r.gatewayId !== undefined || this.instances.some((i) => i.state === 'running' && i.eniId === r.eniId);
        return `<item>${tag('destinationCidrBlock', r.cidr)}${tag('gatewayId', r.gatewayId)}${tag('instanceId', r.instanceId)}${tag('instanceOwnerId', r.instanceId ? '123456789012' : undefined)}${tag('networkInterfaceId', r.eniId)}${tag('state', alive ? 'active' : 'blackhole')}${tag('origin', r.gatewayId === 'local' ? 'CreateRouteTable' : 'CreateRoute')}</item>`;
      })
      .join('');
    const assoc = [
      ...(t.main ? [`<item>${tag('routeTableAssociationId', `rtbassoc-m${t.id.slice(4)}`)}${tag('routeTableId', t.id)}${tag('main', true)}</item>`] : []),
      ...t.subnetIds.map((s, i) => `<item>${tag('routeTableAssociationId', `rtbassoc-${i}${t.id.slice(4)}`)}${tag('routeTableId', t.id)}${tag('subnetId', s)}${tag('main', false)}</item>`),
    ].join('');
    return `<item>${tag('routeTableId', t.id)}${tag('vpcId', this.vpcId)}${tag('ownerId', '123456789012')}<routeSet>${routes}</routeSet><associationSet>${assoc}</associationSet><tagSet/></item>`;
  }
}
