/**
 * `npm run testbed -- up|down|status` — a migration testbed that stays up
 * after the command returns, for rehearsing by hand with the CLI.
 *
 *   npm run testbed -- up --embodiment 2      # (re)creates it: idempotent
 *   npm run testbed -- up --topology FILE     # any lab in containerlab's format
 *   npm run testbed -- up --topology FILE --containers   # its tunroute routers as containers of the image
 *   npm run testbed -- status
 *   npm run testbed -- down                   # removes everything it made
 *
 * State lives in /run/tunroute/testbeds/<name>/ (configs, logs, sockets).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { removeLabContainers } from '../src/testbed/containers.js';
import type { ContainerOptions } from '../src/testbed/container-nodes.js';
import { Lab, PERSISTENT_DIR, persistentLabId } from '../src/testbed/lab.js';
import { FLEET_PREFIX, MigrationTestbed, type CutoverMode, type Embodiment, type RoutingMode } from '../src/testbed/migration.js';
import { loadTopology, TopologyError } from '../src/testbed/topology/index.js';
import { TopologyLab } from '../src/testbed/topology-lab.js';

const BIN = new URL('../../bin/tunroute.js', import.meta.url).pathname;
const program = new Command('npm run testbed --').description('bring a migration testbed up or down').showHelpAfterError();

program.command('up')
  .description('create (or re-create) the testbed and leave it running')
  .addOption(new Option('--embodiment <e>', 'testbed layout').choices(['1', '2', '2-vip']).default('1'))
  .addOption(new Option('--routing <r>', 'how R1 knows its two paths').choices(['rip', 'ospf', 'static']).default('rip'))
  .addOption(new Option('--cutover <mode>', 'what the history trigger does').choices(['block', 'drain']).default('block'))
  .option('--no-trigger', 'do not arm the history trigger (block ports by hand)')
  .option('--topology <file>', 'build the lab a containerlab topology file describes instead (see docs/topologies.md)')
  .option('--containers', 'with --topology: its tunroute routers as containers of the image (built from this checkout first)')
  .option('--image <name>', 'with --containers: run the routers from this image as it is')
  .option('--name <name>', 'testbed name', 'mig')
  .action(async (o: { embodiment: Embodiment; routing: RoutingMode; cutover: CutoverMode; trigger: boolean; name: string; topology?: string; containers?: boolean; image?: string }) => {
    if ((o.containers || o.image) && !o.topology) {
      console.error('testbed: --containers and --image need --topology FILE');
      process.exit(2);
    }
    // Containers of an earlier testbed of this name (docker does not remove them with its namespaces).
    await removeLabContainers(persistentLabId(o.name));
    if (o.topology) {
      await upTopology(o.topology, o.name, o.containers ? { ...(o.image ? { image: o.image } : {}) } : undefined);
      return;
    }
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
      `  ip netns exec ${tb.ns.fleet} node ${BIN} fleet --target http://1.1.1.1/ --prefix ${FLEET_PREFIX} --count 500 --interval 5s`,
      `  ip netns exec ${tb.ns.test} node ${BIN} probe --target http://1.1.1.1/ --source 10.0.2.2 --until-server server2`,
      `  tail -f ${join(dir, 'server2.access.log')}`,
      '',
      `logs and configs: ${dir}`,
      'remove it with: npm run testbed -- down',
    ];
    console.log(lines.join('\n'));
  });

async function upTopology(file: string, name: string, containers?: ContainerOptions): Promise<void> {
  let topology;
  try {
    topology = loadTopology(file);
  } catch (e) {
    if (e instanceof TopologyError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  let tl: TopologyLab;
  try {
    tl = await TopologyLab.up(topology, { persistentName: name, containers, log: (s) => process.stderr.write(`testbed: ${s}\n`) });
  } catch (e) {
    console.error(`testbed: ${(e as Error).message}`);
    process.exit(1);
  }
  const m = topology.migration;
  const lines = [
    `testbed "${name}" is up: ${topology.name} (${topology.file})`,
    '',
    'nodes:',
    ...Object.entries(tl.state).map(([node, s]) => `  ${node.padEnd(10)} ${s.ns.padEnd(24)} ${s.runs || s.role}`),
    '',
  ];
  if (tl.routers.size) lines.push('routers (CLI):', ...[...tl.routers.values()].map((r) => `  ${r.name.padEnd(10)} tunroute --socket ${r.socket} route list`), '');
  const inContainers = [...tl.routers.keys()].filter((r) => tl.containers?.container(r));
  if (inContainers.length) lines.push('routers (CLI in their containers):', ...inContainers.map((r) => `  ${r.padEnd(10)} docker exec ${tl.containers!.container(r)} tunroute route list`));
  for (const [n, f] of tl.frr) lines.push(`FRR ${n}: ip netns exec ${f.ns} vtysh --vty_socket ${f.dir} -c 'show ip route'`);
  for (const [n, b] of tl.bird) lines.push(`BIRD ${n}: birdc -s ${b.socket} show route`);
  if (m) {
    const f = m.fleet;
    lines.push('', `rehearse (${m.file}):`,
      `  ip netns exec ${tl.ns(f.node)} node ${BIN} fleet --target http://${m.service}/ --prefix ${f.prefix} --count ${f.count} --interval ${f.intervalMs}ms --anyip`,
      `  ip netns exec ${tl.ns(m.testAppliance.node)} node ${BIN} probe --target http://${m.service}/ --source ${m.testAppliance.address} --until-server ${m.servers.to}`);
  }
  lines.push('', `logs and configs: ${tl.lab.dir}`, 'remove it with: npm run testbed -- down' + (name === 'mig' ? '' : ` --name ${name}`));
  console.log(lines.join('\n'));
}

program.command('down')
  .description('stop every process of the testbed and remove its namespaces (nothing left behind)')
  .option('--name <name>', 'testbed name', 'mig')
  .action(async (o: { name: string }) => {
    const containers = await removeLabContainers(persistentLabId(o.name));
    const had = (await Lab.destroyPersistent(o.name)) || containers.length > 0;
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
    const topo = join(PERSISTENT_DIR, o.name, 'topology.json');
    if (existsSync(topo)) {
      const t = JSON.parse(readFileSync(topo, 'utf8')) as { file: string; nodes: Record<string, { ns: string; role: string; runs: string }> };
      console.log(`  topology ${t.file}`);
      for (const [n, s] of Object.entries(t.nodes)) console.log(`  ${n.padEnd(10)} ${s.ns.padEnd(24)} ${s.runs || s.role}`);
      return;
    }
    for (const ns of state.namespaces) console.log(`  ${ns}`);
  });

await program.parseAsync(process.argv);
