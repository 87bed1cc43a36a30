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
    const socket = join(lab.dir, `${name}.ctl`);
    writeFileSync(conf, config);
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
