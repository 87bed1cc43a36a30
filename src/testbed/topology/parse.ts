// A containerlab topology file → the lab model. Node settings are inherited
// as containerlab inherits them (node → group → kind → defaults: the most
// specific scalar wins, lists are joined, maps merged), links come in the
// brief form (`endpoints: ["r1:eth1", "r2:eth1"]`) or the extended veth form.
// Each mistake is one TopologyError at its line.
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { checkExec, ExecProblem, splitCommand } from './exec.js';
import { CLAB_DEFAULT_MTU, type Bind, type ExecLine, type LinkEnd, type Topology, type TopologyLink, type TopologyNode } from './model.js';
import { checkBird, checkFrr, checkTunrouteCommand, LAB_DIR_VAR, NODE_DIR_VAR, roleOfImage, RoleProblem, RouterConfigProblem } from './roles.js';
import { fieldName, TopologyError, type Path, type YamlSource } from './source.js';

type Obj = Record<string, unknown>;

/** containerlab's patterns for the lab name and node names. */
const LAB_NAME = /^[a-zA-Z0-9][a-zA-Z0-9-._]*$/;
/** Node names also name namespaces and files here: no "|" (containerlab allows it). */
const NODE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9-._]{0,39}$/;
/** Linux interface names: at most 15 bytes, no "/", ":" or white space. */
const IFACE_MAX = 15;
const MAC = /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/;
/** Link forms containerlab knows besides veth, which the testbed does not build. */
const OTHER_LINK_TYPES = ['veth-stitch', 'mgmt-net', 'macvlan', 'host', 'vxlan', 'vxlan-stitch', 'dummy'];
/** Brief-form node names containerlab reads as something else than a node. */
const SPECIAL_ENDPOINTS = ['host', 'mgmt-net', 'macvlan'];
/** Node settings that would change what runs or how it is wired, which the testbed does not emulate. */
const NOT_EMULATED: Record<string, string> = {
  entrypoint: 'the testbed runs each image\'s own software (see docs/topologies.md)',
  'network-mode': 'every node gets its own namespace here',
  stages: 'stage hooks are not emulated',
  volumes: 'named volumes do not exist here (use binds)',
  'startup-config': 'kind linux has no startup config (bind config files instead)',
};

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Level {
  def: Obj;
  path: Path;
}

interface Located<T> {
  value: T;
  path: Path;
}

/** One node's settings across the levels it inherits from, most specific first. */
class NodeSettings {
  constructor(private readonly levels: Level[]) {}

  /** The first level (node, group, kind, defaults) that sets `key`. */
  scalar(key: string): Located<unknown> | undefined {
    for (const l of this.levels) {
      const v = l.def[key];
      if (v !== undefined && v !== null && v !== '') return { value: v, path: [...l.path, key] };
    }
    return undefined;
  }

  /** Items of a list from every level, defaults first, duplicates dropped (containerlab's MergeStringSlices). */
  list(key: string, src: YamlSource): Located<unknown>[] {
    const out: Located<unknown>[] = [];
    const seen = new Set<string>();
    for (const l of [...this.levels].reverse()) {
      const v = l.def[key];
      if (v === undefined || v === null) continue;
      if (!Array.isArray(v)) throw src.error([...l.path, key], 'must be a list');
      v.forEach((item, i) => {
        const k = JSON.stringify(item);
        if (seen.has(k)) return;
        seen.add(k);
        out.push({ value: item, path: [...l.path, key, i] });
      });
    }
    return out;
  }

  /** A map merged over every level, the most specific value winning. */
  map(key: string, src: YamlSource): Map<string, Located<unknown>> {
    const out = new Map<string, Located<unknown>>();
    for (const l of [...this.levels].reverse()) {
      const v = l.def[key];
      if (v === undefined || v === null) continue;
      if (!isObj(v)) throw src.error([...l.path, key], 'must be a map');
      for (const [k, x] of Object.entries(v)) out.set(k, { value: x, path: [...l.path, key, k] });
    }
    return out;
  }
}

/** Strings containerlab would change before reading: Go template actions and environment variables. */
function checkNoExpansion(src: YamlSource, v: unknown, path: Path): void {
  if (typeof v === 'string') {
    if (v.includes('{{')) throw src.error(path, 'containerlab renders "{{ … }}" as a Go template; the testbed does not: write the value out');
    if (/\$(\{|[A-Za-z_])/.test(v)) throw src.error(path, 'containerlab expands "$VAR" from its environment; the testbed does not: write the value out');
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => checkNoExpansion(src, x, [...path, i]));
  } else if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) checkNoExpansion(src, x, [...path, k]);
  }
}

