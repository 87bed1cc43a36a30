// A lab as read from a containerlab topology file: nodes, the software each
// runs, and the veth links between them. Everything here is checked; the lab
// builder (../topology-lab.ts) only carries it out.
import type { MigrationSettings } from './migration-settings.js';
import type { CheckedRouterConfig } from './roles.js';

/**
 * What the testbed runs in a node, from its image:
 *   tunroute — image `…/tunroute[:tag]`: `cmd` is a tunroute command (run, serve, fleet, probe), or none (an idle host)
 *   frr      — image `…/frr[:tag]`: FRR with its `daemons` and `frr.conf` bound in
 *   bird     — image `…/bird[:tag]`: BIRD with its `bird.conf` bound in
 *   host     — any other image: only `exec` lines run
 */
export type NodeRole = 'tunroute' | 'frr' | 'bird' | 'host';

/** A `binds` entry: host path (absolute, resolved) → path inside the container. */
export interface Bind {
  host: string;
  container: string;
  readOnly: boolean;
  /** Where it is written (maybe inherited from a group or the defaults). */
  line: number;
  field: string;
}

/** One `exec` line, split as containerlab splits it (no shell). */
export interface ExecLine {
  argv: string[];
  /** Where it is in the topology file, for messages at run time. */
  line: number;
  field: string;
}

export type TunrouteCommand =
  | ({ kind: 'run'; args: string[] } & CheckedRouterConfig)
  | { kind: 'serve'; args: string[]; name: string; address: string; accessLog: string | null }
  | { kind: 'fleet'; args: string[] }
  | { kind: 'probe'; args: string[] };

export interface TopologyNode {
  name: string;
  /** Line of the node's key, for messages. */
  line: number;
  image: string;
  role: NodeRole;
  /** Interface names this node gets from the links, in link order. */
  interfaces: string[];
  binds: Bind[];
  exec: ExecLine[];
  sysctls: Record<string, string>;
  labels: Record<string, string>;
  /** Line of the node's `cmd`, if it has one. */
  cmdLine: number | null;
  /** tunroute nodes: the command the container runs (null = idle host). */
  tunroute: TunrouteCommand | null;
  /** frr nodes: daemons to start (zebra first) and the integrated config. */
  frr: { daemons: string[]; configFile: string } | null;
  /** bird nodes: the config file. */
  bird: { configFile: string } | null;
}

export interface LinkEnd {
  node: string;
  interface: string;
  mac: string | null;
}

export interface TopologyLink {
  a: LinkEnd;
  b: LinkEnd;
  /** containerlab's default is 9500. */
  mtu: number;
  line: number;
}

export interface Topology {
  /** The topology file (absolute) and its directory, against which relative binds resolve. */
  file: string;
  dir: string;
  name: string;
  nodes: Map<string, TopologyNode>;
  links: TopologyLink[];
  /** From the sidecar file named by the `tunroute.migration` label, if any. */
  migration: MigrationSettings | null;
}

/** containerlab's default veth MTU. */
export const CLAB_DEFAULT_MTU = 9500;
