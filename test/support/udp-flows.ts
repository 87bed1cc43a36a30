// For the tests that check that a flow's packets are read by one forwarding
// worker: many UDP flows sent at once from a host namespace, and the
// workers' flow-table figures read once they stop moving.
import { inNetns, sleep } from '../../src/testbed/shell.js';

/** Flows per run, datagrams per flow. */
export const FLOWS = 16;
const DATAGRAMS = 30;

/** Send FLOWS UDP flows (source ports basePort.., DATAGRAMS each) from `src` in namespace `ns` to dst:9; resolves when sent. */
export async function sendUdpFlows(ns: string, src: string, dst: string, basePort: number): Promise<void> {
  const r = await inNetns(ns, process.execPath, ['-e', `
    const dgram = require('node:dgram');
    let left = ${FLOWS};
    for (let f = 0; f < ${FLOWS}; f++) {
      const s = dgram.createSocket('udp4');
      s.bind(${basePort} + f, '${src}', () => {
        for (let i = 0; i < ${DATAGRAMS}; i++) s.send(Buffer.alloc(32), 9, '${dst}');
        setTimeout(() => { s.close(); if (--left === 0) process.stdout.write('sent'); }, 200);
      });
    }`]);
  if (r.stdout !== 'sent') throw new Error(`UDP flows from ${src}: ${r.stdout} ${r.stderr}`);
}

/**
 * `read()` once two reads 1.1 s apart agree (workers publish their flow
 * figures at their ticks, at most a second apart); throws after `tries`.
 */
export async function settled(read: () => number | Promise<number>, tries = 20): Promise<number> {
  let last = -1;
  for (let i = 0; i < tries; i++) {
    const now = await read();
    if (now === last) return now;
    last = now;
    await sleep(1100);
  }
  throw new Error('flow figures never settled');
}
