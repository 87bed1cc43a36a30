// Config validation: every mistake is one line naming the field (and, from a
// file, its line and column); every problem is reported, not just the first.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/problems.js';
import { checkRoute } from '../../src/config/route-config.js';
import { loadRouterConfig, parseRouterConfig } from '../../src/config/router-config.js';
import { parseInterfaceAddress } from '../../src/net/addr.js';
import { BAD, full, good, type Json } from '../support/config-corpus.js';

const CONFIG_DIR = new URL('../../../config/', import.meta.url).pathname;
const TUNROUTE_BIN = new URL('../../../bin/tunroute.js', import.meta.url).pathname;

/** The problems (as lines) of a config the checker refuses. */
function problemsOf(config: unknown): string[] {
  try {
    parseRouterConfig(config);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.lines();
  }
  assert.fail('the config was accepted');
}

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'tunroute-config-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true });
  }
}

/** `line:column` of the first `needle` on line `line` (1-based) of `text`. */
function at(text: string, line: number, needle: string): string {
  const column = text.split('\n')[line - 1]!.indexOf(needle);
  assert.ok(column >= 0, `"${needle}" on line ${line}`);
  return `${line}:${column + 1}`;
}

test('a good config parses with defaults', () => {
  const c = parseRouterConfig(good());
  assert.equal(c.router, 'r1');
  assert.equal(c.socket, '/run/tunroute/r1.sock');
  assert.equal(c.logLevel, 'info');
  assert.deepEqual(c.icmpRateLimit, { rate: 100, burst: 50 });
  assert.equal(c.ports[0]!.mtu, 1500);
  assert.equal(c.ports[1]!.mtu, 1400);
  assert.equal(c.ports[0]!.netns, 'hostA');
  assert.equal(c.ports[1]!.netns, '');
  assert.equal(c.routes[0]!.metric, 1);
  assert.equal(c.routes[0]!.bfd, false);
  assert.deepEqual(c.bfd, { interval: 100, multiplier: 3, sessions: [], auth: { type: 'none', keys: [] }, ports: [] });
  assert.equal(c.rip, null);
  assert.equal(c.drainIdleTimeout, 5);
  assert.equal(c.workerNice, -10);
});

test('a config with every field set parses, $schema included', () => {
  const c = parseRouterConfig(full());
  assert.equal(c.socket, '/tmp/r1.sock');
  assert.equal(c.ports[2]!.prefixLen, 31);
  assert.deepEqual(c.routes.map((r) => [r.len, r.metric, r.bfd]), [[0, 10, true], [16, 0, false], [12, 1, true], [16, 1, false]]);
  const key = (id: number, secret: string, times: Partial<Record<'from' | 'until' | 'acceptFrom' | 'acceptUntil', string>> = {}) => ({
    id, secret, from: null, until: null, acceptFrom: null, acceptUntil: null, ...Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Date.parse(v)])),
  });
  assert.deepEqual(c.bfd.sessions, [{ port: 'lan', peer: parseInterfaceAddress('10.0.1.3/32').addr, interval: 200, multiplier: 2, auth: { type: 'password', keys: [key(2, 'pw')] } }]);
  assert.deepEqual(c.bfd.auth, { type: 'keyed-sha1', keys: [key(1, 'bfd-secret')] });
  assert.deepEqual(c.bfd.ports, [{ port: 'wan', auth: { type: 'meticulous-keyed-md5', keys: [key(7, 'm', { until: '2030-01-01T00:00:00Z' })] } }]);
  const plain = { standbyRefresh: 0, ttlSecurity: false, neighbours: [], unicast: false, auth: { type: 'none', keys: [] }, maxRoutesPerNeighbour: 500 };
  assert.deepEqual(c.rip?.ports, [
    { port: 'wan', cost: 1, bfd: false, passive: false, ...plain },
    { port: 'lan', cost: 2, bfd: true, passive: true, ...plain },
    {
      port: 'p2p', cost: 1, bfd: false, passive: false, standbyRefresh: 0, ttlSecurity: 'tx-only', neighbours: [parseInterfaceAddress('10.0.13.1/32').addr], unicast: true,
      maxRoutesPerNeighbour: 100,
      auth: {
        type: 'hmac-sha256',
        keys: [
          key(1, 'old', { until: '2026-01-01T00:00:00Z', acceptUntil: '2026-01-02T00:00:00Z' }),
          key(2, 'new', { from: '2026-01-01T00:00:00Z', acceptFrom: '2025-12-30T23:00:00Z' }),
        ],
      },
    },
  ]);
  assert.deepEqual([c.rip?.maxRoutes, c.rip?.maxRoutesPerNeighbour, c.rip?.maxNeighboursPerPort], [2000, 500, 8]);
  // OSPF takes RIP's format: a type and a key chain (the password within OSPF's 8 bytes).
  assert.deepEqual(c.ospf?.ports.map((x) => x.auth), [
    { type: 'none', keys: [] },
    {
      type: 'md5',
      keys: [
        key(3, 'secret', { until: '2026-06-01T00:00:00Z', acceptUntil: '2026-06-02T00:00:00Z' }),
        key(4, 'secret2', { from: '2026-06-01T00:00:00Z', acceptFrom: '2026-05-31T00:00:00Z' }),
      ],
    },
    { type: 'password', keys: [key(0, 'pw')] },
  ]);
  assert.deepEqual(c.policy.map((r) => [r.name, r.protocol, r.dstPorts]), [['web', 6, [80, 443]], ['gre', 47, null], ['dns', 17, [53, 53]]]);
  assert.deepEqual(c.virtualServices[0]!.backends.map((b) => b.sources.length), [2, 0]);
  assert.deepEqual(c.triggers.map((t) => [t.name, t.api, t.action]), [['cut', true, 'drain'], ['cut2', true, 'block']]);
  assert.equal(c.workerNice, -5);
});

