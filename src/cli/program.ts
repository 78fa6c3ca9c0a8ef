/**
 * The `romana` command tree (commander), its global flags and its help.
 *
 * Help follows the seed's layout ("Usage: romana [flags]", "Available
 * Commands:", "Flags:"; sub-commands also list "Global Flags:"), and every
 * command's help ends with examples and its JSON output shape.
 *
 * Commander never exits the process here: every command reports through
 * exitOverride as a CommanderError carrying the command it happened in, and
 * run.ts turns that into an exit code and one line.
 */
import { Command, CommanderError, Help } from 'commander';
import { registerHost } from './commands/host.js';
import { registerIpamViews } from './commands/ipam.js';
import { registerPolicy } from './commands/policy.js';
import { registerPolicySimulate } from './commands/simulate.js';
import { registerTenant } from './commands/tenant.js';
import { registerLab } from '../lab/command.js';
import { DEFAULT_ROOT_PORT, DEFAULT_ROOT_URL, SYSTEM_CONFIG_FILE } from './config.js';
import type { CommandContext } from './context.js';
import { outputWidth } from './io.js';
import { versionText } from './version.js';

/** A commander failure, with the full name of the command it came from ("romana host add"). */
export class CommandLineError extends Error {
  constructor(
    readonly commander: CommanderError,
    readonly commandPath: string,
  ) {
    super(commander.message);
    this.name = 'CommandLineError';
  }
}

const HEADINGS: Record<string, string> = {
  'Options:': 'Flags:',
  'Global Options:': 'Global Flags:',
  'Commands:': 'Available Commands:',
};

export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

const ROOT_HELP_AFTER = `
Configuration: the first of $HOME/.romana.yaml, .romana.yml, .romana.json that
exists, else ${SYSTEM_CONFIG_FILE}; -c names another. Keys (case-insensitive):
RootURL, RootPort, Format (table|json), Verbose, Platform, LogFile (accepted,
unused), Token. Example (the seed's ~/.romana.yaml):
  RootURL: "http://192.168.99.10"
  RootPort: 9600
  LogFile: "/var/tmp/romana.log"
  Format: "table" # options are table/json
  Platform: "openstack"
  Verbose: false
Precedence: flags, then ROMANA_TOKEN, then the config file, then defaults
(${DEFAULT_ROOT_URL}, port ${DEFAULT_ROOT_PORT}, table). The port is the first of -p, a port
in -r's URL, RootPort, a port in RootURL.

Exit codes: 0 success; 1 the daemon answered with an error; 2 bad usage (command
line, config file or input file: nothing was sent); 3 the daemon cannot be
reached. Errors are one line on stderr: "romana: <message> (<CODE>)".
-v prints each HTTP request and answer on stderr.

Examples:
  romana host list
  romana -r http://192.168.99.10 -p 9600 tenant list
  romana policy add policy.json -f json
  romana topology show
`;

function firstSentence(text: string): string {
  const line = text.split('\n')[0] ?? '';
  const m = /^(.*?\.)(\s|$)/.exec(line);
  return m ? m[1]! : line;
}

export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('romana');
  program
    .description('Romana command line tools: a reference client of the romana-daemon API.')
    .configureOutput({
      writeOut: (s) => ctx.io.stdout(s),
      writeErr: (s) => ctx.io.stderr(s),
      // run.ts prints the one error line itself.
      outputError: () => undefined,
    })
    .configureHelp({
      showGlobalOptions: true,
      helpWidth: outputWidth(ctx.io),
      // Sub-commands listed by name, as cobra did; their own help shows the arguments.
      subcommandTerm: (cmd: Command) => [cmd.name(), ...cmd.aliases()].join(', '),
      formatItemList(heading: string, items: string[], helper: Help): string[] {
        return Help.prototype.formatItemList.call(this, HEADINGS[heading] ?? heading, items, helper);
      },
      commandUsage(cmd: Command): string {
        return Help.prototype.commandUsage.call(this, cmd).replace('[options]', '[flags]');
      },
    })
    .helpOption('-h, --help', 'help for the command')
    // Explicit: commander adds `help [command]` only to commands without an action, and ours have one.
    .helpCommand('help [command]', 'Help about any command')
    .option('-c, --config <file>', 'config file (default is $HOME/.romana.yaml, then /etc/romana/cli.yaml)')
    .option('-f, --format <format>', 'enable formatting options like [json|table], etc.')
    .option('-P, --platform <platform>', 'Use platforms like [openstack|kubernetes], etc. (accepted; no command depends on it)')
    .option('-p, --rootPort <port>', `root service port, e.g. ${DEFAULT_ROOT_PORT}`)
    .option('-r, --rootURL <url>', 'root service url, e.g. http://192.168.0.1')
    .option('-v, --verbose', 'Verbose output (each HTTP request and answer on stderr).')
    .option('--token <token>', 'bearer token for a daemon started with --token-file (or ROMANA_TOKEN, or Token in the config)')
    .version(versionText().trimEnd(), '--version', 'Build and Versioning Information.')
    .addHelpText('after', ROOT_HELP_AFTER);
  // Bare `romana` prints help, as the seed describes; an unknown word is a usage error.
  program.action((_opts: unknown, cmd: Command) => {
    if (cmd.args.length > 0) cmd.error(`error: unknown command '${cmd.args[0]}'`, { code: 'commander.unknownCommand' });
    cmd.help();
  });

  registerHost(program, ctx);
  registerTenant(program, ctx);
  registerPolicy(program, ctx);
  registerPolicySimulate(program, ctx);
  registerIpamViews(program, ctx);
  registerLab(program, ctx);

  // Groups take any operands (their action reports an unknown sub-command); leaves take exactly theirs.
  const visit = (cmd: Command): void => {
    cmd.allowExcessArguments(cmd.commands.length > 0);
    // Command lists show the first sentence of each description.
    if (cmd.summary() === '' || cmd.summary() === undefined) cmd.summary(firstSentence(cmd.description()));
    cmd.exitOverride((err) => {
      throw new CommandLineError(err, commandPath(cmd));
    });
    for (const c of cmd.commands) visit(c);
  };
  visit(program);
  return program;
}
