import { POLICY, describeGrant, type OperationPolicy, type PolicyTable } from './policy.ts';

/**
 * The policy table as markdown, for the README (between `<!-- policy:start -->` and `<!-- policy:end -->`;
 * `npm run docs:policy` writes it, a test keeps it current).
 */
export function policyMarkdown(table: PolicyTable = POLICY, methods: Readonly<Record<string, string>> = {}): string {
  const byService = new Map<string, Array<[string, OperationPolicy]>>();
  for (const [op, p] of Object.entries(table)) byService.set(p.service, [...(byService.get(p.service) ?? []), [op, p]]);
  const rows: string[] = ['| operation | what | who (rows they reach) | services |', '|---|---|---|---|'];
  for (const [service, ops] of byService) {
    rows.push(`| **${service}** | | | |`);
    for (const [op, p] of ops) {
      const who = p.anyAuthenticated ? 'anyone signed in' : p.roles.map(describeGrant).join(', ') || '—';
      rows.push(`| \`${op}\`${methods[op] ? ` <br>\`${methods[op]}\`` : ''} | ${p.what}${p.summary ? ` (summary leaves out ${p.summary})` : ''} | ${who} | ${p.services?.join(', ') ?? ''} |`);
    }
  }
  return rows.join('\n');
}
