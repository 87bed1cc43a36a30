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
  bfd: { interval: 50, multiplier: 5, sessions: [{ port: 'lan', peer: '10.0.1.3', interval: 200, multiplier: 2 }] },
  rip: {
    ports: ['wan', { port: 'lan', cost: 2, bfd: true, passive: true }],
    redistribute: ['connected'],
    updateTime: 5,
    timeoutTime: 30,
    garbageTime: 20,
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
