// Reading a lab from a containerlab topology file (see docs/topologies.md):
// loadTopology(FILE) checks it against containerlab's schema and everything
// the testbed needs, and returns the model; each mistake is one TopologyError
// whose message is `FILE:LINE: field: problem`.
import { isAbsolute, resolve } from 'node:path';
import { parseMigrationSettings } from './migration-settings.js';
import type { Topology } from './model.js';
import { parseTopology } from './parse.js';
import { schemaProblems } from './schema.js';
import { TopologyError, YamlSource } from './source.js';

export type { Topology, TopologyNode, TopologyLink, NodeRole, Bind, ExecLine, TunrouteCommand } from './model.js';
export type { MigrationSettings } from './migration-settings.js';
export { TopologyError };
export { hostPathOf, LAB_DIR_VAR, NODE_DIR_VAR } from './roles.js';

export function loadTopology(file: string): Topology {
  const src = YamlSource.load(file);
  const problems = schemaProblems(src.value);
  // Problems outside any anyOf branch are plain (an unknown field, a wrong
  // type): report them before our own checks. Branch problems (which of the
  // nine link forms did not match) say less than our link checks do.
  const direct = problems.find((p) => !p.inBranch);
  if (direct) throw src.error(direct.path, `containerlab's schema: ${direct.message}`);
  const { topology, migrationLabel } = parseTopology(src);
  const branch = problems[0];
  if (branch) throw src.error(branch.path, `containerlab's schema: ${branch.message}`);

  let migration = null;
  if (migrationLabel) {
    const name = migrationLabel.value;
    const sidecar = isAbsolute(name) ? name : resolve(topology.dir, name);
    let settings: YamlSource;
    try {
      settings = YamlSource.load(sidecar);
    } catch (e) {
      // A file that cannot be read is the label's mistake; a syntax error is the file's own.
      if (e instanceof TopologyError && e.line === 0) throw src.error(migrationLabel.path, `migration settings: ${e.message}`);
      throw e;
    }
    migration = parseMigrationSettings(settings, topology.nodes);
  }
  return { ...topology, migration };
}
