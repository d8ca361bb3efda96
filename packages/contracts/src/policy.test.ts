import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { POLICY, ROLES, SERVICE_IDENTITIES, type OperationPolicy } from './policy.ts';
import { policyMarkdown } from './policy-table.md.ts';

describe('the policy table', () => {
  it('when the README shows it, then it is the table the code enforces (npm run docs:policy rewrites it)', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');
    const block = /<!-- policy:start -->\n([\s\S]*?)\n<!-- policy:end -->/.exec(readme)?.[1];
    expect(block, 'README.md has the policy block').toBeDefined();
    expect(block).toBe(policyMarkdown());
  });

  it('when an operation is in the table, then every grant names a known role and rows, every service is known, and someone may call it', () => {
    for (const [op, p] of Object.entries(POLICY as Record<string, OperationPolicy>)) {
      expect(SERVICE_IDENTITIES, op).toContain(p.service);
      for (const g of p.roles) {
        expect(ROLES, op).toContain(g.role);
        expect(['own', 'reports', 'assigned', 'all'], op).toContain(g.rows);
      }
      for (const s of p.services ?? []) expect(SERVICE_IDENTITIES, op).toContain(s);
      expect(p.roles.length + (p.services?.length ?? 0) + (p.anyAuthenticated ? 1 : 0), `${op} is callable by nobody`).toBeGreaterThan(0);
    }
  });

  it('when a relationship role is granted, then it reaches the rows of its relationship only — or their own (an employee never sees all cases)', () => {
    for (const [op, p] of Object.entries(POLICY)) {
      for (const g of p.roles) {
        // `own` (e.g. an HR partner's own mailbox) is narrower than any relationship.
        if (g.role === 'manager' && g.rows !== 'all' && g.rows !== 'own') expect(g.rows, op).toBe('reports');
        if (g.role === 'hr_partner' && g.rows !== 'all' && g.rows !== 'own') expect(g.rows, op).toBe('assigned');
      }
    }
    // Cases, interviews and access are private: only their own rows for an employee.
    for (const op of ['getResignation', 'listResignations', 'getInterview', 'listInterviews', 'withdrawResignation', 'submitResignation'] as const) {
      expect(POLICY[op].roles.find((g) => g.role === 'employee')?.rows, op).toBe('own');
    }
    for (const op of ['getEmployeeAccess', 'listAccessHolds', 'listAccessAudit'] as const) expect(POLICY[op].roles.map((g) => g.role), op).not.toContain('employee');
  });
});
