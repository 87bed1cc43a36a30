// The interop peers start in a lab namespace and answer their control CLIs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bird } from '../../src/testbed/bird.js';
import { Frr } from '../../src/testbed/frr.js';
import { Lab } from '../../src/testbed/lab.js';

test('BIRD and FRR run inside lab namespaces', { timeout: 30_000 }, async () => {
  const lab = await Lab.create('peers');
  try {
    const ns = await lab.addNamespace('p');
    const bird = await Bird.start(lab, ns, 'router id 10.0.0.1;\nprotocol device { }\n');
    assert.match(await bird.cmd('show protocols'), /device1\s+Device/);
    const frr = await Frr.start(lab, ns, { bfdd: 'bfd\n!\n' });
    assert.match(await frr.vtysh('show bfd peers'), /BFD Peers/);
  } finally {
    await lab.cleanup();
  }
});
