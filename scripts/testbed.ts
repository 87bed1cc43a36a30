/**
 * `npm run testbed -- up|down|status` — a migration testbed that stays up
 * after the command returns, for rehearsing by hand with the CLI.
 *
 *   npm run testbed -- up --embodiment 2      # (re)creates it: idempotent
 *   npm run testbed -- status
 *   npm run testbed -- down                   # removes everything it made
 *
 * State lives in /run/tunroute/testbeds/<name>/ (configs, logs, sockets).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { Lab, PERSISTENT_DIR } from '../src/testbed/lab.js';
import { MigrationTestbed, type CutoverMode, type Embodiment, type RoutingMode } from '../src/testbed/migration.js';

const BIN = new URL('../../bin/tunroute.js', import.meta.url).pathname;
const program = new Command('npm run testbed --').description('bring a migration testbed up or down').showHelpAfterError();

program.command('up')
  .description('create (or re-create) the testbed and leave it running')
  .addOption(new Option('--embodiment <e>', 'testbed layout').choices(['1', '2', '2-vip']).default('1'))
  .addOption(new Option('--routing <r>', 'how R1 knows its two paths').choices(['rip', 'static']).default('rip'))
  .addOption(new Option('--cutover <mode>', 'what the history trigger does').choices(['block', 'drain']).default('block'))
  .option('--no-trigger', 'do not arm the history trigger (block ports by hand)')
  .option('--name <name>', 'testbed name', 'mig')
  .action(async (o: { embodiment: Embodiment; routing: RoutingMode; cutover: CutoverMode; trigger: boolean; name: string }) => {
    const tb = await MigrationTestbed.up({ ...o, persistentName: o.name }, (s) => process.stderr.write(`testbed: ${s}\n`));
    const dir = tb.lab.dir;
    const lines = [
      `testbed "${o.name}" is up: embodiment ${o.embodiment}, ${o.routing} routing, trigger ${o.trigger ? `armed (${o.cutover})` : 'off'}`,
      '',
      'namespaces:',
      ...Object.entries(tb.ns).map(([role, ns]) => `  ${role.padEnd(8)} ${ns}`),
      '',
      'routers (CLI):',
      ...tb.allRouters.map((r) => `  ${r.name.padEnd(4)} tunroute --socket ${r.socket} route list`),
      '',
      'try:',
      `  ip netns exec ${tb.ns.fleet} node ${BIN} fleet --target http://1.1.1.1/ --prefix 10.100.0.0/16 --count 500 --interval 5s`,
      `  ip netns exec ${tb.ns.test} node ${BIN} probe --target http://1.1.1.1/ --source 10.0.2.2 --until-server server2`,
      `  tail -f ${join(dir, 'server2.access.log')}`,
      '',
      `logs and configs: ${dir}`,
      'remove it with: npm run testbed -- down',
    ];
    console.log(lines.join('\n'));
  });

program.command('down')
  .description('stop every process of the testbed and remove its namespaces (nothing left behind)')
  .option('--name <name>', 'testbed name', 'mig')
  .action(async (o: { name: string }) => {
    const had = await Lab.destroyPersistent(o.name);
    console.log(had ? `testbed "${o.name}" removed` : `testbed "${o.name}" was not up`);
  });

program.command('status')
  .description('is the testbed up, and what does it consist of')
  .option('--name <name>', 'testbed name', 'mig')
  .action((o: { name: string }) => {
    const file = join(PERSISTENT_DIR, o.name, 'state.json');
    if (!existsSync(file)) {
      console.log(`testbed "${o.name}" is not up`);
      return;
    }
    const state = JSON.parse(readFileSync(file, 'utf8')) as { namespaces: string[]; pids: number[] };
    const alive = state.pids.filter((pid) => existsSync(`/proc/${pid}`));
    console.log(`testbed "${o.name}": ${state.namespaces.length} namespaces, ${alive.length}/${state.pids.length} processes running`);
    for (const ns of state.namespaces) console.log(`  ${ns}`);
  });

await program.parseAsync(process.argv);
