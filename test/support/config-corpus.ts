// Good and bad router configs, shared by the checker's tests and the schema's:
// every bad one must be refused by the checker (with the problem named), and
// by config/tunroute.schema.json where `schema` says a schema can express it.

/** A config as parsed JSON: any field may be poked at. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests mutate arbitrary JSON on purpose
export type Json = any;

/** A small router: a /24 LAN and a /30 WAN link. */
export const good = (): Json => ({
  router: 'r1',
  ports: [
    { name: 'lan', device: 'r1-lan', netns: 'hostA', address: '10.0.1.1/24' },
    { name: 'wan', device: 'r1-wan', address: '10.0.12.1/30', mtu: 1400 },
  ],
  routes: [{ prefix: '1.1.1.1/32', port: 'wan', via: '10.0.12.2', metric: 1 }],
});

/** Every field the config has, each set (the schema must accept all of it). */
export const full = (): Json => ({
  $schema: './tunroute.schema.json',
  router: 'r1',
  socket: '/tmp/r1.sock',
  logLevel: 'debug',
  icmpRateLimit: { rate: 10, burst: 5 },
  ports: [
    { name: 'lan', device: 'r1-lan', netns: 'hostA', address: '10.0.1.1/24', mtu: 1500 },
    { name: 'wan', device: 'r1-wan', address: '10.0.12.1/30', mtu: 1400 },
    { name: 'p2p', device: 'r1-p2p', address: '10.0.13.0/31', offload: true },
  ],
  routes: [
    { prefix: '0.0.0.0/0', port: 'wan', via: '10.0.12.2', metric: 10, bfd: true },
    { prefix: '192.168.0.0/16', port: 'lan', via: '10.0.1.2', metric: 0 },
    { prefix: '172.16.0.0/12', port: 'p2p', bfd: true },
    { prefix: '172.32.0.0/16', port: 'p2p', via: '10.0.13.1' },
  ],
  bfd: {
    interval: 50,
    multiplier: 5,
    sessions: [{ port: 'lan', peer: '10.0.1.3', interval: 200, multiplier: 2, auth: { type: 'password', keys: [{ id: 2, secret: 'pw' }] } }],
    auth: { type: 'keyed-sha1', keys: [{ id: 1, secret: 'bfd-secret' }] },
    ports: [{ port: 'wan', auth: { type: 'meticulous-keyed-md5', keys: [{ id: 7, secret: 'm', until: '2030-01-01' }] } }],
  },
  rip: {
    ports: ['wan', { port: 'lan', cost: 2, bfd: true, passive: true }, {
      port: 'p2p', ttlSecurity: 'tx-only', neighbours: ['10.0.13.1'], unicast: true, maxRoutesPerNeighbour: 100,
      auth: {
        type: 'hmac-sha256',
        keys: [
          { id: 1, secret: 'old', until: '2026-01-01T00:00:00Z', acceptUntil: '2026-01-02T00:00:00Z' },
          { id: 2, secret: 'new', from: '2026-01-01T00:00:00Z', acceptFrom: '2025-12-31T00:00:00+01:00' },
        ],
      },
    }],
    redistribute: ['connected'],
    updateTime: 5,
    timeoutTime: 30,
    garbageTime: 20,
    maxRoutes: 2000,
    maxRoutesPerNeighbour: 500,
    maxNeighboursPerPort: 8,
  },
  ospf: {
    routerId: '10.255.0.1',
    ports: [
      'p2p',
      { port: 'wan', cost: 20, passive: false, network: 'point-to-point', priority: 0, helloInterval: 1, deadInterval: 4, retransmitInterval: 2, bfd: true,
        auth: {
          type: 'md5',
          keys: [
            { id: 3, secret: 'secret', until: '2026-06-01T00:00:00Z', acceptUntil: '2026-06-02T00:00:00Z' },
            { id: 4, secret: 'secret2', from: '2026-06-01T00:00:00Z', acceptFrom: '2026-05-31T00:00:00Z' },
          ],
        },
      },
      { port: 'lan', network: 'broadcast', priority: 5, passive: true, auth: { type: 'password', keys: [{ id: 0, secret: 'pw' }] } },
    ],
    redistribute: ['connected', { source: 'static', metric: 20, metricType: 1 }],
    lsdbLimit: 500,
  },
  policy: [
    { name: 'web', from: '10.0.1.0/24', to: '1.1.1.1', protocol: 'tcp', dstPorts: '80-443', port: 'wan', via: '10.0.12.2' },
    { name: 'gre', from: '10.0.1.7', protocol: 47, port: 'lan' },
    { name: 'dns', from: '10.0.1.8/32', protocol: '17', dstPorts: 53, port: 'lan' },
  ],
  virtualServices: [{
    name: 'info',
    address: '1.1.1.1',
    idleTimeout: 60,
    backends: [
      { name: 'new', address: '192.168.2.2', sources: ['10.0.2.2/32', '10.0.3.3'] },
      { name: 'old', address: '192.168.1.2', sources: [] },
    ],
  }],
  triggers: [
    { name: 'cut', file: '/var/log/a.log', api: true, match: { client: '10.0.2.2', server: 's2', status: 200, path: '/poll' }, action: 'drain', port: 'wan' },
    { name: 'cut2', match: { client: '10.0.2.3' }, port: 'lan' },
  ],
  drainIdleTimeout: 10,
  offload: false,
  workerNice: -5,
});

