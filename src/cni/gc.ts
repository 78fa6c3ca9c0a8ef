/**
 * CNI GC (spec 1.1) and STATUS.
 *
 * GC: the runtime lists every attachment it still knows
 * (`cni.dev/valid-attachments`); every address this plugin made on this
 * node (recognised by its name, naming.ts) whose attachment is not in the
 * list is stale: its veth (unless another attachment of the same container
 * is still valid), endpoint record and address are removed, as DEL would.
 * Addresses other tools allocated on the node are never touched. A missing
 * list is refused: treating it as empty would release every pod's address.
 *
 * STATUS: ready when the daemon answers /readyz (and the agent its
 * /readyz, when ADD depends on it); otherwise code 50, "the plugin is not
 * available", so the runtime stops sending ADDs until it is.
 */
import type { VerbContext } from './context.js';
import { removeEndpointIfOurs } from './del.js';
import { CniError, CNI_CODE, toCniError } from './errors.js';
import { parseAddressName, vethName } from './naming.js';

export async function cmdGc(ctx: VerbContext): Promise<{ released: string[] }> {
  const { cfg, net, daemon, log } = ctx;
  if (cfg.validAttachments === null) {
    throw new CniError(CNI_CODE.INVALID_CONFIG, 'GC needs "cni.dev/valid-attachments" in the network configuration');
  }
  const valid = new Set(cfg.validAttachments.map((a) => `${a.containerID}\u0000${a.ifname}`));
  const liveContainers = new Set(cfg.validAttachments.map((a) => a.containerID));
  let addresses;
  try {
    addresses = await daemon.listAddresses(cfg.nodeName);
  } catch (e) {
    throw toCniError(e, `GC failed listing the addresses of host "${cfg.nodeName}"`);
  }
  const released: string[] = [];
  const failures: string[] = [];
  for (const a of addresses) {
    const p = parseAddressName(a.name);
    if (p === null || a.host !== cfg.nodeName) continue;
    if (valid.has(`${p.containerId}\u0000${p.ifname}`)) continue;
    try {
      if (!liveContainers.has(p.containerId)) await net.deleteLink(vethName(p.containerId));
      if (p.pod) await removeEndpointIfOurs(ctx, p.pod.namespace, p.pod.name, a.ip);
      await daemon.release(a.name);
      released.push(a.name);
    } catch (e) {
      failures.push(`"${a.name}": ${(e as Error).message}`);
    }
  }
  log.info('GC done', { released, failures: failures.length });
  if (failures.length > 0) {
    throw new CniError(CNI_CODE.TRY_AGAIN_LATER, `GC could not remove ${failures.length} stale attachment(s): ${failures[0]}`, failures.join('\n'));
  }
  return { released };
}

export async function cmdStatus(ctx: VerbContext): Promise<void> {
  try {
    await ctx.daemon.ready();
  } catch (e) {
    throw new CniError(CNI_CODE.NOT_AVAILABLE, `The Romana daemon is not available: ${(e as Error).message}`);
  }
  if (ctx.agent) {
    try {
      await ctx.agent.ready();
    } catch (e) {
      throw new CniError(CNI_CODE.NOT_AVAILABLE, `The Romana agent at ${ctx.cfg.agent} is not ready: ${(e as Error).message}`);
    }
  }
}