test('each bad config is refused with exactly its problem, on one line', async (t) => {
  for (const bad of BAD) {
    await t.test(bad.what, () => {
      const c = good();
      bad.mutate(c);
      const lines = problemsOf(c);
      assert.equal(lines.length, 1, `one problem, got:\n${lines.join('\n')}`);
      assert.match(lines[0]!, bad.problem);
      assert.ok(!lines[0]!.includes('\n'));
    });
  }
});

test('a line break or control character in a value or key stays on one line, escaped (found by fuzzing)', () => {
  const c: Json = good();
  c.router = 'r\n1';
  c.ports[0].netns = 'a\u2028b';
  c.routes[0].port = 'w\ran';
  c['x\ny'] = 1;
  let error: unknown;
  try {
    parseRouterConfig(c);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ConfigError);
  const lines = error.lines();
  assert.equal(lines.length, 4, lines.join(' | '));
  for (const line of lines) assert.doesNotMatch(line, /[\n\r\u2028\u2029]/);
  assert.doesNotMatch(error.message, /[\n\r\u2028\u2029]/);
  assert.ok(lines.includes('router: "r\\n1" is not valid (letters, digits, "_", "-", "." — up to 32)'), lines.join(' | '));
  assert.ok(lines.some((l) => l.startsWith('x\\ny: unknown field')), lines.join(' | '));
  assert.ok(lines.some((l) => l.includes('"a\\u2028b"')), lines.join(' | '));
  withDir((dir) => {
    const file = join(dir, 'r.json');
    writeFileSync(file, JSON.stringify(c, null, 2));
    assert.throws(() => loadRouterConfig(file), (e: unknown) => e instanceof ConfigError && e.lines().every((l) => !/[\n\r\u2028]/.test(l)) && e.lines().length === 4);
  });
});

test('a policy protocol named like an Object property ("__proto__", "constructor") is refused, not taken (found by fuzzing)', () => {
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    const c: Json = good();
    c.policy = [{ name: 'p', from: '10.0.1.0/24', protocol: name, port: 'wan' }];
    assert.deepEqual(problemsOf(c), [`policy[0].protocol: "${name}" is not tcp, udp, icmp or a protocol number 0-255`]);
  }
  const c: Json = good();
  c.policy = [{ name: 'p', from: '10.0.1.0/24', protocol: 'udp', port: 'wan' }];
  assert.equal(parseRouterConfig(c).policy[0]!.protocol, 17);
});

