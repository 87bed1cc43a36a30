// A real FRR's own account of a fall-back, from its debug log (`log stdout
// debugging`, `debug rip events|packet|zebra`, `debug zebra kernel`): the
// lines of ripd's and zebra's logs, the service's entries in the Responses
// ripd received, and one block of R2's port (or one unblock) laid out from
// them, beside the kernel's route change (kernel-routes.ts).
// scripts/frr-timeline.ts runs it.
import type { KernelRouteChange } from './kernel-routes.js';

/** One block, in ms after R2's port.blocked (null: not seen). */
export interface FrrBlockTimeline {
  poison: number | null;
  removed: number | null;
  refresh: number | null;
  installed: number | null;
  zebraNew: number | null;
  /** zebra wrote RTM_DELROUTE before its RTM_NEWROUTE (false: replaced in one step). */
  zebraDeletedFirst: boolean;
  kernel: number | null;
}

/** A line of an FRR daemon's log: its time (epoch ms, from FRR's local time) and text. */
export interface FrrLine {
  time: number;
  text: string;
}

/** FRR's log lines ("2026/12/02 21:18:27.757966 RIP: [ID] text"), local time with microseconds. */
export function parseFrrLog(text: string): FrrLine[] {
  const out: FrrLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d(?:\.\d+)?) (.*)$/.exec(line);
    if (!m) continue;
    const time = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5])).getTime() + Number(m[6]) * 1000;
    out.push({ time, text: m[7]! });
  }
  return out;
}

/** An entry for the service in a Response ripd received: when, from whom, on which interface, at what metric. */
export interface ServiceEntry {
  time: number;
  sender: string;
  dev: string;
  metric: number;
}

/** ripd's received entries for `prefix` ("1.1.1.1/32"): each follows its packet's "RECV packet from" line. */
export function serviceEntries(ripd: FrrLine[], prefix: string): ServiceEntry[] {
  const entry = new RegExp(`^RIP: \\[[^\\]]+\\]\\s+${prefix.replace(/\./g, '\\.')} -> \\S+ .* metric (\\d+)`);
  const out: ServiceEntry[] = [];
  let sender = '';
  let dev = '';
  for (const l of ripd) {
    const recv = /RECV packet from (\S+) port \d+ on (\S+)/.exec(l.text);
    if (recv) {
      sender = recv[1]!;
      dev = recv[2]!;
      continue;
    }
    const m = entry.exec(l.text);
    if (m) out.push({ time: l.time, sender, dev, metric: Number(m[1]) });
  }
  return out;
}

/** `t` in ms after `t0`, to 0.1 ms (null: not seen). */
function since(t0: number, t: number | undefined): number | null {
  return t === undefined ? null : Math.round((t - t0) * 10) / 10;
}

/**
 * The block at `t0` (epoch ms) laid out from ripd's and zebra's lines and
 * the kernel's route changes: `from` is R2's address (the poison's
 * sender), `to` R3's (the refresh's sender), `prefix` the service's
 * ("1.1.1.1/32" as ripd prints it).
 */
export function blockTimeline(ripd: FrrLine[], zebra: FrrLine[], kernel: KernelRouteChange[], t0: number, from: string, to: string, prefix: string): FrrBlockTimeline {
  const after = (lines: FrrLine[]) => lines.filter((l) => l.time >= t0);
  let poison: number | undefined, refresh: number | undefined, removed: number | undefined, installed: number | undefined;
  for (const e of serviceEntries(after(ripd), prefix)) {
    if (e.sender === from && e.metric >= 16) poison ??= e.time;
    if (e.sender === to && e.metric < 16 && poison !== undefined) refresh ??= e.time;
  }
  for (const l of after(ripd)) {
    if (l.text.includes(`Delete from zebra: ${prefix}`)) removed ??= l.time;
    if (l.text.includes(`Install into zebra: ${prefix}`) && removed !== undefined) installed ??= l.time;
  }
  let zebraNew: number | undefined;
  let zebraDeletedFirst = false;
  for (const l of after(zebra)) {
    if (!l.text.includes(prefix)) continue;
    if (/RTM_DELROUTE/.test(l.text) && zebraNew === undefined) zebraDeletedFirst = true;
    if (/RTM_NEWROUTE/.test(l.text)) {
      zebraNew = l.time;
      break;
    }
  }
  const moved = kernel.find((c) => c.time >= t0 && !c.deleted && c.via === to);
  return {
    poison: since(t0, poison), removed: since(t0, removed), refresh: since(t0, refresh), installed: since(t0, installed),
    zebraNew: since(t0, zebraNew), zebraDeletedFirst, kernel: since(t0, moved?.time),
  };
}

/** RIPv2's multicast group (RFC 2453 §4.5). */
const RIP_GROUP = '224.0.0.9';

/** One unblock of R2's port, in ms after it (null: not seen). */
export interface FrrUnblockTimeline {
  /** ripd saw R1's interface toward R2 come up. */
  linkUp: number | null;
  /** Packets ripd dropped there before it enabled RIP on the interface ("RIP is not enabled on interface"). */
  dropped: number;
  /** ripd's own first Request on the interface (multicast). */
  request: number | null;
  /** ripd's first multicast Response on the interface (unsolicited: a periodic or triggered update). */
  response: number | null;
  /** ripd installed the service's route again. */
  installed: number | null;
  /** The kernel's route to the service back on the interface. */
  kernel: number | null;
}

/**
 * The unblock at `t0` (epoch ms) laid out from ripd's lines and the
 * kernel's route changes: `dev` is R1's interface toward R2 ("eth3").
 */
export function unblockTimeline(ripd: FrrLine[], kernel: KernelRouteChange[], t0: number, dev: string, prefix: string): FrrUnblockTimeline {
  let linkUp: number | undefined, request: number | undefined, response: number | undefined, installed: number | undefined;
  let dropped = 0;
  // What ripd sends is told in two lines: where ("rip_send_packet SRC > DST (IFACE)"), then what ("SEND RESPONSE …").
  let multicastOnDev = false;
  for (const l of ripd) {
    if (l.time < t0) continue;
    const send = /rip_send_packet \S+ > (\S+) \((\S+)\)/.exec(l.text);
    if (send) multicastOnDev = send[1] === RIP_GROUP && send[2] === dev;
    else if (multicastOnDev && /SEND RESPONSE version/.test(l.text)) response ??= l.time;
    if (linkUp === undefined && l.text.includes(`interface ${dev} `) && l.text.endsWith(' is up')) linkUp = l.time;
    if (request === undefined && l.text.includes(`RIP is not enabled on interface ${dev}.`)) dropped++;
    if (l.text.includes(`multicast request on ${dev}`)) request ??= l.time;
    if (l.text.includes(`Install into zebra: ${prefix}`)) installed ??= l.time;
  }
  const back = kernel.find((c) => c.time >= t0 && !c.deleted && c.dev === dev);
  return { linkUp: since(t0, linkUp), dropped, request: since(t0, request), response: since(t0, response), installed: since(t0, installed), kernel: since(t0, back?.time) };
}
