/**
 * What every command action gets: the process I/O and a way to run against
 * the daemon with the resolved settings. Commands return a CommandOutput;
 * printing it (as a table or JSON) and turning failures into exit codes is
 * done once, here and in run.ts.
 *
 * Concurrency rule: one context per CLI run (one command).
 */
import type { Command } from 'commander';
import type { RomanaClient } from '../shared/api_client.js';
import { loadConfigFile, resolveSettings, type CliSettings, type GlobalFlags } from './config.js';
import { EXIT_OK, errorLine, exitCodeFor } from './errors.js';
import { outputWidth, type CliIo } from './io.js';

export interface CommandOutput {
  /** What `-f json` prints (2-space indented). */
  json: unknown;
  /** What table format prints, for a terminal `width` columns wide. */
  text(width: number): string;
  /**
   * Failures for some of the arguments (e.g. `host show a b` with b
   * unknown): the output shows the others, each failure gets its line on
   * stderr, and the exit code is the worst of them.
   */
  errors?: unknown[];
  /** Every argument failed: print nothing on stdout, only the error lines. */
  nothing?: boolean;
}

export class CommandContext {
  /** Set once the global flags are resolved (error lines name the daemon URL). */
  settings: CliSettings | undefined;
  exitCode = EXIT_OK;

  constructor(readonly io: CliIo) {}

  /** Resolves the settings from the command's flags (and their parents'), the environment and the config file. */
  async resolve(cmd: Command): Promise<CliSettings> {
    const flags = cmd.optsWithGlobals() as GlobalFlags;
    const file = await loadConfigFile(flags.config, { home: this.io.env.HOME, system: this.io.systemConfigFile }, {
      readText: async (p) => {
        try {
          return await this.io.readFile(p);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
          throw e;
        }
      },
    });
    const s = resolveSettings(flags, file, this.io.env);
    this.settings = s;
    if (s.verbose) {
      this.io.stderr(`* config file: ${s.configFile ?? '(none found)'}${s.ignoredKeys.length > 0 ? `; ignored keys: ${s.ignoredKeys.join(', ')}` : ''}\n`);
      this.io.stderr(`* daemon: ${s.daemonUrl}${s.token === undefined ? '' : ' (with a bearer token)'}; format ${s.format}\n`);
    }
    return s;
  }

  /** Runs `fn` against the daemon and prints its output in the chosen format. */
  async run(cmd: Command, fn: (api: RomanaClient, settings: CliSettings) => Promise<CommandOutput>): Promise<void> {
    const s = await this.resolve(cmd);
    // Loaded on demand: undici is most of the CLI's start-up time, and help or a usage error needs none of it.
    const { openClient } = await import('./client.js');
    const client = openClient({
      daemonUrl: s.daemonUrl,
      token: s.token,
      ...(s.verbose ? { trace: (line: string) => this.io.stderr(`${line}\n`) } : {}),
    });
    try {
      this.print(await fn(client.api, s), s);
    } finally {
      await client.close();
    }
  }

  /** Prints without a daemon (e.g. nothing to send). */
  async local(cmd: Command, fn: (settings: CliSettings) => Promise<CommandOutput>): Promise<void> {
    const s = await this.resolve(cmd);
    this.print(await fn(s), s);
  }

  private print(out: CommandOutput, s: CliSettings): void {
    if (out.nothing === true) {
      // Only error lines follow.
    } else if (s.format === 'json') this.io.stdout(`${JSON.stringify(out.json, null, 2)}\n`);
    else this.io.stdout(out.text(outputWidth(this.io)));
    for (const e of out.errors ?? []) {
      this.io.stderr(`${errorLine(e, s.daemonUrl)}\n`);
      this.exitCode = Math.max(this.exitCode, exitCodeFor(e));
    }
  }
}