test('all problems are reported, not just the first', () => {
  const c: Json = good();
  c.ports[0].address = '10.0.1.300/24';
  c.ports[0].mtu = 'big';
  c.ports[0].colour = 'red';
  c.ports[0].shade = 'dark';
  c.routes.push({ prefix: '127.0.0.0/8', port: 'wan', via: '10.0.12.3', metric: '7' });
  c.bfd = { interval: 1, sessions: [{ port: 'wan', peer: '10.0.12.1' }] };
  c.drainIdleTimeout = -1;
  let error: ConfigError | undefined;
  try {
    parseRouterConfig(c);
  } catch (e) {
    error = e as ConfigError;
  }
  assert.ok(error instanceof ConfigError);
  assert.deepEqual(error.problems.map((p) => p.path), [
    'ports[0].colour', 'ports[0].shade', 'ports[0].address', 'ports[0].mtu',
    'routes[1].prefix', 'routes[1].via', 'routes[1].metric',
    'bfd.interval', 'bfd.sessions[0].peer', 'drainIdleTimeout',
  ]);
  // The message stays one line (API answers, logs): the first problem and a count.
  assert.equal(error.message, 'ports[0].colour: unknown field (allowed: name, type, device, netns, address, mtu, neighbours, offload) (and 9 more)');
  assert.equal(error.lines().length, 10);
});

test('a bad port does not hide a bad route, nor makes its routes "unknown port"', () => {
  const c: Json = good();
  c.ports[1].address = '10.0.12.1/40';
  c.routes.push({ prefix: '10.0.0.0/08', port: 'wan' });
  c.rip = { ports: ['wan'] };
  c.triggers = [{ name: 't', match: { client: '10.0.2.2' }, port: 'wan' }];
  assert.deepEqual(problemsOf(c), [
    'ports[1].address: "10.0.12.1/40": prefix length must be 0-32, without leading zeros',
    'routes[1].prefix: "10.0.0.0/08": prefix length must be 0-32, without leading zeros',
  ]);
});

test('a port with a bad field still has its address checked against: routes on it, overlaps', () => {
  const c: Json = good();
  c.ports[1].mtu = 'big';
  c.routes[0].via = '10.0.12.1';
  c.ports.push({ name: 'x', device: 'r1-x', address: '10.0.12.2/31' });
  assert.deepEqual(problemsOf(c), [
    'ports[1].mtu: must be an integer from 68 to 65535 (got "big")',
    'ports[2].address: subnet 10.0.12.2/31 overlaps port "wan" (10.0.12.0/30): a destination would be on-link on two ports',
    'routes[0].via: next hop 10.0.12.1 is this router\'s own address (port "wan")',
  ]);
});

test('checkRoute: the route checks the API shares, without throwing', () => {
  const ports = [
    { name: 'lan', address: parseInterfaceAddress('10.0.1.1/24').addr, prefixLen: 24 },
    { name: 'wan', address: parseInterfaceAddress('10.0.12.1/30').addr, prefixLen: 30 },
  ];
  const ok = checkRoute({ prefix: '1.1.1.0/24', port: 'wan', via: '10.0.12.2', metric: 7, bfd: true }, ports);
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.route, { prefix: 0x01010100, len: 24, port: 'wan', via: parseInterfaceAddress('10.0.12.2/32').addr, metric: 7, bfd: true });
  assert.deepEqual(checkRoute({ prefix: '1.1.1.0/24', port: 'lan' }, ports).route?.metric, 1);

  const bad = checkRoute({ prefix: ['224.0.0.0/4'], port: 'wan', via: '10.0.12.1', metric: '7', weight: 2 }, ports);
  assert.equal(bad.route, null);
  assert.deepEqual(bad.problems.map((p) => `${p.path}: ${p.message}`), [
    'weight: unknown field (allowed: prefix, port, via, metric, bfd)',
    'prefix: must be a string such as "10.0.0.0/8" (got ["224.0.0.0/4"])',
    'via: next hop 10.0.12.1 is this router\'s own address (port "wan")',
    'metric: must be an integer from 0 to 2147483647 (got "7")',
  ]);
  assert.deepEqual(checkRoute({ prefix: '224.0.0.0/4', port: 'dmz' }, ports).problems.map((p) => p.path), ['prefix', 'port']);
  assert.deepEqual(checkRoute('10.0.0.0/8', ports).problems.map((p) => p.message), ['must be an object (got "10.0.0.0/8")']);
});

