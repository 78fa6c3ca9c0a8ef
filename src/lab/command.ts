/**
 * `romana lab up|check|policy|down|status`: the command group (registered
 * in src/cli/program.ts). The work is in the modules index.ts names; here are the flags, the
 * printing and the exit codes: 0 good, 1 a check failed or the lab could
 * not be built, 2 bad usage / not root / missing packages / no lab.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { group, helpAfter } from '../cli/commands/common.js';
import type { CommandContext } from '../cli/context.js';
import { DEFAULT_PREFIX, DEFAULT_STATE_DIR, LabError, applyPolicyFile, labCheck, labDown, labStatus, labUp, probeMatrix, readState, renderMatrix, renderSummary, type LabState } from './index.js';

interface CommonOpts {
  stateDir: string;
  prefix: string;
}

function int(name: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`--${name} must be a whole number`);
    return Number(v);
  };
}

export function registerLab(program: Command, ctx: CommandContext): void {
  const lab = group(program, 'lab', 'A Romana cluster made of network namespaces on this machine (root).');
  const print = (s: string): void => ctx.io.stdout(s);

  const guard = async (fn: () => Promise<number>): Promise<void> => {
    try {
      ctx.exitCode = await fn();
    } catch (e) {
      const code = e instanceof LabError ? e.exitCode : 1;
      ctx.io.stderr(`romana: lab: ${(e as Error).message}\n`);
      ctx.exitCode = code;
    }
  };
  const common = (c: Command): Command =>
    c
      .option('--state-dir <dir>', 'where the lab keeps its state, PID files and logs', DEFAULT_STATE_DIR)
      .option('--prefix <name>', 'name prefix of every namespace the lab makes', DEFAULT_PREFIX);
  const loaded = (o: CommonOpts): LabState => {
    const st = readState(path.resolve(o.stateDir));
    if (!st) throw new LabError(`no lab in ${o.stateDir}: romana lab up first`, 2);
    return st;
  };

  common(
    lab
      .command('up')
      .summary('Build the lab and print what it looks like.')
      .description(
        'Build a cluster out of network namespaces: a rack per prefix group, each its own L2 segment and subnet (10.200.K.0/24) with a ToR running BIRD as the hosts\' default gateway, the ToRs linked by a spine router (BIRD) on the spine segment (10.200.0.0/24); the daemon on the embedded store with one prefix group per rack (host label "rack"); per host a romana-agent, BIRD and a romana-publisher announcing its blocks to its ToR; pods made through the real CNI plugin; romana-dns serving the lab\'s pods and services. Then print the addressing plan, hosts, blocks, routes, the routers\' tables, a cross-rack path, DNS names, a pod-to-pod reachability matrix and commands to explore. Processes keep running (detached) until romana lab down.',
      )
      .option('--hosts <n>', 'number of hosts (split into racks in order)', int('hosts'), 4)
      .option('--racks <n>', 'number of racks: each its own subnet, ToR and prefix group (default: 2, which shows traffic and aggregation between racks; 1 with one host)', int('racks'))
      .option('--pods-per-host <n>', 'pods per host (namespaces blue and green, alternating)', int('pods-per-host'), 2)
      .option('--port <n>', 'daemon port on 127.0.0.1 (0: any free port; 9600 falls back to any when taken)', int('port'), 9600)
      .option('--install', 'install missing system packages with apt-get'),
  )
    .addHelpText('after', helpAfter(['sudo npm run lab', 'sudo romana lab up --hosts 6 --racks 3 --pods-per-host 3', 'sudo romana lab up --state-dir /tmp/mylab --prefix mylab']))
    .action(async (o: CommonOpts & { hosts: number; racks?: number; podsPerHost: number; port: number; install?: boolean }) => {
      await guard(async () => {
        const stateDir = path.resolve(o.stateDir);
        let st: LabState;
        try {
          st = await labUp({ hosts: o.hosts, racks: o.racks ?? Math.min(2, o.hosts), podsPerHost: o.podsPerHost, stateDir, prefix: o.prefix, port: o.port, install: o.install === true }, print);
        } catch (e) {
          if (readState(stateDir) !== null && !(e instanceof LabError && e.exitCode === 2)) {
            (e as Error).message += `\n(what was built is still there, logs in ${stateDir}/logs; romana lab down${stateDir === DEFAULT_STATE_DIR ? '' : ` --state-dir ${stateDir}`} removes it)`;
          }
          throw e;
        }
        print(await renderSummary(st, await probeMatrix(st)));
        return 0;
      });
    });

  common(lab.command('check').summary('Probe every pod pair, routes and DNS; exit 0 when all is well.'))
    .description('Probe every pod pair with real packets (TCP 8080, UDP 5353, ICMP); check that every host\'s routes (all of table 10 + main\'s routes via a next hop) are at most hosts in its group + number of groups, that every ToR learned every block of its rack\'s hosts over BGP and reaches each other rack through one aggregate, and that romana-dns answers a service and a pod name from inside a pod of every rack. Exit 0 when all is well, 1 otherwise.')
    .action(async (o: CommonOpts) => {
      await guard(async () => ((await labCheck(loaded(o), print)) ? 0 : 1));
    });

  common(lab.command('policy').summary('Apply a policy and print the new reachability matrix.'))
    .description(
      'Apply a Kubernetes NetworkPolicy (YAML or JSON, several documents allowed; through PUT /k8s/networkpolicies) or a Romana policy (through POST /policies), wait until every agent has applied it, and print the new pod-to-pod matrix.',
    )
    .argument('<file>', 'policy file')
    .addHelpText('after', helpAfter(['sudo romana lab policy deny-green.yaml']))
    .action(async (file: string, o: CommonOpts) => {
      await guard(async () => {
        const st = loaded(o);
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch (e) {
          throw new LabError(`cannot read ${file}: ${(e as Error).message}`, 2);
        }
        for (const l of await applyPolicyFile(st, text)) print(`${l}\n`);
        print(renderMatrix(st, await probeMatrix(st)));
        return 0;
      });
    });

  common(lab.command('down').summary('Remove everything the lab made (idempotent).'))
    .description('Kill the lab\'s processes (by PID file and by namespace), delete its namespaces (by prefix) and its state dir. Nothing else is touched.')
    .action(async (o: CommonOpts) => {
      await guard(async () => {
        const r = await labDown(path.resolve(o.stateDir), o.prefix, print);
        print(`lab down: ${r.killed} process(es) killed, ${r.namespaces} namespace(s) deleted\n`);
        return 0;
      });
    });

  common(lab.command('status').summary('Show whether the lab\'s processes and namespaces are there.'))
    .action(async (o: CommonOpts) => {
      await guard(async () => {
        const s = await labStatus(path.resolve(o.stateDir), o.prefix);
        print(s.text);
        return s.up ? 0 : 1;
      });
    });
}
