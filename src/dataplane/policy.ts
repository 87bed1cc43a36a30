// Source-based forwarding (the method's "transfer unit"): ordered rules,
// checked before the route table, that send matching packets out of a given
// port. A rule whose port is not up is skipped (the packet falls through to
// later rules and the FIB). Rules live in typed arrays so the per-packet
// check is a few integer compares per rule and allocates nothing.
import type { PolicyRuleConfig } from '../config/policy-config.js';
import { maskOf } from '../net/addr.js';
import type { Port } from '../ports/port.js';
import type { Ipv4View } from '../wire/ipv4.js';
import type { EgressSelector } from './forwarder.js';

export interface PolicyRule extends PolicyRuleConfig {
  /** Egress port index. */
  egress: number;
}

export class PolicyTable implements EgressSelector {
  private rules: PolicyRule[] = [];
  private srcNet = new Uint32Array(0);
  private srcMask = new Uint32Array(0);
  private dstNet = new Uint32Array(0);
  private dstMask = new Uint32Array(0);
  private proto = new Uint8Array(0);
  private portLo = new Int32Array(0);
  private portHi = new Int32Array(0);
  private egress = new Int32Array(0);
  /** The next hop of each rule (0: on-link, the packet's own destination). */
  private via = new Uint32Array(0);
  /** Packets matched per rule, in rule order. */
  private hits = new Float64Array(0);

  constructor(private readonly ports: readonly Port[]) {}

  list(): { rule: PolicyRule; hits: number; active: boolean }[] {
    return this.rules.map((rule, i) => ({ rule, hits: this.hits[i]!, active: this.ports[rule.egress]!.state === 'up' }));
  }

  /** Insert at `index` (default: the end). */
  add(rule: PolicyRule, index = this.rules.length): void {
    const hits = this.list().map((r) => r.hits);
    this.rules.splice(index, 0, rule);
    hits.splice(index, 0, 0);
    this.compile(hits);
  }

  remove(name: string): PolicyRule | undefined {
    const i = this.rules.findIndex((r) => r.name === name);
    if (i < 0) return undefined;
    const hits = this.list().map((r) => r.hits);
    const [gone] = this.rules.splice(i, 1);
    hits.splice(i, 1);
    this.compile(hits);
    return gone;
  }

  /** Put `rules` in place of the current ones; a rule that kept its name and content keeps its hit count. */
  replace(rules: PolicyRule[]): void {
    const old = new Map(this.list().map((r) => [JSON.stringify(r.rule), r.hits]));
    this.rules = [...rules];
    this.compile(rules.map((r) => old.get(JSON.stringify(r)) ?? 0));
  }

  has(name: string): boolean {
    return this.rules.some((r) => r.name === name);
  }

  nextHop = 0;

  select(_ingress: Port, ip: Ipv4View): number {
    const n = this.egress.length;
    if (n === 0) return -1;
    const src = ip.src;
    const dst = ip.dst;
    const proto = ip.protocol;
    const dport = ip.hasPorts ? ip.dstPort : -1;
    for (let i = 0; i < n; i++) {
      if (((src & this.srcMask[i]!) >>> 0) !== this.srcNet[i]) continue;
      if (((dst & this.dstMask[i]!) >>> 0) !== this.dstNet[i]) continue;
      const p = this.proto[i]!;
      if (p !== 0 && p !== proto) continue;
      if (this.portLo[i]! >= 0 && (dport < this.portLo[i]! || dport > this.portHi[i]!)) continue;
      const out = this.egress[i]!;
      this.nextHop = this.via[i]!;
      if (this.ports[out]!.state !== 'up') continue;
      this.hits[i]! += 1;
      return out;
    }
    return -1;
  }

  explain(src: number, dst: number): { port: number; by: string } | null {
    for (let i = 0; i < this.rules.length; i++) {
      const r = this.rules[i]!;
      // Without protocol and port, only rules that do not ask for them can be said to match.
      if (r.protocol !== 0 || r.dstPorts) continue;
      if (((src & this.srcMask[i]!) >>> 0) !== this.srcNet[i] || ((dst & this.dstMask[i]!) >>> 0) !== this.dstNet[i]) continue;
      if (this.ports[r.egress]!.state !== 'up') continue;
      return { port: r.egress, by: `policy:${r.name}` };
    }
    return null;
  }

  private compile(hits: number[]): void {
    const n = this.rules.length;
    this.srcNet = new Uint32Array(n);
    this.srcMask = new Uint32Array(n);
    this.dstNet = new Uint32Array(n);
    this.dstMask = new Uint32Array(n);
    this.proto = new Uint8Array(n);
    this.portLo = new Int32Array(n);
    this.portHi = new Int32Array(n);
    this.egress = new Int32Array(n);
    this.via = new Uint32Array(n);
    this.hits = Float64Array.from(hits);
    this.rules.forEach((r, i) => {
      this.srcMask[i] = maskOf(r.from.len);
      this.srcNet[i] = (r.from.addr & this.srcMask[i]!) >>> 0;
      this.dstMask[i] = r.to ? maskOf(r.to.len) : 0;
      this.dstNet[i] = r.to ? (r.to.addr & this.dstMask[i]!) >>> 0 : 0;
      this.proto[i] = r.protocol;
      this.portLo[i] = r.dstPorts ? r.dstPorts[0] : -1;
      this.portHi[i] = r.dstPorts ? r.dstPorts[1] : -1;
      this.egress[i] = r.egress;
      this.via[i] = r.via;
    });
  }
}