test('problems in a file give FILE:LINE:COL at the value, the key of an unknown field, or the object missing a field', () => {
  const text = [
    '{',
    '  "$schema": "./tunroute.schema.json",',
    '  "router": "r1",',
    '  "ports": [',
    '    { "name": "lan", "device": "r1-lan", "address": "10.0.1.300/24" },',
    '    { "name": "wan", "device": "r1-wan", "address": "10.0.12.1/30", "colour": "red" }',
    '  ],',
    '  "routes": [',
    '    { "prefix": "1.1.1.1/32", "port": "wan", "via": "10.0.12.2", "metric": "7" },',
    '    { "port": "wan" },',
    '\t{ "prefix": "224.0.0.0/4", "port": "wan" }',
    '  ]',
    '}',
  ].join('\n');
  withDir((dir) => {
    const file = join(dir, 'r.json');
    writeFileSync(file, text);
    assert.throws(() => loadRouterConfig(file), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.lines(), [
        `${file}:${at(text, 5, '"10.0.1.300/24"')}: ports[0].address: "10.0.1.300/24": "10.0.1.300" is not an IPv4 address`,
        `${file}:${at(text, 6, '"colour"')}: ports[1].colour: unknown field (allowed: name, type, device, netns, address, mtu, neighbours, offload)`,
        `${file}:${at(text, 9, '"7"')}: routes[0].metric: must be an integer from 0 to 2147483647 (got "7")`,
        `${file}:${at(text, 10, '{')}: routes[1].prefix: missing (required)`,
        `${file}:11:14: routes[2].prefix: 224.0.0.0/4 is inside 224.0.0.0/4 (multicast): not a destination to route to`,
      ]);
      assert.equal(e.problems[0]!.line, 5);
      assert.equal(e.problems[0]!.column, 53);
      return true;
    });
  });
});

test('a JSON syntax error gives FILE:LINE:COL and what is wrong', () => {
  const cases: [string, string, RegExp][] = [
    ['{ "router": ', '1:13', /the file ends where a value is expected/],
    ['', '1:1', /the file ends where a value is expected/],
    ['{\n  "router": "r1",\n  "ports": [],\n}', '4:1', /a comma before "}" \(JSON allows no trailing comma\)/],
    ['{\n  "ports": [1, 2,]\n}', '2:18', /a comma before "]"/],
    ['{\n  "router": "r1"\n  "ports": []\n}', '3:3', /expected "," between items, found "ports"/],
    ['{\n  "mtu": 08\n}', '2:11', /a number with a leading zero/],
    ['{\n  // the router\n  "router": "r1"\n}', '2:3', /comments are not allowed in JSON/],
    ["{ 'router': 'r1' }", '1:3', /strings and field names need double quotes/],
    ['{ "metric": NaN }', '1:13', /unexpected "NaN"/],
    ['{ "router": "r1" } {}', '1:20', /text after the end of the JSON value: "{"/],
    ['{ "router": "r1" } x', '1:20', /unexpected "x"/],
    ['{\n  "router": "r1\tx"\n}', '2:13', /a control character .* inside a string/],
    ['{ "router": "r1\\x" }', '1:13', /a bad escape in a string/],
    ['{\n  "ports": [\n    { "name": "a" }\n', '4:1', /the file ends inside a list/],
    ['\uFEFF{ "router": }', '1:13', /expected a value, found "}"/],
  ];
  withDir((dir) => {
    const file = join(dir, 'bad.json');
    for (const [text, where, what] of cases) {
      writeFileSync(file, text);
      assert.throws(() => loadRouterConfig(file), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.equal(e.problems.length, 1, JSON.stringify(text));
        assert.ok(e.message.startsWith(`${file}:${where}: not valid JSON: `), `${JSON.stringify(text)} → ${e.message}`);
        assert.match(e.message, what);
        return true;
      });
    }
  });
});

test('a key given twice is a problem (JSON.parse would keep the last silently)', () => {
  const text = '{\n  "router": "r1",\n  "ports": [{ "name": "a", "device": "d", "address": "10.0.0.1/24", "mtu": 1400, "mtu": 9000 }],\n  "router": "r2"\n}';
  withDir((dir) => {
    const file = join(dir, 'dup.json');
    writeFileSync(file, text);
    assert.throws(() => loadRouterConfig(file), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.lines(), [
        `${file}:${at(text, 3, '"mtu": 9000')}: ports[0].mtu: given twice (also at line 3, column ${at(text, 3, '"mtu"').split(':')[1]}; JSON keeps only the last)`,
        `${file}:4:3: router: given twice (also at line 2, column 3; JSON keeps only the last)`,
      ]);
      return true;
    });
  });
});

test('file errors name the file', () => {
  withDir((dir) => {
    assert.throws(() => loadRouterConfig(join(dir, 'missing.json')), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /^\/.*missing\.json: cannot read: ENOENT/);
      return true;
    });
    writeFileSync(join(dir, 'r.json'), JSON.stringify({ ...good(), routes: [{ prefix: 'x', port: 'wan' }] }));
    assert.throws(() => loadRouterConfig(join(dir, 'r.json')), /r\.json:1:\d+: routes\[0\]\.prefix: "x" is not an IPv4 prefix/);
  });
});

