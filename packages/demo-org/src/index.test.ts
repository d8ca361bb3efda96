import { describe, expect, it } from 'vitest';
import { demoOrg } from './index.ts';

describe('demo organisation', () => {
  const org = demoOrg();
  it('has at least 50 employees in several departments, each (but the CEO) with a manager who exists', () => {
    expect(org.employees.length).toBeGreaterThanOrEqual(50);
    expect(new Set(org.employees.map((e) => e.departmentId)).size).toBeGreaterThanOrEqual(4);
    const ids = new Set(org.employees.map((e) => e.id));
    expect(ids.size).toBe(org.employees.length);
    const withoutManager = org.employees.filter((e) => e.managerId === null);
    expect(withoutManager).toHaveLength(1);
    for (const e of org.employees) if (e.managerId) expect(ids.has(e.managerId)).toBe(true);
    expect(new Set(org.employees.map((e) => e.email)).size).toBe(org.employees.length);
  });
  it('has 3 HR partners in different time zones, at least 8 systems with some critical, and grants on both kinds', () => {
    expect(new Set(org.hrPartners.map((p) => p.timezone)).size).toBe(3);
    expect(org.systems.length).toBeGreaterThanOrEqual(8);
    const critical = new Set(org.systems.filter((s) => s.critical).map((s) => s.id));
    expect(critical.size).toBeGreaterThan(0);
    expect(org.grants.some((g) => critical.has(g.systemId))).toBe(true);
    expect(org.grants.some((g) => !critical.has(g.systemId))).toBe(true);
  });
  it('is deterministic', () => {
    expect(demoOrg()).toEqual(org);
  });
});

describe('demo organisation names', () => {
  it('gives every employee a distinct full name, so an email subject identifies its employee', () => {
    const org = demoOrg();
    expect(new Set(org.employees.map((e) => e.name)).size).toBe(org.employees.length);
  });
});

describe('demo organisation HR lead', () => {
  it('gives every HR partner the HR lead to escalate to, a person distinct from the partners', () => {
    const org = demoOrg();
    expect(org.hrLead).toMatchObject({ id: 'hr-lead', title: 'Head of People' });
    for (const p of org.hrPartners) expect(p.leadId).toBe(org.hrLead.id);
    expect(org.hrPartners.map((p) => p.email)).not.toContain(org.hrLead.email);
  });
});
