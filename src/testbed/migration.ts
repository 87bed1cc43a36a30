// The service-migration testbeds (see README "The demo"), as namespaces and tunroute
// daemons. Both servers own the service address 1.1.1.1; R1 reaches it via
// R2 (better metric) and via R3 (worse); a test appliance with a known
// address polls like any device and is steered to server 2 before anyone
// else.
//
// Embodiment 1 — a transfer unit (TU) in front of server 1 sends the test
// appliance's traffic over a dedicated line to server 2:
//
//   fleet ──┐                 ┌─ R2 ── TU ── server 1
//           ├── R1 ───────────┤        └── dedicated line ──┐
//   test ───┘                 └─ R3 ─────────────────── server 2
//
// Embodiment 2 — a transfer distribution device (TDD) between R2 and the
// servers reaches server 1 via R4 and server 2 via R5, choosing by source.
// Variant "2-vip": the TDD owns 1.1.1.1 as a virtual address and the servers
// behind R4/R5 have private addresses; it rewrites per flow.
//
//   fleet ──┐                 ┌─ R2 ── TDD ─┬─ R4 ── server 1
//           ├── R1 ───────────┤             └─ R5 ──┐
//   test ───┘                 └─ R3 ─────────── server 2
//
// Step 4 of the method is configured too: R2 watches server 2's access log
// and blocks (or drains) its port toward R1 when the test appliance's poll
// shows up there with status 200.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { spawnInfoServer } from './servers.js';
import { Lab, type RouterProcess } from './lab.js';
import { inNetns, ip, settleAll, waitFor } from './shell.js';

export type Embodiment = '1' | '2' | '2-vip';
/** How R1 knows its two paths: RIP with BFD, OSPF with BFD, or static routes tracking BFD. */
export type RoutingMode = 'rip' | 'static' | 'ospf';
/** What R2's trigger does on the history line: block the port, or drain it first. */
export type CutoverMode = 'block' | 'drain';

export interface MigrationOptions {
  embodiment?: Embodiment;
  routing?: RoutingMode;
  cutover?: CutoverMode;
  /** Arm R2's history trigger (the demo does; manual rehearsals may not). */
  trigger?: boolean;
  /** Keep running after this process exits (`testbed up`). */
  persistentName?: string;
  bfdIntervalMs?: number;
  /** The servers answer each poll after this long (ms), so some polls are in flight at any moment. */
  serverDelayMs?: number;
  /** The servers rotate their access logs at this size (bytes; default: never). */
  logMaxBytes?: number;
}

/** The routers' BFD interval unless given (×3 to detect a silent peer). */
export const DEFAULT_BFD_INTERVAL_MS = 100;
/** Rotated access logs a server keeps (with logMaxBytes): every one, in practice. */
export const ACCESS_LOGS_KEPT = 10_000;

export const SERVICE = '1.1.1.1';
/** The fleet's addresses: room for 4,194,302 appliances, each its own source address. */
export const FLEET_PREFIX = '10.64.0.0/10';
/** The first appliance's address. */
export const FIRST_APPLIANCE = '10.64.0.1';
export const TEST_APPLIANCE = '10.0.2.2';

interface Topology {
  r1: RouterProcess;
  r2: RouterProcess;
  r3: RouterProcess;
  /** TU (embodiment 1) or TDD (embodiment 2). */
  steer: RouterProcess;
  extra: RouterProcess[];
}

export class MigrationTestbed {
  readonly accessLog: { server1: string; server2: string };
  constructor(
    readonly lab: Lab,
    readonly options: Required<Omit<MigrationOptions, 'persistentName'>>,
    readonly ns: { fleet: string; test: string; server1: string; server2: string },
    readonly routers: Topology,
    /** The two `tunroute serve` processes. */
    readonly serverProcesses: { server1: ChildProcess; server2: ChildProcess },
  ) {
    this.accessLog = { server1: join(lab.dir, 'server1.access.log'), server2: join(lab.dir, 'server2.access.log') };
  }

  /** Every router of the testbed by name. */
  get allRouters(): RouterProcess[] {
    const t = this.routers;
    return [t.r1, t.r2, t.r3, t.steer, ...t.extra];
  }

