/**
 * CNI ADD: address from the daemon, veth pair into the pod, routes, the
 * endpoint record, and — when an agent is configured — a full firewall
 * sync, so that a pod some policy already selects is isolated before the
 * runtime starts its containers (DESIGN §5).
 *
 * Design:
 * - Idempotent: the address is allocated by a deterministic name (the
 *   daemon answers a repeat with the same IP), the veth has a deterministic
 *   name and is reused when its peer is CNI_IFNAME in CNI_NETNS, and every
 *   write is a replace. A retried ADD returns the same result.
 * - Rollback: each step that changes something arms its inverse before it
 *   runs; any failure runs them (endpoint record, veth, address — the
 *   address last, so it is never handed out while a route still points
 *   here) and reports the original error. A failed ADD leaves no veth,
 *   route, endpoint record or address behind — also when it was a retry
 *   of an earlier successful ADD, because the runtime then treats the
 *   attachment as not existing.
 * - Order: namespace check (code 3, nothing done yet) → [endpoint labels
 *   (segment) → allocate] alongside [veth] → pod side → host side →
 *   endpoint record → agent sync. The kernel side is complete before the
 *   endpoint is published, so the agent never programs rules for a pod
 *   without its veth and route.
 *
 * Concurrency rule: the runtime serialises verbs per attachment; different
 * attachments share nothing but the daemon, whose allocation is atomic.
 */
import type { VerbContext } from './context.js';
import { UNSUPPORTED, type EndpointInfo } from './daemon_client.js';
import { withdrawEndpoint } from './del.js';
import { CniError, CNI_CODE, toCniError } from './errors.js';
import { arePeers, type LinkInfo } from './net.js';
import { addressName, GATEWAY, vethName } from './naming.js';
import { encodeResult, type ResultJson } from './versions.js';

export const DEFAULT_TENANT = 'default';
export const DEFAULT_SEGMENT = 'default';

export async function cmdAdd(ctx: VerbContext): Promise<ResultJson> {
  const { env, cfg, net, daemon, log } = ctx;
  if (!(await ctx.isNetns(env.netns))) {
    throw new CniError(CNI_CODE.UNKNOWN_CONTAINER, `Network namespace "${env.netns}" does not exist or is not a network namespace`);
  }
  const name = addressName(env.containerId, env.ifname, env.pod);
  const veth = vethName(env.containerId);
  const podRef = env.pod ? `${env.pod.namespace}/${env.pod.name}` : env.containerId;
  // Inverses, run in this order on failure: the record first, the address last (never
  // free for another pod while a route still points here). Each is armed *before* its
  // step runs: a step that fails after taking effect (a timed-out allocation the daemon
  // did commit) is still undone, and undoing what never happened is harmless.
  const rollback: { endpoint?: () => Promise<unknown>; veth?: () => Promise<unknown>; address?: () => Promise<unknown> } = {};
  const failed = (doing: string) => (e: unknown) => {
    throw toCniError(e, `ADD failed ${doing}`);
  };
  try {
    // The daemon side (labels → segment → address) and the veth do not depend on each
    // other; running them together hides one behind the other (about 15 ms).
    const daemonSide = (async (): Promise<{ ip: string; previous: EndpointInfo | null | typeof UNSUPPORTED }> => {
      let previous: EndpointInfo | null | typeof UNSUPPORTED = UNSUPPORTED;
      if (env.pod) previous = await daemon.getEndpoint(env.pod.namespace, env.pod.name).catch(failed(`reading the endpoint record of "${podRef}"`));
      // The segment decides which block the address comes from.
      const labels = previous !== UNSUPPORTED && previous !== null ? (previous.labels ?? {}) : {};
      const tenant = env.pod?.namespace ?? DEFAULT_TENANT;
      const segment = labels[cfg.segmentLabel] || DEFAULT_SEGMENT;
      rollback.address = () => daemon.release(name);
      const ip = await daemon
        .allocate({ name, host: cfg.nodeName, tenant, segment })
        .catch(failed(`allocating an address for "${podRef}" on host "${cfg.nodeName}"`));
      log.debug('address allocated', { address: name, ip, tenant, segment });
      return { ip, previous };
    })();
    const kernelSide = (async () => {
      rollback.veth = () => net.deleteLink(veth);
      await ensureVeth(ctx, veth).catch(failed(`creating veth "${veth}" to "${env.ifname}" in "${env.netns}"`));
    })();
    const [d, k] = await Promise.allSettled([daemonSide, kernelSide]);
    if (d.status === 'rejected') throw d.reason;
    if (k.status === 'rejected') throw k.reason;
    const { ip, previous } = d.value;

    const podLink = await net.configurePod(env.netns, env.ifname, ip, cfg.mtu);
    const hostLink = await net.configureHost(veth, ip, cfg.mtu);

    if (env.pod && previous !== UNSUPPORTED) {
      const { namespace, name: pod } = env.pod;
      const before = previous;
      rollback.endpoint = () =>
        // A record naming another address (an older sandbox's) gets it back; one naming
        // this address came from an earlier ADD of this attachment and goes with it.
        before !== null && before.ip && before.ip !== ip
          ? daemon.putEndpoint(namespace, pod, { ip: before.ip, node: before.node ?? null })
          : withdrawEndpoint(ctx, namespace, pod);
      // PUT merges: only ip and node are this plugin's; the listener's labels and ports stay.
      await daemon.putEndpoint(namespace, pod, { ip, node: cfg.nodeName }).catch(failed(`registering endpoint "${podRef}"`));
    }

    if (ctx.agent) {
      try {
        await ctx.agent.sync();
      } catch (e) {
        // Fail closed: without the sync a pod that policy isolates could start open.
        throw new CniError(CNI_CODE.TRY_AGAIN_LATER, `The agent did not confirm a firewall sync for "${podRef}": ${(e as Error).message}`, `agent ${cfg.agent}`);
      }
    }

    log.info('ADD done', { address: name, ip, veth });
    return encodeResult(
      {
        hostInterface: { name: veth, mac: hostLink.address, mtu: hostLink.mtu },
        podInterface: { name: env.ifname, mac: podLink.address, mtu: podLink.mtu, sandbox: env.netns },
        address: `${ip}/32`,
        gateway: GATEWAY,
      },
      cfg.cniVersion,
    );
  } catch (e) {
    const err = toCniError(e, 'ADD failed');
    const undone: string[] = [];
    for (const [what, run] of [
      [`endpoint record of "${podRef}"`, rollback.endpoint],
      [`veth "${veth}"`, rollback.veth],
      [`address "${name}"`, rollback.address],
    ] as const) {
      if (!run) continue;
      try {
        await run();
        undone.push(what);
      } catch (ue) {
        log.error(`rollback of the ${what} failed`, { err: (ue as Error).message });
      }
    }
    log.error('ADD failed and was rolled back', { code: err.code, msg: err.message, undone });
    throw err;
  }
}

/**
 * Makes sure `veth` exists with CNI_IFNAME in CNI_NETNS as its peer: reuses
 * a matching pair (retried ADD), replaces a stale host end, creates
 * otherwise.
 */
async function ensureVeth(ctx: VerbContext, veth: string): Promise<void> {
  const { env, cfg, net, log } = ctx;
  const host: LinkInfo | null = await net.hostLink(veth);
  if (host) {
    const pod = await net.podLink(env.netns, env.ifname);
    if (pod && arePeers(host, pod)) return;
    log.warn('replacing a stale host veth', { veth });
    await net.deleteLink(veth);
  }
  await net.createVeth(veth, env.ifname, env.netns, cfg.mtu);
}
