// `tunroute policy …`: source-based forwarding rules, checked before the routes.
import type { Command } from 'commander';
import type { PolicyRuleJson } from '../../api/types.js';
import { ctx } from '../context.js';
import { table } from '../table.js';

export function policyTable(rules: PolicyRuleJson[]): string {
  return table(['#', 'NAME', 'FROM', 'TO', 'PROTO', 'DPORT', 'PORT', 'VIA', 'HITS', 'STATE'],
    rules.map((r, i) => [i, r.name, r.from, r.to ?? 'any', r.protocol ?? 'any', r.dstPorts ?? 'any', r.port, r.via, r.hits, r.active ? 'active' : 'inactive (port not up)']));
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('source-based forwarding rules (checked in order before the route table)');
  policy.command('list').description('rules in order, with hit counters').action(async (_o, cmd: Command) => {
    const c = ctx(cmd);
    const rules = await c.call<PolicyRuleJson[]>('GET', '/v1/policy');
    c.print(policyTable(rules), rules);
  });
  policy.command('add <name>')
    .description('add a rule: packets from --from (and --to, --proto, --dport) leave by --port')
    .requiredOption('--from <prefix>', 'source prefix or address')
    .option('--to <prefix>', 'destination prefix or address')
    .option('--proto <proto>', 'tcp, udp, icmp or a number')
    .option('--dport <ports>', 'destination port or range (with --proto tcp|udp)')
    .requiredOption('-p, --port <port>', 'egress port')
    .option('--via <addr>', 'next-hop address (for display)')
    .option('--before <rule>', 'insert before this rule (default: at the end)')
    .action(async (name: string, o: { from: string; to?: string; proto?: string; dport?: string; port: string; via?: string; before?: string }, cmd: Command) => {
      const c = ctx(cmd);
      const rules = await c.call<PolicyRuleJson[]>('POST', '/v1/policy', { name, from: o.from, to: o.to, protocol: o.proto, dstPorts: o.dport, port: o.port, via: o.via, before: o.before });
      c.print(policyTable(rules), rules);
    });
  policy.command('del <name>').description('remove a rule').action(async (name: string, _o, cmd: Command) => {
    const c = ctx(cmd);
    const rules = await c.call<PolicyRuleJson[]>('DELETE', `/v1/policy/${encodeURIComponent(name)}`);
    c.print(policyTable(rules), rules);
  });
}
