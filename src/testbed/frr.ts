// Real FRR daemons (zebra plus e.g. ripd, bfdd) in a lab namespace, started
// directly (no systemd), each with its own vty socket directory.
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './lab.js';
import { inNetns, waitFor } from './shell.js';

const FRR_BIN = '/usr/lib/frr';

export class Frr {
  private constructor(readonly lab: Lab, readonly ns: string, readonly dir: string) {}

  /**
   * Start zebra and the given daemons with their configs (FRR syntax) inside
   * `ns`; resolves when vtysh reaches every one of them.
   */
  static async start(lab: Lab, ns: string, daemons: Record<string, string>, name = 'frr'): Promise<Frr> {
    const dir = join(lab.dir, name);
    mkdirSync(dir, { recursive: true });
    // The daemons drop privileges to the frr user: it must own their files.
    const { uid, gid } = frrIds();
    chmodSync(lab.dir, 0o755);
    chownSync(dir, uid, gid);
    const frr = new Frr(lab, ns, dir);
    for (const d of ['zebra', ...Object.keys(daemons).filter((d) => d !== 'zebra')]) {
      const conf = join(dir, `${d}.conf`);
      writeFileSync(conf, daemons[d] ?? 'hostname zebra\n');
      chownSync(conf, uid, gid);
      lab.spawnIn(ns, join(FRR_BIN, d), ['-f', conf, '-i', join(dir, `${d}.pid`), '-z', join(dir, 'zserv.api'), '--vty_socket', dir, '-A', '127.0.0.1', '-P', '0'], { stdout: join(dir, `${d}.log`) });
      if (d === 'zebra') await waitFor('zebra', () => frr.vtysh('show version').then(() => true), 10_000, 50);
    }
    for (const d of Object.keys(daemons)) {
      await waitFor(`FRR ${d}`, () => frr.vtysh('show daemons').then((s) => s.includes(d)), 10_000, 50);
    }
    return frr;
  }

  /** Run one vtysh command inside the namespace, e.g. `show ip route`. */
  async vtysh(command: string): Promise<string> {
    return (await inNetns(this.ns, 'vtysh', ['--vty_socket', this.dir, '-c', command])).stdout;
  }
}

function frrIds(): { uid: number; gid: number } {
  // /etc/passwd: frr:x:UID:GID:...
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('frr:'));
  if (!line) throw new Error('FRR is not installed (no frr user): run the set-up command');
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}
