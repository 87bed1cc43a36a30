// How TUN ports read and write their batches: through io_uring by default
// (one system call for a batch's reads, one for its writes), with
// `ioUring: false` one read()/write() a packet. Either way, in the daemon's
// thread and in a forwarding worker, a burst of one flow crosses the router
// in order — the batched reads put the packets into the slots in arrival
// order, the batched writes send them in that order — and none is lost
// uncounted.
//   a ─TUN─ [r] ─TUN─ b
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { StatsJson } from '../../src/api/types.js';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, sleep, waitFor } from '../../src/testbed/shell.js';
import { TUN_DROPS_LAG_MS } from './helpers.js';

/** Datagrams in the burst: many full receive batches (64). */
const BURST = 6000;

/** Receiver: counts datagrams, and those whose sequence number is not above the last (reordered or repeated); prints both when `n` arrived or 5 s passed. */
const RECEIVER = `
import socket, struct, sys
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(('10.2.0.2', 9000))
s.settimeout(5)
got, last, out_of_order = 0, -1, 0
print('ready', flush=True)
try:
    while got < n:
        seq = struct.unpack('!I', s.recv(64)[:4])[0]
        if seq <= last: out_of_order += 1
        last = seq
        got += 1
except socket.timeout:
    pass
print(got, out_of_order, flush=True)
`;

/** Sender: the burst from one connected socket, a short pause every 100 datagrams (a TUN's queue holds 500). */
const SENDER = `
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(('10.2.0.2', 9000))
for i in range(int(sys.argv[1])):
    s.send(struct.pack('!I', i) + bytes(28))
    if i % 100 == 99: time.sleep(0.002)
`;

for (const ioUring of [true, false]) {
  for (const workers of [0, 1]) {
    describe(`TUN batches ${ioUring ? 'through io_uring' : 'by read()/write() (ioUring: false)'}, ${workers ? '1 worker' : 'in-thread'}`, () => {
      let lab: Lab;
      let a: string;
      let b: string;
      let router: RouterProcess;

      before(async () => {
        lab = await Lab.create(`io${ioUring ? 'u' : 's'}${workers}`);
        a = await lab.addNamespace('a');
        b = await lab.addNamespace('b');
        lab.multiQueueTuns = workers > 0;
        await lab.hostPort(a, lab.dev('a'), '10.1.0.2/24', '10.1.0.1');
        await lab.hostPort(b, lab.dev('b'), '10.2.0.2/24', '10.2.0.1');
        router = await lab.startRouter('r', {
          workers,
          ...(ioUring ? {} : { ioUring: false }),
          ports: [
            { name: 'in', device: lab.dev('a'), netns: a, address: '10.1.0.1/24' },
            { name: 'out', device: lab.dev('b'), netns: b, address: '10.2.0.1/24' },
          ],
        });
      });

      after(async () => {
        await lab?.cleanup();
      });

      test('the daemon says how its TUN ports batch', () => {
        const e = router.firstEvent('tun.io');
        assert.ok(e, 'a tun.io line at start');
        assert.equal(e.ioUring, ioUring);
        if (!ioUring) assert.match(String(e.reason), /switched off/);
      });

      test(`a burst of ${BURST} datagrams of one flow crosses in order, each one arriving or counted dropped`, { timeout: 30_000 }, async () => {
        const out = `${lab.dir}/receiver.out`;
        const receiver = lab.spawnIn(b, 'python3', ['-c', RECEIVER, String(BURST)], { stdout: out });
        const done = new Promise((resolve) => receiver.once('exit', resolve));
        await waitFor('the receiver ready', () => existsSync(out) && readFileSync(out, 'utf8').includes('ready'), 5000, 20);
        await inNetns(a, 'python3', ['-c', SENDER, String(BURST)], { timeoutMs: 20_000 });
        await done;
        const [got, outOfOrder] = readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
        assert.equal(outOfOrder, 0, 'none reordered or repeated');
        // A daemon kept off the CPU for a moment (a loaded 2-CPU machine) lets the ingress TUN's queue overflow: those are counted, not lost.
        await sleep(TUN_DROPS_LAG_MS);
        const dropped = (await router.api<StatsJson>('GET', '/v1/stats')).ports.in!.drops['kernel-dropped'] ?? 0;
        assert.equal(got! + dropped, BURST, `every datagram arrived (${got}) or was counted dropped below the ingress port (${dropped})`);
        assert.ok(got! >= BURST * 0.9, `${got} of ${BURST} arrived`);
      });
    });
  }
}