  static async up(opts: MigrationOptions = {}, log: (s: string) => void = () => undefined): Promise<MigrationTestbed> {
    const options = {
      embodiment: opts.embodiment ?? '1',
      routing: opts.routing ?? 'rip',
      cutover: opts.cutover ?? 'block',
      trigger: opts.trigger ?? true,
      bfdIntervalMs: opts.bfdIntervalMs ?? DEFAULT_BFD_INTERVAL_MS,
      serverDelayMs: opts.serverDelayMs ?? 0,
      logMaxBytes: opts.logMaxBytes ?? 0,
    };
    const lab = opts.persistentName ? await Lab.createPersistent(opts.persistentName) : await Lab.create(`mig${options.embodiment.replace('-', '')}`);
    try {
      return await build(lab, options, log);
    } catch (e) {
      if (opts.persistentName) await Lab.destroyPersistent(opts.persistentName);
      else await lab.cleanup();
      throw e;
    }
  }

  async down(): Promise<void> {
    await this.lab.cleanup();
  }
}

async function build(lab: Lab, o: Required<Omit<MigrationOptions, 'persistentName'>>, log: (s: string) => void): Promise<MigrationTestbed> {
  const vip = o.embodiment === '2-vip';
  const d = (label: string) => lab.dev(label);
  // Hosts.
  const fleet = await lab.addNamespace('fleet');
  const test = await lab.addNamespace('test');
  const server1 = await lab.addNamespace('server1');
  const server2 = await lab.addNamespace('server2');
  await lab.hostPort(fleet, d('fl'), '10.0.1.2/24', '10.0.1.1');
  // Millions of appliance addresses without per-address set-up (AnyIP).
  await ip('-n', fleet, 'route', 'add', 'local', FLEET_PREFIX, 'dev', 'lo');
  await lab.hostPort(test, d('ta'), `${TEST_APPLIANCE}/24`, '10.0.2.1');
  // Server 1 sits behind TU (emb. 1) or R4 (emb. 2); server 2 behind R3 and, via its second NIC, the line / R5.
  const s1Addr = vip ? '192.168.1.2' : '10.1.1.2';
  const s1Net = vip ? '192.168.1.1/24' : '10.1.1.1/24';
  await lab.hostPort(server1, d('s1'), `${s1Addr}/24`, s1Net.split('/')[0]);
  await lab.hostPort(server2, d('s2'), '10.1.2.2/24', '10.1.2.1');
  const lineAddr = vip ? '192.168.2.2' : '10.9.0.2';
  const linePeer = vip ? '192.168.2.1' : '10.9.0.1';
  await lab.hostPort(server2, d('ln'), `${lineAddr}/${vip ? 24 : 30}`);
  // Replies to the test appliance return the way its polls came.
  await ip('-n', server2, 'route', 'add', `${TEST_APPLIANCE}/32`, 'via', linePeer, 'dev', d('ln'));
  if (!vip) await ip('-n', server1, 'addr', 'add', `${SERVICE}/32`, 'dev', 'lo');
  await ip('-n', server2, 'addr', 'add', `${SERVICE}/32`, 'dev', 'lo');

  // Router–router links through the wiring namespace.
  const wire = await lab.link(d('1a'), d('2a')); // R1–R2
  await lab.link(d('1b'), d('3a')); // R1–R3
  await lab.link(d('2b'), d('ua')); // R2–TU/TDD
  if (o.embodiment !== '1') {
    await lab.link(d('ub'), d('4a')); // TDD–R4
    await lab.link(d('uc'), d('5a')); // TDD–R5
  }

  const bfd = { interval: o.bfdIntervalMs, multiplier: 3 };
  const rip = o.routing === 'rip';
  // OSPF: point-to-point router links (hello 1 s, dead 4 s) with BFD; the service as an external route (its static metric).
  const ospf = o.routing === 'ospf';
  const dynamic = rip || ospf;
  const ripTimers = { updateTime: 5, timeoutTime: 30, garbageTime: 20 };
  const ospfLink = (port: string, routerId: string) => ({ routerId, ports: [{ port, cost: 10, helloInterval: 1, deadInterval: 4, bfd: true }], redistribute: ['static'] });
  log('starting routers');

  // Step 4: a hard block is R2's (its port toward R1); a drain is R1's (the router with both paths).
  const cutoverTrigger = (port: string) => [{
    name: 'cutover', file: join(lab.dir, 'server2.access.log'),
    match: { client: TEST_APPLIANCE, server: 'server2', status: 200 }, action: o.cutover, port,
  }];
  const r1Trigger = o.trigger && o.cutover === 'drain' ? cutoverTrigger('r2') : [];
  const r2Trigger = o.trigger && o.cutover === 'block' ? cutoverTrigger('r1') : [];

  // The routers start side by side (each mostly waits for its daemon to come up); all up or none.
  const r1p = lab.startRouter('r1', {
    ports: [
      { name: 'fleet', device: d('fl'), netns: fleet, address: '10.0.1.1/24' },
      { name: 'test', device: d('ta'), netns: test, address: '10.0.2.1/24' },
      { name: 'r2', device: d('1a'), netns: wire, address: '10.0.12.1/30' },
      { name: 'r3', device: d('1b'), netns: wire, address: '10.0.13.1/30' },
    ],
    routes: [
      { prefix: FLEET_PREFIX, port: 'fleet', via: '10.0.1.2', metric: 1 },
      ...(dynamic ? [] : [
        { prefix: `${SERVICE}/32`, port: 'r2', via: '10.0.12.2', metric: 1, bfd: true },
        { prefix: `${SERVICE}/32`, port: 'r3', via: '10.0.13.2', metric: 10, bfd: true },
      ]),
    ],
    bfd,
    ...(rip ? { rip: { ports: [{ port: 'r2', cost: 1, bfd: true }, { port: 'r3', cost: 1, bfd: true }], ...ripTimers } } : {}),
    ...(ospf ? { ospf: { routerId: '10.255.0.1', ports: [...['r2', 'r3'].map((port) => ({ port, cost: 10, helloInterval: 1, deadInterval: 4, bfd: true })),
      { port: 'fleet', passive: true }, { port: 'test', passive: true }], redistribute: ['static'] } } : {}),
    triggers: r1Trigger,
  });

  const backToR1 = (port: string, via: string) => (dynamic ? [] : [{ prefix: '10.0.0.0/8', port, via, metric: 1 }]);
  const r2p = lab.startRouter('r2', {
    ports: [
      { name: 'r1', device: d('2a'), netns: wire, address: '10.0.12.2/30' },
      { name: 'steer', device: d('2b'), netns: wire, address: '10.0.24.1/30' },
    ],
    routes: [{ prefix: `${SERVICE}/32`, port: 'steer', via: '10.0.24.2', metric: 1 }, ...backToR1('r1', '10.0.12.1')],
    bfd: { ...bfd, sessions: dynamic ? [] : [{ port: 'r1', peer: '10.0.12.1' }] },
    ...(rip ? { rip: { ports: [{ port: 'r1', bfd: true }], redistribute: ['static'], ...ripTimers } } : {}),
    ...(ospf ? { ospf: ospfLink('r1', '10.255.0.2') } : {}),
    triggers: r2Trigger,
  });
  const r3p = lab.startRouter('r3', {
    ports: [
      { name: 'r1', device: d('3a'), netns: wire, address: '10.0.13.2/30' },
      { name: 'server2', device: d('s2'), netns: server2, address: '10.1.2.1/24' },
    ],
    // The worse path: advertised with metric 5 (R2's is 1).
    routes: [{ prefix: `${SERVICE}/32`, port: 'server2', via: '10.1.2.2', metric: 5 }, ...backToR1('r1', '10.0.13.1')],
    bfd: { ...bfd, sessions: dynamic ? [] : [{ port: 'r1', peer: '10.0.13.1' }] },
    ...(rip ? { rip: { ports: [{ port: 'r1', bfd: true }], redistribute: ['static'], ...ripTimers } } : {}),
    ...(ospf ? { ospf: ospfLink('r1', '10.255.0.3') } : {}),
  });

  let steerp: Promise<RouterProcess>;
  const extrap: Promise<RouterProcess>[] = [];
  if (o.embodiment === '1') {
    // The transfer unit: everything to server 1, except the test appliance → dedicated line.
    steerp = lab.startRouter('tu', {
      ports: [
        { name: 'r2', device: d('ua'), netns: wire, address: '10.0.24.2/30' },
        { name: 'server1', device: d('s1'), netns: server1, address: '10.1.1.1/24' },
        { name: 'line', device: d('ln'), netns: server2, address: '10.9.0.1/30' },
      ],
      routes: [
        { prefix: '0.0.0.0/0', port: 'r2', via: '10.0.24.1', metric: 1 },
        { prefix: `${SERVICE}/32`, port: 'server1', via: '10.1.1.2', metric: 1 },
      ],
      policy: [{ name: 'test-appliance', from: TEST_APPLIANCE, to: SERVICE, port: 'line', via: '10.9.0.2' }],
    });
  } else {
    steerp = lab.startRouter('tdd', {
      ports: [
        { name: 'r2', device: d('ua'), netns: wire, address: '10.0.24.2/30' },
        { name: 'r4', device: d('ub'), netns: wire, address: '10.0.40.1/30' },
        { name: 'r5', device: d('uc'), netns: wire, address: '10.0.50.1/30' },
      ],
      routes: [
        { prefix: '0.0.0.0/0', port: 'r2', via: '10.0.24.1', metric: 1 },
        ...(vip
          ? [{ prefix: '192.168.1.0/24', port: 'r4', via: '10.0.40.2', metric: 1 }, { prefix: '192.168.2.0/24', port: 'r5', via: '10.0.50.2', metric: 1 }]
          : [{ prefix: `${SERVICE}/32`, port: 'r4', via: '10.0.40.2', metric: 1 }]),
      ],
      ...(vip
        ? { virtualServices: [{ name: 'info', address: SERVICE, backends: [
            { name: 'server2', address: '192.168.2.2', sources: [`${TEST_APPLIANCE}/32`] },
            { name: 'server1', address: '192.168.1.2' },
          ] }] }
        : { policy: [{ name: 'test-appliance', from: TEST_APPLIANCE, to: SERVICE, port: 'r5', via: '10.0.50.2' }] }),
    });
    extrap.push(lab.startRouter('r4', {
      ports: [
        { name: 'tdd', device: d('4a'), netns: wire, address: '10.0.40.2/30' },
        { name: 'server1', device: d('s1'), netns: server1, address: s1Net },
      ],
      routes: [
        { prefix: '0.0.0.0/0', port: 'tdd', via: '10.0.40.1', metric: 1 },
        ...(vip ? [] : [{ prefix: `${SERVICE}/32`, port: 'server1', via: s1Addr, metric: 1 }]),
      ],
    }));
    extrap.push(lab.startRouter('r5', {
      ports: [
        { name: 'tdd', device: d('5a'), netns: wire, address: '10.0.50.2/30' },
        { name: 'server2', device: d('ln'), netns: server2, address: `${linePeer}/${vip ? 24 : 30}` },
      ],
      routes: [
        { prefix: '0.0.0.0/0', port: 'tdd', via: '10.0.50.1', metric: 1 },
        ...(vip ? [] : [{ prefix: `${SERVICE}/32`, port: 'server2', via: lineAddr, metric: 1 }]),
      ],
    }));
  }

  const [r1, r2, r3, steer, ...extra] = await settleAll([r1p, r2p, r3p, steerp, ...extrap]) as [RouterProcess, RouterProcess, RouterProcess, RouterProcess, ...RouterProcess[]];

  log('starting servers');
  // Server 1 answers on the service address (or its private one in the variant);
  // server 2 on 1.1.1.1 (after the cut-over) and, in the variant, on its private address too.
  const servers = [
    { ns: server1, name: 'server1', address: vip ? s1Addr : SERVICE },
    { ns: server2, name: 'server2', address: vip ? '0.0.0.0' : SERVICE },
  ];
  const procs: ChildProcess[] = [];
  const rotate = o.logMaxBytes > 0 ? ['--log-max-size', String(o.logMaxBytes), '--log-keep', String(ACCESS_LOGS_KEPT)] : [];
  procs.push(...await settleAll(servers.map((s) => spawnInfoServer(lab, s.ns, s.name, s.address, join(lab.dir, `${s.name}.access.log`), o.serverDelayMs, rotate))));
  const tb = new MigrationTestbed(lab, o, { fleet, test, server1, server2 }, { r1, r2, r3, steer, extra }, { server1: procs[0]!, server2: procs[1]! });
  log('waiting for R1 to reach the service via R2');
  await waitFor('R1 route to 1.1.1.1 via R2', async () => {
    const r = await r1.api<{ port: string | null }>('GET', `/v1/routes/lookup?addr=${SERVICE}`);
    return r.port === 'r2';
  }, 30_000, 100);
  await waitFor('service answering through the testbed', async () => {
    await inNetns(fleet, 'curl', ['-sf', '--max-time', '1', '--interface', FIRST_APPLIANCE, '-o', '/dev/null', `http://${SERVICE}/`]);
    return true;
  }, 15_000, 100);
  return tb;
}
