// containerlab's own published JSON schema (vendored in schemas/containerlab/),
// so a topology that passes here is one containerlab accepts as far as its
// schema goes.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Path } from './source.js';

const SCHEMA_FILE = new URL('../../../../schemas/containerlab/clab.schema.json', import.meta.url);

export interface SchemaProblem {
  path: Path;
  message: string;
  /** Inside an anyOf/oneOf branch (e.g. one of the nine link forms): only one branch had to match. */
  inBranch: boolean;
}

let validate: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!validate) {
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
    // The schema is draft-07 but carries editor keywords (markdownDescription)
    // and one 2020-12 keyword (prefixItems); draft-07 ignores unknown keywords.
    const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: true });
    validate = ajv.compile(schema);
  }
  return validate;
}

/** Every place where `doc` breaks containerlab's schema (empty if none). */
export function schemaProblems(doc: unknown): SchemaProblem[] {
  const v = validator();
  if (v(doc)) return [];
  const seen = new Set<string>();
  const out: SchemaProblem[] = [];
  for (const e of v.errors ?? []) {
    const p = toProblem(e);
    const key = `${p.path.join('/')}|${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  // Deepest first: "topology.nodes.r1.kind" says more than "topology.nodes.r1".
  return out.sort((a, b) => Number(a.inBranch) - Number(b.inBranch) || b.path.length - a.path.length);
}

function toProblem(e: ErrorObject): SchemaProblem {
  const path: (string | number)[] = e.instancePath.split('/').slice(1).map((s) => {
    const k = s.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(k) ? Number(k) : k;
  });
  let message = e.message ?? 'invalid';
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    path.push(extra);
    message = 'unknown field (containerlab refuses it)';
  } else if (e.keyword === 'required') {
    path.push((e.params as { missingProperty: string }).missingProperty);
    message = 'missing (required)';
  } else if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
    message = `must be one of ${allowed.length > 8 ? `${allowed.slice(0, 8).join(', ')}, …` : allowed.join(', ')}`;
  }
  // A link may take any of nine forms: what one form says of it (say, "unknown
  // field type" from the brief form) is no verdict; the testbed's own link
  // checks say more, and run first.
  const inBranch = /\/(anyOf|oneOf)\//.test(e.schemaPath) || e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.instancePath.startsWith('/topology/links/');
  return { path, message, inBranch };
}