export interface BadConfig {
  what: string;
  mutate: (c: Json) => void;
  /** The problem the checker reports (the whole line, without the file). */
  problem: RegExp;
  /** The JSON Schema refuses it too; false = only the checker can tell (cross-references, arithmetic). */
  schema: boolean;
}

const route = (c: Json) => c.routes[0];

export const BAD: BadConfig[] = [
  // addresses and prefixes as text
  { what: 'address octet > 255', mutate: (c) => { c.ports[0].address = '10.0.1.300/24'; }, problem: /^ports\[0\]\.address: "10\.0\.1\.300\/24": "10\.0\.1\.300" is not an IPv4 address/, schema: true },
  { what: 'prefix with host bits', mutate: (c) => { route(c).prefix = '1.1.1.1/24'; }, problem: /^routes\[0\]\.prefix: .*host bits set \(did you mean 1\.1\.1\.0\/24\?\)/, schema: false },
  { what: 'prefix length 33', mutate: (c) => { route(c).prefix = '1.1.1.0/33'; }, problem: /^routes\[0\]\.prefix: .*0-32/, schema: true },
  { what: 'prefix length with a leading zero', mutate: (c) => { route(c).prefix = '10.0.0.0/08'; }, problem: /^routes\[0\]\.prefix: "10\.0\.0\.0\/08": prefix length must be 0-32, without leading zeros$/, schema: true },
  { what: 'prefix given as a list', mutate: (c) => { route(c).prefix = ['10.0.0.0/8']; }, problem: /^routes\[0\]\.prefix: must be a string such as "10\.0\.0\.0\/8" \(got \["10\.0\.0\.0\/8"\]\)$/, schema: true },
  { what: 'next hop given as a list', mutate: (c) => { route(c).via = ['10.0.12.2']; }, problem: /^routes\[0\]\.via: must be a string/, schema: true },
  { what: 'octet with a leading zero', mutate: (c) => { route(c).via = '10.0.12.02'; }, problem: /^routes\[0\]\.via: "10\.0\.12\.02" is not an IPv4 address$/, schema: true },
  // metric: a number, not something that converts to one
  { what: 'metric -1', mutate: (c) => { route(c).metric = -1; }, problem: /^routes\[0\]\.metric: must be an integer from 0 to 2147483647 \(got -1\)$/, schema: true },
  { what: 'metric "7"', mutate: (c) => { route(c).metric = '7'; }, problem: /^routes\[0\]\.metric: must be an integer .* \(got "7"\)$/, schema: true },
  { what: 'metric "0x10"', mutate: (c) => { route(c).metric = '0x10'; }, problem: /^routes\[0\]\.metric: must be an integer .* \(got "0x10"\)$/, schema: true },
  { what: 'metric true', mutate: (c) => { route(c).metric = true; }, problem: /^routes\[0\]\.metric: must be an integer .* \(got true\)$/, schema: true },
  { what: 'metric [3]', mutate: (c) => { route(c).metric = [3]; }, problem: /^routes\[0\]\.metric: must be an integer .* \(got \[3\]\)$/, schema: true },
  { what: 'metric ""', mutate: (c) => { route(c).metric = ''; }, problem: /^routes\[0\]\.metric: must be an integer .* \(got ""\)$/, schema: true },
  { what: 'metric 1.5', mutate: (c) => { route(c).metric = 1.5; }, problem: /^routes\[0\]\.metric: must be an integer .* \(got 1\.5\)$/, schema: true },
  { what: 'metric 2^31', mutate: (c) => { route(c).metric = 2 ** 31; }, problem: /^routes\[0\]\.metric: must be an integer/, schema: true },
  { what: 'bfd "yes"', mutate: (c) => { route(c).bfd = 'yes'; }, problem: /^routes\[0\]\.bfd: must be true or false \(got "yes"\)$/, schema: true },
  { what: 'port offload "on"', mutate: (c) => { c.ports[0].offload = 'on'; }, problem: /^ports\[0\]\.offload: must be true or false \(got "on"\)$/, schema: true },
  { what: 'router offload 1', mutate: (c) => { c.offload = 1; }, problem: /^offload: must be true or false \(got 1\)$/, schema: true },
  // destinations a router does not route to
  { what: 'route to 127/8', mutate: (c) => { route(c).prefix = '127.0.0.0/8'; }, problem: /^routes\[0\]\.prefix: 127\.0\.0\.0\/8 is inside 127\.0\.0\.0\/8 \(loopback\)/, schema: true },
  { what: 'route to 127.0.0.1', mutate: (c) => { route(c).prefix = '127.0.0.1/32'; }, problem: /^routes\[0\]\.prefix: .*\(loopback\)/, schema: true },
  { what: 'route to 224/4', mutate: (c) => { route(c).prefix = '224.0.0.0/4'; }, problem: /^routes\[0\]\.prefix: 224\.0\.0\.0\/4 is inside 224\.0\.0\.0\/4 \(multicast\)/, schema: true },
  { what: 'route to a multicast group', mutate: (c) => { route(c).prefix = '239.1.2.3/32'; }, problem: /^routes\[0\]\.prefix: .*\(multicast\)/, schema: true },
  { what: 'route to 240/4', mutate: (c) => { route(c).prefix = '240.0.0.0/4'; }, problem: /^routes\[0\]\.prefix: .*\(reserved/, schema: true },
  { what: 'route to 255.255.255.255', mutate: (c) => { route(c).prefix = '255.255.255.255/32'; }, problem: /^routes\[0\]\.prefix: .*\(reserved/, schema: true },
  { what: 'route to 0/8', mutate: (c) => { route(c).prefix = '0.0.0.0/8'; }, problem: /^routes\[0\]\.prefix: .*"this network"/, schema: true },
  // next hops
  { what: 'next hop off the port', mutate: (c) => { route(c).via = '192.168.0.1'; }, problem: /^routes\[0\]\.via: next hop 192\.168\.0\.1 is not on port "wan" \(10\.0\.12\.0\/30\)$/, schema: false },
  { what: 'next hop = our own address', mutate: (c) => { route(c).via = '10.0.12.1'; }, problem: /^routes\[0\]\.via: next hop 10\.0\.12\.1 is this router's own address \(port "wan"\)$/, schema: false },
  { what: 'next hop = subnet broadcast', mutate: (c) => { route(c).via = '10.0.12.3'; }, problem: /^routes\[0\]\.via: next hop 10\.0\.12\.3 is the broadcast address of port "wan"/, schema: false },
  { what: 'next hop = subnet network', mutate: (c) => { route(c).via = '10.0.12.0'; }, problem: /^routes\[0\]\.via: next hop 10\.0\.12\.0 is the network address of port "wan"/, schema: false },
  { what: 'unknown port', mutate: (c) => { route(c).port = 'nope'; }, problem: /^routes\[0\]\.port: unknown port "nope" \(ports: lan, wan\)$/, schema: false },
  { what: 'BFD route without a peer on a LAN', mutate: (c) => { c.routes = [{ prefix: '1.1.1.1/32', port: 'lan', bfd: true }]; }, problem: /^routes\[0\]\.bfd: a BFD-tracked route needs "via"/, schema: false },
  // ports
  { what: 'duplicate port name', mutate: (c) => { c.ports[1].name = 'lan'; route(c).port = 'lan'; route(c).via = '10.0.1.2'; }, problem: /^ports\[1\]\.name: duplicate port name "lan" \(also at ports\[0\]\.name\)$/, schema: false },
  { what: 'duplicate device', mutate: (c) => { c.ports[1].device = 'r1-lan'; c.ports[1].netns = 'hostA'; }, problem: /^ports\[1\]\.device: duplicate device/, schema: false },
  { what: 'duplicate address', mutate: (c) => { c.ports[1].address = '10.0.1.1/24'; c.routes = []; }, problem: /^ports\[1\]\.address: duplicate address/, schema: false },
  { what: 'overlapping subnets', mutate: (c) => { c.ports.push({ name: 'x', device: 'r1-x', address: '10.0.1.129/25' }); }, problem: /^ports\[2\]\.address: subnet 10\.0\.1\.128\/25 overlaps port "lan" \(10\.0\.1\.0\/24\)/, schema: false },
  { what: 'subnet containing another', mutate: (c) => { c.ports.push({ name: 'x', device: 'r1-x', address: '10.0.0.1/16' }); }, problem: /^ports\[2\]\.address: subnet 10\.0\.0\.0\/16 overlaps port "lan"/, schema: false },
  { what: 'port address 0.0.0.0/0', mutate: (c) => { c.ports[0].address = '0.0.0.0/0'; }, problem: /^ports\[0\]\.address: 0\.0\.0\.0\/0: a port's subnet cannot be \/0/, schema: true },
  { what: 'port subnet /0', mutate: (c) => { c.ports[0].address = '10.0.1.1/0'; }, problem: /^ports\[0\]\.address: .*cannot be \/0/, schema: true },
  { what: 'port address with host part 0', mutate: (c) => { c.ports[0].address = '10.0.1.0/24'; }, problem: /^ports\[0\]\.address: 10\.0\.1\.0\/24: 10\.0\.1\.0 is the network address of 10\.0\.1\.0\/24 \(host part 0\)$/, schema: false },
  { what: 'port address = subnet broadcast', mutate: (c) => { c.ports[0].address = '10.0.1.255/24'; }, problem: /^ports\[0\]\.address: 10\.0\.1\.255\/24: 10\.0\.1\.255 is the broadcast address of 10\.0\.1\.0\/24$/, schema: false },
  { what: 'port address on loopback', mutate: (c) => { c.ports[0].address = '127.0.0.1/8'; }, problem: /^ports\[0\]\.address: .*loopback address/, schema: true },
  { what: 'port address multicast', mutate: (c) => { c.ports[0].address = '224.0.0.1/24'; }, problem: /^ports\[0\]\.address: .*multicast address/, schema: true },
  { what: 'missing device', mutate: (c) => { delete c.ports[0].device; }, problem: /^ports\[0\]\.device: missing \(required\)$/, schema: true },
  { what: 'no ports', mutate: (c) => { c.ports = []; c.routes = []; }, problem: /^ports: at least one port is required$/, schema: true },
  { what: 'long device name', mutate: (c) => { c.ports[0].device = 'a-very-long-device-name'; }, problem: /^ports\[0\]\.device: .* 15/, schema: true },
  { what: 'mtu 20', mutate: (c) => { c.ports[0].mtu = 20; }, problem: /^ports\[0\]\.mtu: must be an integer from 68 to 65535 \(got 20\)$/, schema: true },
  { what: 'mtu "1500"', mutate: (c) => { c.ports[0].mtu = '1500'; }, problem: /^ports\[0\]\.mtu: must be an integer .*\(got "1500"\)$/, schema: true },
  { what: 'unknown port field', mutate: (c) => { c.ports[0].colour = 'red'; }, problem: /^ports\[0\]\.colour: unknown field \(allowed: /, schema: true },
  // top level
  { what: 'missing router', mutate: (c) => { delete c.router; }, problem: /^router: missing \(required\)$/, schema: true },
  { what: 'bad router name', mutate: (c) => { c.router = 'r 1'; }, problem: /^router: "r 1" is not valid/, schema: true },
  { what: 'routes not a list', mutate: (c) => { c.routes = {}; }, problem: /^routes: must be a list \(got \{\}\)$/, schema: true },
  { what: '$schema not a string', mutate: (c) => { c.$schema = 5; }, problem: /^\$schema: must be a non-empty string \(got 5\)$/, schema: true },
  { what: 'unknown top-level field', mutate: (c) => { c.route = []; }, problem: /^route: unknown field/, schema: true },
  { what: 'unknown log level', mutate: (c) => { c.logLevel = 'loud'; }, problem: /^logLevel: must be one of fatal, error, warn, info, debug, trace, silent \(got "loud"\)$/, schema: true },
  { what: 'icmpRateLimit without burst', mutate: (c) => { c.icmpRateLimit = { rate: 5 }; }, problem: /^icmpRateLimit\.burst: missing/, schema: true },
  { what: 'workerNice -21', mutate: (c) => { c.workerNice = -21; }, problem: /^workerNice: must be an integer from -20 to 19 \(got -21\)$/, schema: true },
  { what: 'drainIdleTimeout 0', mutate: (c) => { c.drainIdleTimeout = 0; }, problem: /^drainIdleTimeout: must be an integer from 1 to 3600/, schema: true },
  // BFD
  { what: 'BFD interval 5 ms', mutate: (c) => { c.bfd = { interval: 5 }; }, problem: /^bfd\.interval: must be an integer from 10/, schema: true },
  { what: 'BFD peer = our own address', mutate: (c) => { c.bfd = { sessions: [{ port: 'wan', peer: '10.0.12.1' }] }; }, problem: /^bfd\.sessions\[0\]\.peer: BFD peer 10\.0\.12\.1 is this router's own address/, schema: false },
  { what: 'BFD peer = broadcast', mutate: (c) => { c.bfd = { sessions: [{ port: 'lan', peer: '10.0.1.255' }] }; }, problem: /^bfd\.sessions\[0\]\.peer: BFD peer 10\.0\.1\.255 is the broadcast address/, schema: false },
  { what: 'BFD session twice', mutate: (c) => { c.bfd = { sessions: [{ port: 'wan', peer: '10.0.12.2' }, { port: 'wan', peer: '10.0.12.2' }] }; }, problem: /^bfd\.sessions\[1\]: duplicate BFD session/, schema: false },
  // RIP
  { what: 'RIP timeout not after update', mutate: (c) => { c.rip = { ports: ['wan'], updateTime: 30, timeoutTime: 30 }; }, problem: /^rip\.timeoutTime: must be longer than updateTime \(30 s\)$/, schema: false },
  { what: 'RIP cost 16', mutate: (c) => { c.rip = { ports: [{ port: 'wan', cost: 16 }] }; }, problem: /^rip\.ports\[0\]\.cost: must be an integer from 1 to 15/, schema: true },
  { what: 'RIP redistributes "bgp"', mutate: (c) => { c.rip = { ports: ['wan'], redistribute: ['bgp'] }; }, problem: /^rip\.redistribute\[0\]: must be "connected" or "static"/, schema: true },
  { what: 'RIP on an unknown port', mutate: (c) => { c.rip = { ports: ['nope'] }; }, problem: /^rip\.ports\[0\]\.port: unknown port "nope"/, schema: false },
  { what: 'OSPF on an unknown port', mutate: (c) => { c.ospf = { ports: ['nope'] }; }, problem: /^ospf\.ports\[0\]\.port: unknown port "nope"/, schema: false },
  { what: 'OSPF port twice', mutate: (c) => { c.ospf = { ports: ['wan', { port: 'wan' }] }; }, problem: /^ospf\.ports\[1\]\.port: duplicate OSPF port "wan"/, schema: false },
  { what: 'OSPF cost 0', mutate: (c) => { c.ospf = { ports: [{ port: 'wan', cost: 0 }] }; }, problem: /^ospf\.ports\[0\]\.cost: must be an integer from 1 to 65535/, schema: true },
  { what: 'OSPF dead interval not after hello', mutate: (c) => { c.ospf = { ports: [{ port: 'wan', helloInterval: 5, deadInterval: 5 }] }; }, problem: /^ospf\.ports\[0\]\.deadInterval: must be longer than helloInterval \(5 s\)$/, schema: false },
  { what: 'OSPF network "nbma"', mutate: (c) => { c.ospf = { ports: [{ port: 'wan', network: 'nbma' }] }; }, problem: /^ospf\.ports\[0\]\.network: must be one of point-to-point, broadcast/, schema: true },
  { what: 'OSPF authentication "sha"', mutate: (c) => { c.ospf = { ports: [{ port: 'wan', auth: { type: 'sha', keys: [{ id: 1, secret: 'k' }] } }] }; }, problem: /^ospf\.ports\[0\]\.auth\.type: must be one of none, password, md5, hmac-sha1, hmac-sha256, hmac-sha384, hmac-sha512 \(got "sha"\)$/, schema: true },
  { what: 'OSPF password of 9 bytes', mutate: (c) => { c.ospf = { ports: [{ port: 'wan', auth: { type: 'password', keys: [{ id: 1, secret: '123456789' }] } }] }; }, problem: /^ospf\.ports\[0\]\.auth\.keys\[0\]\.secret: at most 8 bytes for password \(got 9\)$/, schema: false },
  { what: 'OSPF MD5 without keys', mutate: (c) => { c.ospf = { ports: [{ port: 'wan', auth: { type: 'md5' } }] }; }, problem: /^ospf\.ports\[0\]\.auth\.keys: at least one key is required for md5$/, schema: true },
  { what: 'OSPF HMAC-SHA-256 secret longer than the hash', mutate: (c) => { c.ospf = { ports: [{ port: 'wan', auth: { type: 'hmac-sha256', keys: [{ id: 1, secret: 'x'.repeat(33) }] } }] }; }, problem: /^ospf\.ports\[0\]\.auth\.keys\[0\]\.secret: at most 32 bytes for hmac-sha256 \(got 33\)$/, schema: false },
  { what: 'OSPF key id twice', mutate: (c) => { c.ospf = { ports: [{ port: 'wan', auth: { type: 'md5', keys: [{ id: 1, secret: 'a' }, { id: 1, secret: 'b' }] } }] }; }, problem: /^ospf\.ports\[0\]\.auth\.keys\[1\]\.id: duplicate key id "1"/, schema: false },
  { what: 'OSPF auth in the old format ("key", "keyId")', mutate: (c) => { c.ospf = { ports: [{ port: 'wan', auth: { type: 'md5', keyId: 3, key: 'secret' } }] }; }, problem: /^ospf\.ports\[0\]\.auth\.key: "key" and "keyId" are no longer read: write "keys": \[\{ "id": 3, "secret": "…" \}\] \(the key chain RIP and BFD use\)$/, schema: true },
  { what: 'OSPF auth in the old format (only "keyId")', mutate: (c) => { c.ospf = { ports: [{ port: 'wan', auth: { type: 'hmac-sha256', keyId: 7, keys: [{ id: 7, secret: 's' }] } }] }; }, problem: /^ospf\.ports\[0\]\.auth\.keyId: "key" and "keyId" are no longer read: write "keys": \[\{ "id": 7, "secret": "…" \}\]/, schema: true },
  { what: 'OSPF auth type by its old name "simple"', mutate: (c) => { c.ospf = { ports: [{ port: 'wan', auth: { type: 'simple', keys: [{ id: 1, secret: 'pw' }] } }] }; }, problem: /^ospf\.ports\[0\]\.auth\.type: "simple" is now "password" \(the type names RIP uses\)$/, schema: true },
  { what: 'OSPF auth type by its old name "hmac-sha-256"', mutate: (c) => { c.ospf = { ports: [{ port: 'wan', auth: { type: 'hmac-sha-256', keys: [{ id: 1, secret: 's' }] } }] }; }, problem: /^ospf\.ports\[0\]\.auth\.type: "hmac-sha-256" is now "hmac-sha256"/, schema: true },
  { what: 'OSPF router id 0.0.0.0', mutate: (c) => { c.ospf = { routerId: '0.0.0.0', ports: ['wan'] }; }, problem: /^ospf\.routerId: must not be 0\.0\.0\.0$/, schema: false },
  { what: 'OSPF redistributes "rip"', mutate: (c) => { c.ospf = { ports: ['wan'], redistribute: ['rip'] }; }, problem: /^ospf\.redistribute\[0\]\.source: must be one of connected, static/, schema: true },
  { what: 'OSPF LSDB limit 5', mutate: (c) => { c.ospf = { ports: ['wan'], lsdbLimit: 5 }; }, problem: /^ospf\.lsdbLimit: must be an integer from 10 to 1000000/, schema: true },
  { what: 'RIP maxRoutes 0', mutate: (c) => { c.rip = { ports: ['wan'], maxRoutes: 0 }; }, problem: /^rip\.maxRoutes: must be an integer from 1 to 1000000 \(got 0\)$/, schema: true },
  { what: 'RIP ttlSecurity "yes"', mutate: (c) => { c.rip = { ports: [{ port: 'wan', ttlSecurity: 'yes' }] }; }, problem: /^rip\.ports\[0\]\.ttlSecurity: must be true, false or "tx-only" \(got "yes"\)$/, schema: true },
  { what: 'RIP neighbour off the port', mutate: (c) => { c.rip = { ports: [{ port: 'wan', neighbours: ['10.0.1.5'] }] }; }, problem: /^rip\.ports\[0\]\.neighbours\[0\]: neighbour 10\.0\.1\.5 is not on port "wan"/, schema: false },
  { what: 'RIP neighbour = our own address', mutate: (c) => { c.rip = { ports: [{ port: 'wan', neighbours: ['10.0.12.1'] }] }; }, problem: /^rip\.ports\[0\]\.neighbours\[0\]: neighbour 10\.0\.12\.1 is this router's own address/, schema: false },
  { what: 'RIP neighbour twice', mutate: (c) => { c.rip = { ports: [{ port: 'wan', neighbours: ['10.0.12.2', '10.0.12.2'] }] }; }, problem: /^rip\.ports\[0\]\.neighbours\[1\]: duplicate neighbour/, schema: false },
  { what: 'RIP neighbour not an address', mutate: (c) => { c.rip = { ports: [{ port: 'wan', neighbours: ['10.0.12.300'] }] }; }, problem: /^rip\.ports\[0\]\.neighbours\[0\]: "10\.0\.12\.300" is not an IPv4 address/, schema: true },
  { what: 'RIP unicast without neighbours', mutate: (c) => { c.rip = { ports: [{ port: 'wan', unicast: true }] }; }, problem: /^rip\.ports\[0\]\.unicast: needs "neighbours" to send to$/, schema: true },
  { what: 'RIP auth type "sha256"', mutate: (c) => { c.rip = { ports: [{ port: 'wan', auth: { type: 'sha256', keys: [{ id: 1, secret: 's' }] } }] }; }, problem: /^rip\.ports\[0\]\.auth\.type: must be one of none, password, md5, hmac-sha1, hmac-sha256, hmac-sha384, hmac-sha512 \(got "sha256"\)$/, schema: true },
  { what: 'RIP auth without keys', mutate: (c) => { c.rip = { ports: [{ port: 'wan', auth: { type: 'md5' } }] }; }, problem: /^rip\.ports\[0\]\.auth\.keys: at least one key is required for md5$/, schema: true },
  { what: 'RIP auth "none" with keys', mutate: (c) => { c.rip = { ports: [{ port: 'wan', auth: { type: 'none', keys: [{ id: 1, secret: 's' }] } }] }; }, problem: /^rip\.ports\[0\]\.auth\.keys: no keys with type "none"$/, schema: true },
  { what: 'RIP MD5 secret of 17 bytes', mutate: (c) => { c.rip = { ports: [{ port: 'wan', auth: { type: 'md5', keys: [{ id: 1, secret: '12345678901234567' }] } }] }; }, problem: /^rip\.ports\[0\]\.auth\.keys\[0\]\.secret: at most 16 bytes for md5 \(got 17\)$/, schema: false },
  { what: 'RIP HMAC-SHA-1 secret longer than the hash', mutate: (c) => { c.rip = { ports: [{ port: 'wan', auth: { type: 'hmac-sha1', keys: [{ id: 1, secret: 'x'.repeat(21) }] } }] }; }, problem: /secret: at most 20 bytes for hmac-sha1 \(got 21\)$/, schema: false },
  { what: 'key id 256', mutate: (c) => { c.rip = { ports: [{ port: 'wan', auth: { type: 'md5', keys: [{ id: 256, secret: 's' }] } }] }; }, problem: /^rip\.ports\[0\]\.auth\.keys\[0\]\.id: must be an integer from 0 to 255 \(got 256\)$/, schema: true },
  { what: 'key id twice', mutate: (c) => { c.rip = { ports: [{ port: 'wan', auth: { type: 'md5', keys: [{ id: 1, secret: 'a' }, { id: 1, secret: 'b' }] } }] }; }, problem: /^rip\.ports\[0\]\.auth\.keys\[1\]\.id: duplicate key id "1"/, schema: false },
  { what: 'key without a secret', mutate: (c) => { c.rip = { ports: [{ port: 'wan', auth: { type: 'md5', keys: [{ id: 1 }] } }] }; }, problem: /^rip\.ports\[0\]\.auth\.keys\[0\]\.secret: missing \(required\)$/, schema: true },
  { what: 'key time without a zone', mutate: (c) => { c.rip = { ports: [{ port: 'wan', auth: { type: 'md5', keys: [{ id: 1, secret: 's', from: '2026-01-01T10:00' }] } }] }; }, problem: /^rip\.ports\[0\]\.auth\.keys\[0\]\.from: must be a time such as/, schema: true },
  { what: 'key until before from', mutate: (c) => { c.rip = { ports: [{ port: 'wan', auth: { type: 'md5', keys: [{ id: 1, secret: 's', from: '2026-02-01', until: '2026-01-01' }] } }] }; }, problem: /^rip\.ports\[0\]\.auth\.keys\[0\]\.until: must be after "from"$/, schema: false },
  { what: 'BFD auth type "md5"', mutate: (c) => { c.bfd = { auth: { type: 'md5', keys: [{ id: 1, secret: 's' }] } }; }, problem: /^bfd\.auth\.type: must be one of none, password, keyed-md5, meticulous-keyed-md5, keyed-sha1, meticulous-keyed-sha1 \(got "md5"\)$/, schema: true },
  { what: 'BFD keyed SHA1 secret of 21 bytes', mutate: (c) => { c.bfd = { sessions: [{ port: 'wan', peer: '10.0.12.2', auth: { type: 'keyed-sha1', keys: [{ id: 1, secret: 'x'.repeat(21) }] } }] }; }, problem: /^bfd\.sessions\[0\]\.auth\.keys\[0\]\.secret: at most 20 bytes for keyed-sha1 \(got 21\)$/, schema: false },
  { what: 'BFD port twice', mutate: (c) => { c.bfd = { ports: [{ port: 'wan', auth: { type: 'none' } }, { port: 'wan', auth: { type: 'none' } }] }; }, problem: /^bfd\.ports\[1\]\.port: duplicate BFD port "wan"/, schema: false },
  { what: 'BFD port without auth', mutate: (c) => { c.bfd = { ports: [{ port: 'wan' }] }; }, problem: /^bfd\.ports\[0\]\.auth: missing \(required\)$/, schema: true },
  // policy
  { what: 'policy dstPorts as a list', mutate: (c) => { c.policy = [{ name: 'p', from: '10.0.1.0/24', protocol: 'tcp', dstPorts: [80], port: 'wan' }]; }, problem: /^policy\[0\]\.dstPorts: \[80\] is not a port or range/, schema: true },
  { what: 'policy dstPorts without a protocol', mutate: (c) => { c.policy = [{ name: 'p', from: '10.0.1.0/24', dstPorts: 80, port: 'wan' }]; }, problem: /^policy\[0\]\.dstPorts: needs "protocol": "tcp" or "udp"$/, schema: true },
  { what: 'policy protocol 256', mutate: (c) => { c.policy = [{ name: 'p', from: '10.0.1.0/24', protocol: 256, port: 'wan' }]; }, problem: /^policy\[0\]\.protocol: 256 is not tcp, udp, icmp or a protocol number/, schema: true },
  { what: 'policy from as a list', mutate: (c) => { c.policy = [{ name: 'p', from: ['10.0.1.0/24'], port: 'wan' }]; }, problem: /^policy\[0\]\.from: must be a string/, schema: true },
  { what: 'policy via = our own address', mutate: (c) => { c.policy = [{ name: 'p', from: '10.0.1.0/24', port: 'wan', via: '10.0.12.1' }]; }, problem: /^policy\[0\]\.via: next hop 10\.0\.12\.1 is this router's own address/, schema: false },
  { what: 'policy names twice', mutate: (c) => { c.policy = [{ name: 'p', from: '10.0.1.0/24', port: 'wan' }, { name: 'p', from: '10.0.2.0/24', port: 'wan' }]; }, problem: /^policy\[1\]\.name: duplicate policy rule "p"/, schema: false },
  // virtual services and triggers
  { what: 'backend sources as nested lists', mutate: (c) => { c.virtualServices = [{ name: 'v', address: '1.1.1.1', backends: [{ name: 'a', address: '10.0.1.2', sources: [['10.0.2.2/32']] }, { name: 'b', address: '10.0.1.3' }] }]; }, problem: /^virtualServices\[0\]\.backends\[0\]\.sources\[0\]: must be a string/, schema: true },
  { what: 'no default backend', mutate: (c) => { c.virtualServices = [{ name: 'v', address: '1.1.1.1', backends: [{ name: 'a', address: '10.0.1.2', sources: ['10.0.2.2'] }] }]; }, problem: /^virtualServices\[0\]\.backends: one backend must have no "sources"/, schema: true },
  { what: 'trigger on an unknown port', mutate: (c) => { c.triggers = [{ name: 't', match: { client: '10.0.2.2' }, port: 'nope' }]; }, problem: /^triggers\[0\]\.port: unknown port "nope"/, schema: false },
  { what: 'trigger status "200"', mutate: (c) => { c.triggers = [{ name: 't', match: { client: '10.0.2.2', status: '200' }, port: 'wan' }]; }, problem: /^triggers\[0\]\.match\.status: must be an integer from 100 to 599 \(got "200"\)$/, schema: true },
  { what: 'trigger without match', mutate: (c) => { c.triggers = [{ name: 't', port: 'wan' }]; }, problem: /^triggers\[0\]\.match: missing \(required\)$/, schema: true },
];
