/**
 * CNI DEL: remove the veth (its peer, the gateway address and the pod's
 * /32 route go with it), this attachment's part of the endpoint record,
 * and release the address.
 *
 * Design: idempotent and best-effort about what is already gone — a
 * missing veth, a deleted namespace, an address released earlier are all
 * success. What is *not* swallowed (unlike the original, reference §12
 * item 11): a daemon that cannot be reached, or a veth that exists but
 * cannot be deleted. Those fail the DEL so that the runtime retries it
 * instead of leaking the address (GC is the second net).
 *
 * Order: kernel first, then the daemon — an address is never handed to
 * another pod while a route for it still points at this veth — and the
 * endpoint record before the address, so that a DEL interrupted after the
 * release left nothing that a retry could no longer match by IP.
 *
 * Concurrency rule: as ADD.
 */
import type { VerbContext } from './context.js';
import { UNSUPPORTED, type EndpointInfo } from './daemon_client.js';
import { toCniError } from './errors.js';
import { addressName, vethName } from './naming.js';

export async function cmdDel(ctx: VerbContext): Promise<void> {
  const { env, cfg, net, daemon, log } = ctx;
  const name = addressName(env.containerId, env.ifname, env.pod);
  const veth = vethName(env.containerId);
  try {
    // Independent: the kernel side and the lookup of what the daemon holds.
    const [removed, addr] = await Promise.all([
      net.deleteLink(veth).catch((e) => {
        throw toCniError(e, `DEL failed deleting veth "${veth}"`);
      }),
      daemon.getAddress(name).catch((e) => {
        throw toCniError(e, `DEL failed looking up address "${name}"`);
      }),
    ]);
    if (addr !== null && addr.host !== cfg.nodeName) {
      // The name embeds the container id, so this is another node's attachment (or a misconfigured node_name): not ours to release.
      log.warn('address belongs to another host; left alone', { address: name, host: addr.host, node: cfg.nodeName });
      return;
    }
    let step = '';
    try {
      if (addr !== null && env.pod) {
        step = `removing endpoint "${env.pod.namespace}/${env.pod.name}"`;
        await removeEndpointIfOurs(ctx, env.pod.namespace, env.pod.name, addr.ip);
      }
      step = `releasing address "${name}"`;
      if (addr !== null) await daemon.release(name);
    } catch (e) {
      throw toCniError(e, `DEL failed ${step}`);
    }
    log.info('DEL done', { address: name, ip: addr?.ip ?? null, vethRemoved: removed });
  } catch (e) {
    throw toCniError(e, 'DEL failed');
  }
}

/** Withdraws the pod's endpoint record when it still names `ip` (a newer sandbox may have replaced it). */
export async function removeEndpointIfOurs(ctx: VerbContext, namespace: string, pod: string, ip: string): Promise<void> {
  const ep = await ctx.daemon.getEndpoint(namespace, pod);
  if (ep === UNSUPPORTED || ep === null || ep.ip !== ip) return;
  await withdrawEndpoint(ctx, namespace, pod, ep);
}

/**
 * Takes this plugin's part out of an endpoint record: deletes the record
 * when nobody else wrote anything into it, else clears ip and node and
 * keeps the listener's labels and ports (they outlive a sandbox; the
 * firewall ignores a record without an address). `known` saves a lookup
 * when the caller just read the record.
 */
export async function withdrawEndpoint(ctx: VerbContext, namespace: string, pod: string, known?: EndpointInfo): Promise<void> {
  const ep = known ?? (await ctx.daemon.getEndpoint(namespace, pod));
  if (ep === UNSUPPORTED || ep === null) return;
  const othersWrote = Object.keys(ep.labels ?? {}).length > 0 || (ep.ports ?? []).length > 0;
  if (othersWrote) await ctx.daemon.putEndpoint(namespace, pod, { ip: null, node: null });
  else await ctx.daemon.deleteEndpoint(namespace, pod);
}
