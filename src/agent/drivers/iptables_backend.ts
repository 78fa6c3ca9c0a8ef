/**
 * Which iptables the node uses: legacy (x_tables) or nft (nf_tables
 * through iptables-nft). The two keep separate rule sets; writing into one
 * while the node's other software uses the other leaves half the firewall
 * invisible, so the agent picks one and refuses to mix.
 *
 * Detection (`--iptables-mode auto`), like kube-proxy's iptables-wrapper:
 *   1. Romana chains in exactly one backend → that backend (our own state).
 *   2. Romana chains in both → error naming both (a previous run in the
 *      other mode: clean one up).
 *   3. Rules in exactly one backend → that backend (the node's other
 *      software, kube-proxy, the distribution's firewall, use it).
 *   4. Rules in both → error naming both and their rule counts.
 *   5. Neither → whatever `iptables` is (`iptables --version` says
 *      "(nf_tables)" or "(legacy)"); nft if that cannot be told.
 * A forced mode (`legacy`/`nft`) is refused when the other backend holds
 * Romana chains, and used with a warning when it holds other rules.
 *
 * Concurrency rule: called once at start-up, before any driver runs.
 */
import type { Logger } from '../../shared/log.js';
import { CHAIN_PREFIX } from '../../core/firewall/types.js';
import { countRules } from './iptables_save.js';
import { DriverError, type Exec } from '../shims/exec.js';

export type IptablesMode = 'legacy' | 'nft';

export interface IptablesBackend {
  readonly mode: IptablesMode;
  readonly save: string;
  readonly restore: string;
}

export const BACKENDS: Readonly<Record<IptablesMode, IptablesBackend>> = {
  legacy: { mode: 'legacy', save: 'iptables-legacy-save', restore: 'iptables-legacy-restore' },
  nft: { mode: 'nft', save: 'iptables-nft-save', restore: 'iptables-nft-restore' },
};

interface BackendState {
  available: boolean;
  rules: number;
  romanaChains: string[];
}

async function inspect(exec: Exec, mode: IptablesMode): Promise<BackendState> {
  let r;
  try {
    r = await exec.run(BACKENDS[mode].save, []);
  } catch {
    return { available: false, rules: 0, romanaChains: [] };
  }
  if (r.code !== 0) return { available: false, rules: 0, romanaChains: [] };
  const c = countRules(r.stdout);
  return { available: true, rules: c.rules, romanaChains: c.userChains.filter((n) => n.startsWith(CHAIN_PREFIX)) };
}

async function defaultMode(exec: Exec): Promise<IptablesMode | null> {
  try {
    const r = await exec.run('iptables', ['--version']);
    if (/nf_tables/.test(r.stdout)) return 'nft';
    if (/legacy/.test(r.stdout)) return 'legacy';
  } catch {
    // no plain iptables on PATH
  }
  return null;
}

const other = (m: IptablesMode): IptablesMode => (m === 'nft' ? 'legacy' : 'nft');
const bin = (m: IptablesMode): string => `iptables-${m}`;
const sample = (chains: string[]): string => `${chains.slice(0, 3).join(', ')}${chains.length > 3 ? ', …' : ''}`;

export async function detectBackend(exec: Exec, requested: 'auto' | IptablesMode, log?: Logger): Promise<{ backend: IptablesBackend; reason: string }> {
  const state: Record<IptablesMode, BackendState> = { legacy: await inspect(exec, 'legacy'), nft: await inspect(exec, 'nft') };
  const fail = (msg: string): never => {
    throw new DriverError('iptables', msg, `${BACKENDS.legacy.save}; ${BACKENDS.nft.save}`, '');
  };
  if (requested !== 'auto') {
    const o = other(requested);
    if (!state[requested].available) fail(`--iptables-mode=${requested}: ${BACKENDS[requested].save} does not work on this node`);
    if (state[o].romanaChains.length > 0) {
      fail(
        `Refusing to mix iptables backends: --iptables-mode=${requested} but ${bin(o)} holds Romana chains (${sample(state[o].romanaChains)}); ` +
          `remove them from ${bin(o)} or run with --iptables-mode=${o}`,
      );
    }
    if (state[o].rules > 0) log?.warn({ other: bin(o), rules: state[o].rules }, `${bin(o)} also holds ${state[o].rules} rule(s) of other software; Romana uses ${bin(requested)} as told`);
    return { backend: BACKENDS[requested], reason: `--iptables-mode=${requested}` };
  }
  const withRomana = (['legacy', 'nft'] as const).filter((m) => state[m].romanaChains.length > 0);
  if (withRomana.length === 2) {
    fail(
      `Refusing to mix iptables backends: both iptables-legacy (${sample(state.legacy.romanaChains)}) and iptables-nft (${sample(state.nft.romanaChains)}) hold Romana chains; ` +
        'remove one set and restart, or choose with --iptables-mode',
    );
  }
  if (withRomana.length === 1) return { backend: BACKENDS[withRomana[0]!], reason: `${bin(withRomana[0]!)} holds Romana chains` };
  const withRules = (['legacy', 'nft'] as const).filter((m) => state[m].rules > 0);
  if (withRules.length === 2) {
    fail(
      `Refusing to mix iptables backends: iptables-legacy holds ${state.legacy.rules} rule(s) and iptables-nft holds ${state.nft.rules}; ` +
        'tell Romana which one the node uses with --iptables-mode=legacy or --iptables-mode=nft',
    );
  }
  if (withRules.length === 1) return { backend: BACKENDS[withRules[0]!], reason: `only ${bin(withRules[0]!)} holds rules` };
  const def = await defaultMode(exec);
  const mode: IptablesMode = def ?? (state.nft.available ? 'nft' : 'legacy');
  if (!state[mode].available) fail(`No working iptables: neither ${BACKENDS.nft.save} nor ${BACKENDS.legacy.save} ran`);
  return { backend: BACKENDS[mode], reason: def ? `no rules yet; iptables is ${bin(def)}` : `no rules yet; ${bin(mode)} works` };
}
