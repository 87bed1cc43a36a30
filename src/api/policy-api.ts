// API endpoints of the source-based forwarding rules.
import { ConfigError } from '../config/problems.js';
import { parsePolicyRule } from '../config/policy-config.js';
import type { Router } from '../router/router.js';
import { formatAddress, formatPrefix } from '../net/addr.js';
import type { PolicyRule } from '../dataplane/policy.js';
import { integerField, stringField } from './params.js';
import { ApiError, type ApiServer } from './server.js';
import type { PolicyRuleJson } from './types.js';

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' };

export function ruleJson(rule: PolicyRule, hits: number, active: boolean): PolicyRuleJson {
  return {
    name: rule.name,
    from: formatPrefix(rule.from.addr, rule.from.len),
    to: rule.to ? formatPrefix(rule.to.addr, rule.to.len) : null,
    protocol: rule.protocol === 0 ? null : PROTO_NAMES[rule.protocol] ?? String(rule.protocol),
    dstPorts: rule.dstPorts ? (rule.dstPorts[0] === rule.dstPorts[1] ? String(rule.dstPorts[0]) : rule.dstPorts.join('-')) : null,
    port: rule.port,
    via: rule.via ? formatAddress(rule.via) : null,
    hits,
    active,
  };
}

export function registerPolicyApi(api: ApiServer, router: Router): void {
  const list = () => router.policyRules().map((r) => ruleJson(r.rule, r.hits, r.active));
  api.on('GET', '/v1/policy', list);

  api.on('POST', '/v1/policy', ({ body }) => {
    const { index, before, ...ruleBody } = body;
    let rule;
    try {
      rule = parsePolicyRule(ruleBody, 'rule', router.livePorts().map((p) => p.name));
    } catch (e) {
      if (e instanceof ConfigError) throw new ApiError(400, e.message.replace(/^rule\./, ''));
      throw e;
    }
    if (router.path.policy.has(rule.name)) throw new ApiError(409, `a policy rule named "${rule.name}" exists`);
    const names = router.path.policy.list().map((r) => r.rule.name);
    const beforeName = stringField({ before }, 'before');
    const at = beforeName !== undefined ? names.indexOf(beforeName) : integerField({ index }, 'index', 0, names.length, names.length)!;
    if (at < 0) throw new ApiError(404, `no policy rule named "${beforeName}"`);
    router.path.addPolicyRule(rule, at);
    router.log.info({ event: 'policy.added', rule: rule.name, index: at }, `policy rule ${rule.name} added`);
    return list();
  });

  api.on('DELETE', '/v1/policy/:name', ({ params }) => {
    const gone = router.path.removePolicyRule(params.name!);
    if (!gone) throw new ApiError(404, `no policy rule named "${params.name}"`);
    router.log.info({ event: 'policy.removed', rule: gone.name }, `policy rule ${gone.name} removed`);
    return list();
  });
}
