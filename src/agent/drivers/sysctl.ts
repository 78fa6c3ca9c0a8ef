/**
 * Kernel settings the node needs: IPv4 forwarding (pods' traffic is
 * routed, never bridged). Set and then read back; a value that does not
 * stick is an error (the original agent exited in that case too).
 *
 * Design: through the exec shim (`sysctl -n` / `sysctl -w`), not by writing
 * /proc from this process, so that a test running the driver inside a
 * network namespace changes that namespace's settings and never the
 * machine's. Checked on the first apply and after every `invalidate()`.
 *
 * Concurrency rule: one apply at a time.
 */
import { DriverError, mustRun, type Exec } from '../shims/exec.js';

export const REQUIRED_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '1',
};

export interface SysctlApplyStats {
  checked: boolean;
  changed: string[];
}

export class SysctlDriver {
  private verified = false;

  constructor(
    private readonly exec: Exec,
    private readonly wanted: Readonly<Record<string, string>> = REQUIRED_SYSCTLS,
  ) {}

  invalidate(): void {
    this.verified = false;
  }

  async apply(): Promise<SysctlApplyStats> {
    const stats: SysctlApplyStats = { checked: false, changed: [] };
    if (this.verified) return stats;
    stats.checked = true;
    for (const [name, value] of Object.entries(this.wanted)) {
      const cur = (await mustRun(this.exec, 'sysctl', 'sysctl', ['-n', name])).trim();
      if (cur === value) continue;
      await mustRun(this.exec, 'sysctl', 'sysctl', ['-w', `${name}=${value}`]);
      const after = (await mustRun(this.exec, 'sysctl', 'sysctl', ['-n', name])).trim();
      if (after !== value) throw new DriverError('sysctl', `Sysctl ${name} is ${JSON.stringify(after)} after setting it to ${JSON.stringify(value)}`, `sysctl -w ${name}=${value}`, '');
      stats.changed.push(`${name}=${value}`);
    }
    this.verified = true;
    return stats;
  }
}
