/**
 * CNI spec versions: which ones the plugin speaks, which verbs each allows,
 * and the ADD result in each version's shape.
 *
 * Design: the plugin builds one version-neutral AttachmentResult and
 * encodes it for the version the runtime asked for (the config's
 * `cniVersion`), as the reference plugins' `types.Result.GetAsVersion` do:
 * - 0.3.x / 0.4.0: `ips[].version` ("4") and `ips[].interface` (an index
 *   into `interfaces`);
 * - 1.0.0: no `ips[].version`;
 * - 1.1.0: as 1.0.0, plus `interfaces[].mtu`.
 * A prevResult (CHECK) is decoded from any of these shapes.
 */
import { CniError, CNI_CODE } from './errors.js';

export const SUPPORTED_VERSIONS = Object.freeze(['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const);
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const LATEST_VERSION: CniVersion = '1.1.0';

export function isSupportedVersion(v: unknown): v is CniVersion {
  return typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

/** -1, 0, 1 comparing dotted versions numerically ("0.10.0" > "0.4.0"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** CHECK arrived in 0.4.0, GC and STATUS in 1.1.0 (the reference skel refuses them below). */
export function requireVersionFor(verb: 'CHECK' | 'GC' | 'STATUS', version: string): void {
  const min = verb === 'CHECK' ? '0.4.0' : '1.1.0';
  if (compareVersions(version, min) < 0) {
    throw new CniError(CNI_CODE.INCOMPATIBLE_VERSION, `Config version "${version}" does not allow ${verb}: it needs cniVersion ${min} or later`);
  }
}

/** One attachment as the plugin sees it, before encoding for a version. */
export interface AttachmentResult {
  hostInterface: { name: string; mac: string; mtu: number };
  podInterface: { name: string; mac: string; mtu: number; sandbox: string };
  /** The pod's address, e.g. "10.112.0.5/32". */
  address: string;
  gateway: string;
}

interface InterfaceJson {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
}

interface IpJson {
  version?: '4';
  address: string;
  gateway?: string;
  interface?: number;
}

export interface ResultJson {
  cniVersion: string;
  interfaces: InterfaceJson[];
  ips: IpJson[];
  routes: Array<{ dst: string; gw?: string }>;
  dns: Record<string, never>;
}

/** Index of the pod interface in `interfaces` (the host veth is 0, as the reference plugins list it). */
export const POD_INTERFACE_INDEX = 1;

export function encodeResult(r: AttachmentResult, version: CniVersion): ResultJson {
  const legacy = compareVersions(version, '1.0.0') < 0;
  const withMtu = compareVersions(version, '1.1.0') >= 0;
  const host: InterfaceJson = { name: r.hostInterface.name, mac: r.hostInterface.mac };
  const pod: InterfaceJson = { name: r.podInterface.name, mac: r.podInterface.mac, sandbox: r.podInterface.sandbox };
  if (withMtu) {
    host.mtu = r.hostInterface.mtu;
    pod.mtu = r.podInterface.mtu;
  }
  const ip: IpJson = legacy
    ? { version: '4', address: r.address, gateway: r.gateway, interface: POD_INTERFACE_INDEX }
    : { address: r.address, gateway: r.gateway, interface: POD_INTERFACE_INDEX };
  return {
    cniVersion: version,
    interfaces: [host, pod],
    ips: [ip],
    // The pod's default route: the link-local gateway the host side owns (DESIGN §6).
    routes: [{ dst: '0.0.0.0/0', gw: r.gateway }],
    dns: {},
  };
}

/** What CHECK needs from a prevResult: the pod's IPv4 address on `ifname` (any version's shape). */
export function addressFromPrevResult(prev: unknown, ifname: string, sandbox: string): string {
  if (typeof prev !== 'object' || prev === null) {
    throw new CniError(CNI_CODE.INVALID_CONFIG, 'CHECK needs "prevResult" in the network configuration');
  }
  const p = prev as { interfaces?: unknown; ips?: unknown };
  const interfaces = Array.isArray(p.interfaces) ? (p.interfaces as InterfaceJson[]) : [];
  const ips = Array.isArray(p.ips) ? (p.ips as IpJson[]) : [];
  const mine = ips.filter((ip) => {
    if (typeof ip?.address !== 'string' || !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(ip.address)) return false;
    if (ip.interface === undefined) return true;
    const intf = interfaces[ip.interface];
    return intf !== undefined && intf.name === ifname && (intf.sandbox === undefined || intf.sandbox === sandbox);
  });
  if (mine.length !== 1) {
    throw new CniError(
      CNI_CODE.INVALID_CONFIG,
      `prevResult has ${mine.length} IPv4 addresses for interface "${ifname}" in "${sandbox}": expected exactly one`,
      JSON.stringify(ips),
    );
  }
  return mine[0]!.address;
}