function text(src: YamlSource, l: Located<unknown>): string {
  if (typeof l.value !== 'string' && typeof l.value !== 'number') throw src.error(l.path, 'must be a string');
  return String(l.value);
}

export interface Parsed {
  topology: Omit<Topology, 'migration'>;
  /** The `tunroute.migration` label's value and where it is. */
  migrationLabel: Located<string> | null;
}

export function parseTopology(src: YamlSource): Parsed {
  const file = resolve(src.file);
  const dir = dirname(file);
  const root = src.value;
  if (!isObj(root)) throw src.error([], 'a topology is a map with "name" and "topology"');
  checkNoExpansion(src, root, []);
  if (root.name === undefined) throw src.error(['name'], 'missing (required)');
  if (typeof root.name !== 'string' || !LAB_NAME.test(root.name)) throw src.error(['name'], 'must be letters, digits, "-", "_", "." (starting with a letter or digit)');
  if (!isObj(root.topology)) throw src.error(['topology'], root.topology === undefined ? 'missing (required)' : 'must be a map');
  const topo = root.topology;
  if (!isObj(topo.nodes) || Object.keys(topo.nodes).length === 0) throw src.error(['topology', 'nodes'], topo.nodes === undefined ? 'missing (required)' : 'must be a map of nodes');
  const defaults: Level = { def: isObj(topo.defaults) ? topo.defaults : {}, path: ['topology', 'defaults'] };
  const kinds = isObj(topo.kinds) ? topo.kinds : {};
  const groups = isObj(topo.groups) ? topo.groups : {};

  // Links first: they give each node its interfaces.
  const links = parseLinks(src, topo.links, topo.nodes);
  const interfacesOf = (name: string): string[] => links.flatMap((l) => [l.a, l.b]).filter((e) => e.node === name).map((e) => e.interface);

  const nodes = new Map<string, TopologyNode>();
  for (const [name, def] of Object.entries(topo.nodes)) {
    const path: Path = ['topology', 'nodes', name];
    if (!NODE_NAME.test(name)) throw src.error(path, 'a node name is letters, digits, "-", "_", "." (starting with a letter or digit), at most 40');
    if (def !== null && !isObj(def)) throw src.error(path, 'must be a map of node settings');
    const nodeDef = def ?? {};
    const group = (nodeDef.group ?? defaults.def.group) as string | undefined;
    if (group !== undefined && !isObj(groups[group])) throw src.error(nodeDef.group !== undefined ? [...path, 'group'] : ['topology', 'defaults', 'group'], `unknown group "${group}"`);
    const groupLevel: Level[] = group !== undefined ? [{ def: groups[group] as Obj, path: ['topology', 'groups', group] }] : [];
    const kindAt = nodeDef.kind !== undefined ? { value: nodeDef.kind, path: [...path, 'kind'] }
      : groupLevel[0]?.def.kind !== undefined ? { value: groupLevel[0].def.kind, path: [...groupLevel[0].path, 'kind'] }
        : defaults.def.kind !== undefined ? { value: defaults.def.kind, path: ['topology', 'defaults', 'kind'] } : undefined;
    if (!kindAt) throw src.error(path, 'no kind (set kind: linux on the node, its group or topology.defaults)');
    if (kindAt.value !== 'linux') {
      throw src.error(kindAt.path, `kind "${String(kindAt.value)}": the testbed runs only kind linux nodes (tunroute, FRR, BIRD and host images)`);
    }
    const kindLevel: Level[] = isObj(kinds.linux) ? [{ def: kinds.linux, path: ['topology', 'kinds', 'linux'] }] : [];
    const s = new NodeSettings([{ def: nodeDef, path }, ...groupLevel, ...kindLevel, defaults]);
    nodes.set(name, parseNode(src, name, path, s, interfacesOf(name), dir));
  }

  const labelAt = isObj(defaults.def.labels) ? defaults.def.labels['tunroute.migration'] : undefined;
  const migrationLabel = labelAt === undefined ? null : { value: String(labelAt), path: ['topology', 'defaults', 'labels', 'tunroute.migration'] };
  return { topology: { file, dir, name: root.name, nodes, links }, migrationLabel };
}

