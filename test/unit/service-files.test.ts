// The systemd unit template and the logrotate snippet the README tells
// operators to install: the unit passes systemd's own checker (instantiated
// for a router "r1"), reload is wired to SIGHUP, a bad config is not
// restarted into, and the rotation reopens logs with SIGUSR1.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const contrib = new URL('../../../contrib/', import.meta.url).pathname;

test('the systemd unit template passes systemd-analyze verify and wires reload to SIGHUP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunroute-unit-'));
  try {
    const unit = join(dir, 'tunroute@r1.service');
    copyFileSync(join(contrib, 'systemd/tunroute@.service'), unit);
    // Throws (and fails the test) on any complaint of systemd's.
    const out = execFileSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(out.trim(), '');
    const text = readFileSync(unit, 'utf8');
    assert.match(text, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    assert.match(text, /^ExecStart=.* run --config \/etc\/tunroute\/%i\.json/m);
    assert.match(text, /^RestartPreventExitStatus=2$/m, 'a bad config (exit 2) is not restarted into');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('logrotate reopens the logs with SIGUSR1', () => {
  const text = readFileSync(join(contrib, 'logrotate/tunroute'), 'utf8');
  assert.match(text, /\/var\/log\/tunroute\/\*\.log/);
  assert.match(text, /--signal=SIGUSR1 'tunroute@\*\.service'/);
});
