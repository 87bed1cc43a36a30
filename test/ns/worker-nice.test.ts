// workerNice without the right to lower a nice: the daemon runs under
// `setpriv` with CAP_SYS_NICE dropped (and RLIMIT_NICE at 0, its default
// here), so setpriority(2) refuses the workers' -10. The workers then stay at
// the daemon's nice, say so once each at warn level, and forward all the same.
//   host a (10.0.1.2) — [a] r [b] — host b (10.0.2.2), one forwarding worker
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, waitFor } from '../../src/testbed/shell.js';
import { threadNices } from './helpers.js';

/** Run as root, but without CAP_SYS_NICE: neither in the bounding set nor inherited. */
const WITHOUT_SYS_NICE = ['setpriv', '--bounding-set', '-sys_nice', '--inh-caps', '-sys_nice'];

let lab: Lab;
let router: RouterProcess;
let a: string;

before(async () => {
  lab = await Lab.create('wnice');
  lab.multiQueueTuns = true;
  a = await lab.addNamespace('a');
  const b = await lab.addNamespace('b');
  await lab.hostPort(a, lab.dev('a'), '10.0.1.2/24', '10.0.1.1');
  await lab.hostPort(b, lab.dev('b'), '10.0.2.2/24', '10.0.2.1');
  router = await lab.startRouter('r', {
    workers: 1,
    ports: [
      { name: 'a', device: lab.dev('a'), netns: a, address: '10.0.1.1/24' },
      { name: 'b', device: lab.dev('b'), netns: b, address: '10.0.2.1/24' },
    ],
  }, { under: WITHOUT_SYS_NICE });
});

after(async () => {
  await lab?.cleanup();
});

test('without CAP_SYS_NICE the worker stays at the daemon\'s nice, logs why at warn level, and forwards', { timeout: 30_000 }, async () => {
  const capEff = /^CapEff:\s+([0-9a-f]+)/m.exec(readFileSync(`/proc/${router.pid()}/status`, 'utf8'))?.[1] ?? '';
  assert.equal((BigInt(`0x${capEff}`) >> 23n) & 1n, 0n, `CAP_SYS_NICE (23) is not in the daemon's effective set: ${capEff}`);
  const limit = /^Max nice priority\s+(\d+)/m.exec(readFileSync(`/proc/${router.pid()}/limits`, 'utf8'));
  assert.equal(limit?.[1], '0', 'RLIMIT_NICE is 0: nothing else lets the daemon lower a nice');

  await waitFor('worker.priority logged', async () => router.events().some((e) => e.event === 'worker.priority'), 5000, 50);
  const nices = threadNices(router.pid()!);
  assert.ok(nices.every((n) => n === nices[0]), `every thread at the daemon's nice ${nices[0]}: ${nices.join(' ')}`);
  const said = router.events().filter((e) => e.event === 'worker.priority');
  assert.equal(said.length, 1, 'one worker, one line');
  assert.equal(said[0]!.level, 40, 'at warn level');
  assert.equal(said[0]!.nice, nices[0], 'the nice it stays at');
  assert.match(String(said[0]!.error), /EACCES|permission/i, `why: ${String(said[0]!.error)}`);

  const r = await inNetns(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.2.2']);
  assert.match(r.stdout, /3 received/);
  assert.match(r.stdout, /ttl=63 /, 'forwarded (TTL down by one)');
});