function parseNode(src: YamlSource, name: string, path: Path, s: NodeSettings, interfaces: string[], dir: string): TopologyNode {
  for (const [key, why] of Object.entries(NOT_EMULATED)) {
    const at = s.scalar(key);
    if (at) throw src.error(at.path, `not supported by the testbed: ${why}`);
  }
  const imageAt = s.scalar('image');
  if (!imageAt) throw src.error(path, 'no image (kind linux needs one; its name says what runs: tunroute, frr, bird, or any other for a plain host)');
  const image = text(src, imageAt);
  const role = roleOfImage(image);

  const binds: Bind[] = [];
  for (const b of s.list('binds', src)) {
    const bind = parseBind(src, b, dir);
    // A more specific level's bind to the same destination replaces the inherited one.
    const i = binds.findIndex((x) => x.container === bind.container);
    if (i >= 0) binds.splice(i, 1);
    binds.push(bind);
  }

  // Bridges an exec line makes join the node's interfaces for the lines after it.
  const known = [...interfaces];
  const exec: ExecLine[] = s.list('exec', src).map((e) => {
    const line = text(src, e);
    try {
      return { argv: checkExec(line, known), line: src.lineOf(e.path), field: fieldName(e.path) };
    } catch (err) {
      if (err instanceof ExecProblem) throw src.error(e.path, err.message);
      throw err;
    }
  });

  const sysctls: Record<string, string> = {};
  for (const [k, v] of s.map('sysctls', src)) {
    if (!k.startsWith('net.')) throw src.error(v.path, 'only net.* settings belong to a network namespace');
    sysctls[k] = text(src, v);
  }
  const labels: Record<string, string> = {};
  for (const [k, v] of s.map('labels', src)) labels[k] = text(src, v);

  const cmdAt = s.scalar('cmd');
  const node: TopologyNode = { name, line: src.lineOf(path), image, role, interfaces, binds, exec, sysctls, labels, cmdLine: cmdAt ? src.lineOf(cmdAt.path) : null, tunroute: null, frr: null, bird: null };
  const roleError = (e: unknown): never => {
    if (e instanceof RouterConfigProblem) {
      throw new TopologyError(e.file, e.line, e.field, `${e.message} (router config of node "${name}", ${src.file}:${src.lineOf(cmdAt?.path ?? path)})`);
    }
    if (e instanceof RoleProblem) {
      if (e.bind) throw new TopologyError(src.file, e.bind.line, e.bind.field, e.message);
      throw src.error(e.at === 'binds' ? (s.scalar('binds')?.path ?? [...path, 'binds']) : (cmdAt?.path ?? path), e.message);
    }
    if (e instanceof ExecProblem) throw src.error(cmdAt?.path ?? path, e.message);
    throw e;
  };
  try {
    if (role === 'tunroute') {
      node.tunroute = cmdAt ? checkTunrouteCommand(splitCommand(text(src, cmdAt)), binds, interfaces) : null;
    } else if (cmdAt) {
      throw new RoleProblem(role === 'host'
        ? `a plain host's command is not run by the testbed (only its exec lines): leave cmd out, or use image tunroute for serve, fleet or probe`
        : `the ${role === 'frr' ? 'FRR' : 'BIRD'} image starts its daemons itself: leave cmd out`);
    } else if (role === 'frr') {
      node.frr = checkFrr(binds);
    } else if (role === 'bird') {
      node.bird = checkBird(binds);
    }
  } catch (e) {
    roleError(e);
  }
  return node;
}

/** `SRC:DST[:ro|rw]` as docker reads it; SRC relative to the topology's directory, `~` the home directory. */
function parseBind(src: YamlSource, b: Located<unknown>, dir: string): Bind {
  const t = text(src, b);
  const parts = t.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) throw src.error(b.path, `"${t}" is not SOURCE:DESTINATION[:ro]`);
  const [from, to, mode] = parts as [string, string, string | undefined];
  if (!isAbsolute(to)) throw src.error(b.path, `destination "${to}" must be an absolute path in the container`);
  if (mode !== undefined && !/^(ro|rw|z|Z)(,(ro|rw|z|Z))*$/.test(mode)) throw src.error(b.path, `mode "${mode}" is not ro or rw`);
  let host: string;
  if (from.startsWith(LAB_DIR_VAR) || from.startsWith(NODE_DIR_VAR)) host = from;
  else if (from === '~' || from.startsWith('~/')) host = join(homedir(), from.slice(1));
  else host = resolve(dir, from);
  return { host, container: to, readOnly: mode?.split(',').includes('ro') ?? false, line: src.lineOf(b.path), field: fieldName(b.path) };
}

