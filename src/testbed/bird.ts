// A real BIRD 2 in a lab namespace, as a routing peer for interop tests.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './lab.js';
import { run, waitFor } from './shell.js';

export class Bird {
  private constructor(readonly lab: Lab, readonly ns: string, readonly socket: string) {}

  /** Start `bird -f` with `config` (BIRD 2 syntax) inside `ns`; resolves when birdc answers. */
  static async start(lab: Lab, ns: string, config: string, name = 'bird'): Promise<Bird> {
    const conf = join(lab.dir, `${name}.conf`);
    writeFileSync(conf, config);
    return Bird.startFile(lab, ns, conf, name);
  }

  /**
   * Start `bird -f` with the config file `conf` inside `ns`. The file is
   * checked first (`bird -p`), so a mistake in it is one line naming the
   * file and line, as BIRD reports it.
   */
  static async startFile(lab: Lab, ns: string, conf: string, name = 'bird'): Promise<Bird> {
    const check = await run('bird', ['-p', '-c', conf], { allowFail: true });
    if (check.code !== 0) throw new Error((check.stderr || check.stdout).trim().split('\n').pop()!.replace(/^bird: /, ''));
    const socket = join(lab.dir, `${name}.ctl`);
    lab.spawnIn(ns, 'bird', ['-f', '-c', conf, '-s', socket, '-P', join(lab.dir, `${name}.pid`)]);
    const bird = new Bird(lab, ns, socket);
    await waitFor(`${name} control socket`, () => bird.cmd('show status').then((s) => s.includes('Daemon is up')), 10_000, 50);
    return bird;
  }

  /** Run a birdc command, e.g. `show route`, and return its output. */
  async cmd(command: string): Promise<string> {
    return (await run('birdc', ['-s', this.socket, ...command.split(' ')])).stdout;
  }
}