test('every example in config/ is a valid router config', () => {
  const files = readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.json') && !f.endsWith('.schema.json'));
  assert.ok(files.length >= 5);
  for (const f of files) loadRouterConfig(join(CONFIG_DIR, f));
});

function tunroute(args: string[], asNobody: boolean): Promise<{ code: number; stdout: string; stderr: string }> {
  // uid 65534: prove that `check` needs no root (the suite runs as root).
  const ids = asNobody ? { uid: 65534, gid: 65534 } : {};
  return new Promise((resolve) => {
    execFile(process.execPath, [TUNROUTE_BIN, ...args], { timeout: 20_000, ...ids }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

test('tunroute check: ok, the problems, --json; exit 0/2; no root needed', async () => {
  const asNobody = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'tunroute-check-'));
  try {
    chmodSync(dir, 0o755);
    const example = join(CONFIG_DIR, 'r1-static-bfd.json');
    const ok = await tunroute(['check', '--config', example], asNobody);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `${example}: ok (router r1, 3 ports, 3 static routes, BFD (2 tracked routes), API /run/tunroute/r1.sock)\n`);

    const bad = join(dir, 'bad.json');
    const text = '{\n  "router": "r1",\n  "ports": [{ "name": "a", "device": "d", "address": "10.0.0.0/24" }],\n  "routes": [{ "prefix": "127.0.0.0/8", "port": "a" }]\n}\n';
    writeFileSync(bad, text);
    chmodSync(bad, 0o644);
    const r = await tunroute(['check', '--config', bad], asNobody);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, [
      `${bad}:${at(text, 3, '"10.0.0.0/24"')}: ports[0].address: 10.0.0.0/24: 10.0.0.0 is the network address of 10.0.0.0/24 (host part 0)`,
      `${bad}:${at(text, 4, '"127.0.0.0/8"')}: routes[0].prefix: 127.0.0.0/8 is inside 127.0.0.0/8 (loopback): not a destination to route to`,
      `${bad}: 2 problems`,
      '',
    ].join('\n'));
    assert.equal(r.stderr, '');

    // A port on 0.0.0.0/0 would make every destination on-link: refused, on one line.
    const all = join(dir, 'all.json');
    const allText = '{\n  "router": "r1",\n  "ports": [{ "name": "a", "device": "d", "address": "0.0.0.0/0" }]\n}\n';
    writeFileSync(all, allText);
    chmodSync(all, 0o644);
    const z = await tunroute(['check', '--config', all], asNobody);
    assert.equal(z.code, 2);
    assert.equal(z.stdout, [
      `${all}:${at(allText, 3, '"0.0.0.0/0"')}: ports[0].address: 0.0.0.0/0: a port's subnet cannot be /0 (everything would be on-link)`,
      `${all}: 1 problem`,
      '',
    ].join('\n'));
    assert.equal(z.stderr, '');

    const j = await tunroute(['check', '--config', bad, '--json'], asNobody);
    assert.equal(j.code, 2);
    const json = JSON.parse(j.stdout);
    assert.equal(json.ok, false);
    assert.deepEqual(json.problems.map((p: { line: number; column: number; path: string }) => [p.line, p.column, p.path]), [[3, 54, 'ports[0].address'], [4, 26, 'routes[0].prefix']]);
    const jok = JSON.parse((await tunroute(['--json', 'check', '--config', example], asNobody)).stdout);
    assert.equal(jok.ok, true);
    assert.equal(jok.router, 'r1');

    // `run` refuses the same file before touching a device: every problem on stderr, exit 2, no stack trace.
    const run = await tunroute(['run', '--config', bad], false);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, [
      `${bad}:${at(text, 3, '"10.0.0.0/24"')}: ports[0].address: 10.0.0.0/24: 10.0.0.0 is the network address of 10.0.0.0/24 (host part 0)`,
      `${bad}:${at(text, 4, '"127.0.0.0/8"')}: routes[0].prefix: 127.0.0.0/8 is inside 127.0.0.0/8 (loopback): not a destination to route to`,
      `tunroute: ${bad}: 2 problems, not started`,
      '',
    ].join('\n'));
  } finally {
    rmSync(dir, { recursive: true });
  }
});
