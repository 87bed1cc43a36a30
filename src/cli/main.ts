// The `tunroute` command line (commander). Every command but `run` and
// `check` talks to a running daemon over its API. Errors print one line (a
// bad config: one per problem): exit status 2 for a usage or config mistake,
// 1 for anything else.
import { Command, CommanderError } from 'commander';
import { ClientError } from '../api/client.js';
import { ExitError } from '../daemon/run-daemon.js';
import { registerCoreCommands } from './commands/core.js';
import { registerNatCommands } from './commands/nat.js';
import { registerBfdCommands } from './commands/bfd.js';
import { registerRipCommands } from './commands/rip.js';
import { registerOspfCommands } from './commands/ospf.js';
import { registerPolicyCommands } from './commands/policy.js';
import { registerTriggerCommands } from './commands/trigger.js';
import { registerHostCommands } from './commands/hosts.js';
import { registerServiceCommands } from './commands/service.js';
import { registerNeighbourCommands } from './commands/neigh.js';
import { UsageError } from './context.js';

export function buildProgram(): Command {
  const program = new Command('tunroute')
    .description('userspace IPv4 router on TUN ports — routes, port blocking, BFD, RIPv2, OSPFv2, migration testbed')
    .version('0.1.0')
    .option('-r, --router <name>', 'address the daemon of this router (socket /run/tunroute/NAME.sock)')
    .option('-s, --socket <path>', 'address the daemon listening on this unix socket')
    .option('--json', 'print JSON instead of tables')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCoreCommands(program);
  registerNatCommands(program);
  registerBfdCommands(program);
  registerRipCommands(program);
  registerOspfCommands(program);
  registerPolicyCommands(program);
  registerTriggerCommands(program);
  registerNeighbourCommands(program);
  registerServiceCommands(program);
  registerHostCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed the message
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
    }
    if (e instanceof ExitError) {
      for (const line of e.lines ?? [`tunroute: ${e.message}`]) process.stderr.write(`${line}\n`);
      return e.exitCode;
    }
    if (e instanceof ClientError) {
      process.stderr.write(`tunroute: ${e.message}\n`);
      return 1;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`tunroute: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`tunroute: unexpected error: ${(e as Error).message}\n`);
    if (process.env.TUNROUTE_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  }
}
