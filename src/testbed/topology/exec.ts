// A node's `exec` lines and `cmd`. containerlab splits them into words (no
// shell) and runs them inside the container. The testbed runs them inside
// the node's network namespace — but on this machine's file system, so only
// commands that touch nothing but the namespace's network are allowed, and
// the addresses they set are checked here.
import { parse as shellParse } from 'shell-quote';
import { AddressError, parseAddress, parseInterfaceAddress, parsePrefix } from '../../net/addr.js';

export class ExecProblem extends Error {}

/** Split like containerlab (google/shlex): words and quotes; no operators, globs or variables. */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  for (const t of shellParse(text, (name) => `$${name}`)) {
    if (typeof t === 'string') {
      words.push(t);
      continue;
    }
    const shown = 'op' in t ? (t.op === 'glob' ? (t as { pattern: string }).pattern : t.op) : '#';
    throw new ExecProblem(`"${shown}" is shell syntax, but containerlab runs the command without a shell (wrap it in sh -c '…' in a container; the testbed does not run shells)`);
  }
  if (words.length === 0) throw new ExecProblem('empty command');
  return words;
}

/** Commands whose effect stays inside the node's network namespace. */
const ALLOWED = ['ip', 'tc', 'sysctl', 'ethtool'];

/**
 * Check one exec line of a node with these interfaces; returns its words.
 * `ip addr add`, `ip route add` and `ip link set` are checked field by field.
 * `ip link add NAME type bridge` makes a bridge inside the node (a switch
 * node): its name joins `interfaces` for the lines after it.
 */
export function checkExec(text: string, interfaces: string[]): string[] {
  const argv = splitCommand(text);
  const cmd = argv[0]!;
  if (!ALLOWED.includes(cmd)) {
    throw new ExecProblem(`"${cmd}": the testbed runs only ${ALLOWED.join(', ')} in exec lines (it shares this machine's file system, a container would not)`);
  }
  if (cmd === 'ip') checkIp(argv.slice(1), interfaces);
  if (cmd === 'sysctl') checkSysctl(argv.slice(1));
  return argv;
}

function checkDev(dev: string | undefined, interfaces: readonly string[]): void {
  if (dev === undefined) throw new ExecProblem('"dev" needs an interface name');
  if (dev !== 'lo' && !interfaces.includes(dev)) {
    throw new ExecProblem(`interface "${dev}" is not one of this node's (${['lo', ...interfaces].join(', ')}; links give a node its interfaces)`);
  }
}

function address(parse: (s: string) => unknown, text: string | undefined, what: string): void {
  if (text === undefined) throw new ExecProblem(`${what} is missing`);
  try {
    parse(text);
  } catch (e) {
    if (e instanceof AddressError) throw new ExecProblem(`bad ${what}: ${e.message}`);
    throw e;
  }
}

const ADDR_WORDS = ['a', 'ad', 'add', 'addr', 'addre', 'addres', 'address'];
const ROUTE_WORDS = ['r', 'ro', 'rou', 'rout', 'route'];
const LINK_WORDS = ['l', 'li', 'lin', 'link'];

function checkIp(args: string[], interfaces: string[]): void {
  // Options that would leave the namespace, or act on another one.
  let i = 0;
  while (args[i]?.startsWith('-')) {
    const opt = args[i]!;
    if (/^-(n|netns|-netns|all)/.test(opt)) throw new ExecProblem(`"ip ${opt}" acts on another namespace`);
    if (['-4', '-6', '-d', '-s', '-j', '-br', '-brief', '-details', '-stats', '-json', '-c', '-color'].includes(opt) || opt.startsWith('-c')) i++;
    else throw new ExecProblem(`"ip ${opt}": option not allowed here`);
  }
  const [object, verb, ...rest] = args.slice(i);
  if (object === 'netns') throw new ExecProblem('"ip netns" acts on other namespaces');
  if (ADDR_WORDS.includes(object ?? '') && ['add', 'replace', 'change'].includes(verb ?? '')) {
    // ip addr add A.B.C.D[/LEN] dev IF
    const a = rest[0];
    address(a?.includes('/') ? parseInterfaceAddress : parseAddress, a, 'address');
    const d = rest.indexOf('dev');
    checkDev(d >= 0 ? rest[d + 1] : undefined, interfaces);
  } else if (ROUTE_WORDS.includes(object ?? '') && ['add', 'replace', 'append', 'change'].includes(verb ?? '')) {
    // ip route add [local|unicast|blackhole…] DEST [via GW] [dev IF] [metric N]
    let j = 0;
    if (['local', 'unicast', 'blackhole', 'unreachable', 'prohibit', 'broadcast'].includes(rest[0] ?? '')) j++;
    const dest = rest[j];
    if (dest !== 'default') address(dest?.includes('/') ? parsePrefix : parseAddress, dest, 'destination');
    for (let k = j + 1; k < rest.length; k++) {
      if (rest[k] === 'via') address(parseAddress, rest[k + 1], 'gateway ("via")');
      if (rest[k] === 'dev') checkDev(rest[k + 1], interfaces);
      if (rest[k] === 'src') address(parseAddress, rest[k + 1], 'source ("src")');
    }
  } else if (LINK_WORDS.includes(object ?? '') && verb === 'set') {
    const dev = rest[0] === 'dev' ? rest[1] : rest[0];
    checkDev(dev, interfaces);
    const m = rest.indexOf('master');
    if (m >= 0) checkDev(rest[m + 1], interfaces);
  } else if (LINK_WORDS.includes(object ?? '') && verb === 'add' && rest.length === 3 && rest[1] === 'type' && rest[2] === 'bridge') {
    // A bridge of the node's own (a switch), made from nothing the links gave.
    const name = rest[0]!;
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name) || interfaces.includes(name) || name === 'lo') throw new ExecProblem(`bridge name "${name}" is taken or not an interface name`);
    interfaces.push(name);
  } else if (LINK_WORDS.includes(object ?? '') && ['add', 'del', 'delete'].includes(verb ?? '')) {
    throw new ExecProblem('"ip link add/del": interfaces come from the links (containerlab wires them)');
  }
}

function checkSysctl(args: string[]): void {
  for (const a of args) {
    if (a.startsWith('-')) continue;
    const key = a.split('=')[0]!;
    if (!/^net\./.test(key)) throw new ExecProblem(`sysctl "${key}": only net.* settings belong to a network namespace`);
  }
}

/** The addresses an exec line assigns (`ip addr add A/L dev IF`), for cross-checks. */
export function assignedAddress(argv: readonly string[]): string | undefined {
  if (argv[0] !== 'ip') return undefined;
  const args = argv.slice(1).filter((a) => !a.startsWith('-'));
  if (!ADDR_WORDS.includes(args[0] ?? '') || !['add', 'replace'].includes(args[1] ?? '')) return undefined;
  return args[2]?.split('/')[0];
}
