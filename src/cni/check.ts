/**
 * CNI CHECK: verify, without changing anything, that the attachment ADD
 * made is intact — the daemon still holds the address for this node, the
 * veth pair, addresses and routes are in place on both sides, the MTU is
 * the configured one, and the endpoint record (where the daemon keeps them)
 * names this address.
 *
 * Design: every problem is collected and reported in one error (code 999,
 * the reference plugins' code for a failed check; code 3 when the
 * namespace is gone), so an operator sees the whole picture at once.
 *
 * Concurrency rule: reads only.
 */
import type { VerbContext } from './context.js';
import { UNSUPPORTED } from './daemon_client.js';
import { CniError, CNI_CODE, INTERNAL_CNI, toCniError } from './errors.js';
import { arePeers, hasAddress, isUp } from './net.js';
import { addressName, GATEWAY, vethName } from './naming.js';
import { addressFromPrevResult } from './versions.js';

export async function cmdCheck(ctx: VerbContext): Promise<void> {
  const { env, cfg, net, daemon } = ctx;
  if (!(await ctx.isNetns(env.netns))) {
    throw new CniError(CNI_CODE.UNKNOWN_CONTAINER, `Network namespace "${env.netns}" does not exist or is not a network namespace`);
  }
  const cidr = addressFromPrevResult(cfg.prevResult, env.ifname, env.netns);
  const ip = cidr.split('/')[0]!;
  const name = addressName(env.containerId, env.ifname, env.pod);
  const veth = vethName(env.containerId);
  const problems: string[] = [];
  if (cidr !== `${ip}/32`) problems.push(`prevResult address ${cidr} is not a /32`);

  let step = `looking up address "${name}"`;
  try {
    const addr = await daemon.getAddress(name);
    if (addr === null) problems.push(`the daemon holds no address named "${name}"`);
    else {
      if (addr.ip !== ip) problems.push(`the daemon has ${addr.ip} for "${name}", prevResult ${ip}`);
      if (addr.host !== cfg.nodeName) problems.push(`the daemon has "${name}" on host "${addr.host}", this node is "${cfg.nodeName}"`);
    }

    step = `reading "${env.ifname}" in "${env.netns}"`;
    const pod = await net.podLink(env.netns, env.ifname);
    step = `reading "${veth}"`;
    const host = await net.hostLink(veth);
    if (pod === null) problems.push(`interface "${env.ifname}" is missing in "${env.netns}"`);
    else {
      if (!isUp(pod)) problems.push(`"${env.ifname}" is down`);
      if (pod.mtu !== cfg.mtu) problems.push(`"${env.ifname}" has MTU ${pod.mtu}, configured ${cfg.mtu}`);
      if (!hasAddress(pod, ip, 32)) problems.push(`"${env.ifname}" lacks ${ip}/32`);
      step = `reading routes in "${env.netns}"`;
      const routes = await net.podRoutes(env.netns, env.ifname);
      if (!routes.some((r) => r.dst === GATEWAY && r.scope === 'link' && r.gateway === undefined)) {
        problems.push(`no route "${GATEWAY} dev ${env.ifname} scope link" in the pod`);
      }
      if (!routes.some((r) => r.dst === 'default' && r.gateway === GATEWAY)) problems.push(`no default route via ${GATEWAY} in the pod`);
    }
    if (host === null) problems.push(`host veth "${veth}" is missing`);
    else {
      if (!isUp(host)) problems.push(`"${veth}" is down`);
      if (host.mtu !== cfg.mtu) problems.push(`"${veth}" has MTU ${host.mtu}, configured ${cfg.mtu}`);
      if (!hasAddress(host, GATEWAY, 32)) problems.push(`"${veth}" lacks ${GATEWAY}/32`);
      if (pod !== null && !arePeers(host, pod)) problems.push(`"${veth}" is not the peer of "${env.ifname}" in "${env.netns}"`);
      step = `reading routes of "${veth}"`;
      const routes = await net.hostRoutes(veth);
      if (!routes.some((r) => r.dst === ip && r.scope === 'link')) problems.push(`no host route "${ip}/32 dev ${veth} scope link"`);
    }

    if (env.pod) {
      step = `reading endpoint "${env.pod.namespace}/${env.pod.name}"`;
      const ep = await daemon.getEndpoint(env.pod.namespace, env.pod.name);
      if (ep === null) problems.push(`the daemon has no endpoint record for "${env.pod.namespace}/${env.pod.name}"`);
      else if (ep !== UNSUPPORTED && ep.ip !== ip) problems.push(`the endpoint record names ${JSON.stringify(ep.ip ?? null)}, expected ${ip}`);
    }
  } catch (e) {
    throw toCniError(e, `CHECK failed ${step}`);
  }
  if (problems.length > 0) {
    throw new CniError(INTERNAL_CNI, `CHECK failed: ${problems.join('; ')}`, problems.join('\n'));
  }
}
