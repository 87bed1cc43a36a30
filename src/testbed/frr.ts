// Real FRR daemons (zebra plus e.g. ripd, bfdd) in a lab namespace, started
// directly (no systemd), each with its own vty socket directory.
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

  /**
   * Start FRR as its container image does: zebra and the daemons its
   * `daemons` file turns on, each with no config of its own, then the one
   * integrated `frr.conf` applied through vtysh. A line FRR refuses is an
   * error naming the config file and line.
   */
  static async startIntegrated(lab: Lab, ns: string, daemons: string[], configFile: string, name = 'frr'): Promise<Frr> {
    const dir = join(lab.dir, name);
    mkdirSync(dir, { recursive: true });
    const { uid, gid } = frrIds();
    chmodSync(lab.dir, 0o755);
    chownSync(dir, uid, gid);
    const frr = new Frr(lab, ns, dir);
    const empty = join(dir, 'empty.conf');
    writeFileSync(empty, '');
    chownSync(empty, uid, gid);
    for (const d of ['zebra', ...daemons.filter((d) => d !== 'zebra')]) {
      if (!existsSync(join(FRR_BIN, d))) throw new Error(`FRR daemon ${d} is not installed here (${join(FRR_BIN, d)})`);
      lab.spawnIn(ns, join(FRR_BIN, d), ['-f', empty, '-i', join(dir, `${d}.pid`), '-z', join(dir, 'zserv.api'), '--vty_socket', dir, '-A', '127.0.0.1', '-P', '0'], { stdout: join(dir, `${d}.log`) });
      if (d === 'zebra') await waitFor('zebra', () => frr.vtysh('show version').then(() => true), 10_000, 50);
    }
    for (const d of daemons) {
      await waitFor(`FRR ${d}`, () => frr.vtysh('show daemons').then((s) => s.includes(d)), 10_000, 50);
    }
    const r = await inNetns(ns, 'vtysh', ['--vty_socket', dir, '-f', configFile], { allowFail: true });
    if (r.code !== 0) {
      const bad = /line (\d+): (.*)/.exec(`${r.stdout}\n${r.stderr}`);
      throw new Error(bad ? `${configFile}:${bad[1]}: FRR refused: ${bad[2]!.replace(/^%\s*/, '').trim()}` : `${configFile}: vtysh -f failed (status ${r.code}): ${(r.stderr || r.stdout).trim()}`);
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
