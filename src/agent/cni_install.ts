/**
 * Installs the CNI plugin on the node: the binary as `<bin-dir>/romana` and
 * the network configuration list as `<conf-dir>/10-romana.conflist`.
 *
 * Design: every file is written to a temporary name in the same directory
 * and renamed into place, so the container runtime never reads a half
 * written plugin or config. A file whose content is already right is not
 * rewritten (an agent restart changes nothing on disk). Other plugins'
 * binaries and configurations are never read, moved or deleted (the
 * original installer refused to run next to them).
 *
 * The conflist carries what romana-cni needs (src/cni/config.ts): the
 * daemon address, the node name, the agent's URL for the pre-return sync,
 * the MTU, and the daemon token (a token file is referenced by path; an
 * inline token makes the conflist mode 0600).
 *
 * Concurrency rule: called from the agent's start-up only.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const CNI_BINARY_NAME = 'romana';
export const CONFLIST_NAME = '10-romana.conflist';
export const CNI_NETWORK_NAME = 'romana';

export interface ConflistOptions {
  daemon: string;
  nodeName: string;
  /** Base URL of the agent's health server (POST /sync). */
  agentUrl: string;
  mtu: number;
  token: string | null;
  tokenFile: string | null;
}

export function conflist(o: ConflistOptions): Record<string, unknown> {
  const plugin: Record<string, unknown> = { type: CNI_BINARY_NAME, daemon: o.daemon, node_name: o.nodeName, agent: o.agentUrl, mtu: o.mtu };
  if (o.tokenFile !== null) plugin.token_file = o.tokenFile;
  else if (o.token !== null) plugin.token = o.token;
  return { cniVersion: '1.0.0', name: CNI_NETWORK_NAME, plugins: [plugin] };
}

async function sameContent(file: string, data: Buffer): Promise<boolean> {
  try {
    const cur = await readFile(file);
    return cur.length === data.length && createHash('sha256').update(cur).digest('hex') === createHash('sha256').update(data).digest('hex');
  } catch {
    return false;
  }
}

/** Writes `data` to `file` via a temporary file and rename; false when the file already had it. */
export async function writeAtomically(file: string, data: Buffer, mode: number): Promise<boolean> {
  if (await sameContent(file, data)) {
    await chmod(file, mode);
    return false;
  }
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  try {
    await writeFile(tmp, data, { mode });
    await chmod(tmp, mode);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return true;
}

export interface InstallResult {
  binary: { path: string; written: boolean } | null;
  conflist: { path: string; written: boolean };
}

export async function installCni(o: ConflistOptions & { source: string | null; binDir: string; confDir: string }): Promise<InstallResult> {
  let binary: InstallResult['binary'] = null;
  if (o.source !== null) {
    const data = await readFile(o.source);
    const target = path.join(o.binDir, CNI_BINARY_NAME);
    binary = { path: target, written: await writeAtomically(target, data, 0o755) };
  }
  const target = path.join(o.confDir, CONFLIST_NAME);
  const text = Buffer.from(`${JSON.stringify(conflist(o), null, 2)}\n`);
  // An inline token must not be world-readable.
  const written = await writeAtomically(target, text, o.tokenFile === null && o.token !== null ? 0o600 : 0o644);
  return { binary, conflist: { path: target, written } };
}