function parseLinks(src: YamlSource, v: unknown, nodes: Obj): TopologyLink[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw src.error(['topology', 'links'], 'must be a list');
  const used = new Map<string, number>();
  return v.map((l, i): TopologyLink => {
    const path: Path = ['topology', 'links', i];
    if (!isObj(l)) throw src.error(path, 'a link is a map with "endpoints"');
    const extended = l.type !== undefined;
    if (extended && l.type !== 'veth') {
      throw src.error([...path, 'type'], OTHER_LINK_TYPES.includes(String(l.type))
        ? `link type "${String(l.type)}" is not built by the testbed (only veth)` : `unknown link type "${String(l.type)}"`);
    }
    const allowed = extended ? ['type', 'endpoints', 'mtu', 'vars', 'labels'] : ['endpoints', 'mtu', 'vars', 'ipv4', 'ipv6'];
    for (const k of Object.keys(l)) {
      if (!allowed.includes(k)) throw src.error([...path, k], `unknown field in a ${extended ? 'veth' : 'brief'} link (allowed: ${allowed.join(', ')})`);
    }
    for (const k of ['ipv4', 'ipv6']) {
      if (l[k] !== undefined) throw src.error([...path, k], 'containerlab sets link addresses only on some kinds, not on kind linux: add them with "ip addr add" in the node\'s exec');
    }
    const eps = l.endpoints;
    if (!Array.isArray(eps) || eps.length !== 2) throw src.error([...path, 'endpoints'], eps === undefined ? 'missing (required)' : 'must list exactly two endpoints');
    const ends = eps.map((e, j) => parseEnd(src, e, [...path, 'endpoints', j], extended, nodes)) as [LinkEnd, LinkEnd];
    ends.forEach((e, j) => {
      const key = `${e.node}:${e.interface}`;
      const prev = used.get(key);
      if (prev !== undefined) throw src.error([...path, 'endpoints', j], `endpoint ${key} is already used by link ${prev + 1} (line ${src.lineOf(['topology', 'links', prev])})`);
      used.set(key, i);
    });
    let mtu = CLAB_DEFAULT_MTU;
    if (l.mtu !== undefined) {
      if (typeof l.mtu !== 'number' || !Number.isInteger(l.mtu) || l.mtu < 68 || l.mtu > 65535) throw src.error([...path, 'mtu'], 'must be a whole number from 68 to 65535');
      mtu = l.mtu;
    }
    return { a: ends[0], b: ends[1], mtu, line: src.lineOf(path) };
  });
}

function parseEnd(src: YamlSource, e: unknown, path: Path, extended: boolean, nodes: Obj): LinkEnd {
  let node: string;
  let iface: string;
  let mac: string | null = null;
  if (extended) {
    if (!isObj(e)) throw src.error(path, 'an endpoint is a map with node and interface');
    for (const k of Object.keys(e)) {
      if (!['node', 'interface', 'mac', 'ipv4', 'ipv6', 'vars'].includes(k)) throw src.error([...path, k], 'unknown field (allowed: node, interface, mac, ipv4, ipv6, vars)');
    }
    for (const k of ['ipv4', 'ipv6']) {
      if (e[k] !== undefined) throw src.error([...path, k], 'containerlab sets endpoint addresses only on some kinds, not on kind linux: add them with "ip addr add" in the node\'s exec');
    }
    if (typeof e.node !== 'string') throw src.error([...path, 'node'], 'missing (required)');
    if (typeof e.interface !== 'string') throw src.error([...path, 'interface'], 'missing (required)');
    node = e.node;
    iface = e.interface;
    if (e.mac !== undefined) {
      if (typeof e.mac !== 'string' || !MAC.test(e.mac)) throw src.error([...path, 'mac'], `"${String(e.mac)}" is not a MAC address (aa:bb:cc:dd:ee:ff)`);
      mac = e.mac.replace(/-/g, ':').toLowerCase();
    }
  } else {
    if (typeof e !== 'string') throw src.error(path, 'an endpoint is "node:interface"');
    const m = /^([^:]+):(.+)$/.exec(e);
    if (!m) throw src.error(path, `"${e}" is not "node:interface"`);
    node = m[1]!;
    iface = m[2]!;
    if (SPECIAL_ENDPOINTS.includes(node) && !(node in nodes)) {
      throw src.error(path, `"${node}:…" is containerlab's ${node} endpoint (an interface outside the lab's nodes), which the testbed does not build`);
    }
  }
  if (!(node in nodes)) throw src.error(extended ? [...path, 'node'] : path, `unknown node "${node}" (nodes: ${Object.keys(nodes).join(', ')})`);
  const ifPath = extended ? [...path, 'interface'] : path;
  if (Buffer.byteLength(iface) > IFACE_MAX) throw src.error(ifPath, `interface name "${iface}" is ${Buffer.byteLength(iface)} bytes; Linux allows at most ${IFACE_MAX}`);
  if (/[\s/:]/.test(iface) || iface === '.' || iface === '..') throw src.error(ifPath, `"${iface}" is not a Linux interface name (no "/", ":" or spaces)`);
  if (iface === 'lo') throw src.error(ifPath, '"lo" is the loopback interface every node has');
  if (iface === 'eth0') throw src.error(ifPath, 'eth0 is the management interface containerlab gives every kind linux node');
  return { node, interface: iface, mac };
}
