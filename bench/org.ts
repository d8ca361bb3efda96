import { SYSTEMS, type DemoOrg, type Department, type Employee, type Grant, type HrPartner } from '@ems/demo-org';

/**
 * An organisation of the demo organisation's shape, sized for a benchmark: `resigners` individual
 * contributors who each resign once, plus a CEO and one head per department (their managers).
 *
 * Each department has its own HR partner, and a department holds at most `perPartner` resigners, so
 * no partner's calendar fills up: the slot finder books the earliest free slot from the next working
 * day on, so 20 cases take 20 of the ~380 slots a partner has before a 28-day notice period ends.
 * Deterministic: the EMS child and the load generator build the same one from the same numbers.
 */
export interface BenchOrgSpec {
  resigners: number;
  perPartner?: number;
}

export interface BenchOrg {
  org: DemoOrg;
  /** The employees the benchmark submits resignations for, in order (each has a manager). */
  resigners: string[];
}

const DOMAIN = 'bench.example';
const ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Singapore', 'Europe/London', 'America/Los_Angeles'];
const CRITICAL_BY_DEPARTMENT = [['github', 'aws-prod', 'vpn'], ['salesforce', 'vpn'], ['payroll', 'vpn'], ['aws-prod', 'vpn']];

export function benchOrg(spec: BenchOrgSpec): BenchOrg {
  const perPartner = spec.perPartner ?? 20;
  const partnerCount = Math.max(3, Math.ceil(spec.resigners / perPartner));
  const hrLead = { id: 'hr-lead', name: 'Bench Lead', email: `hr.lead@${DOMAIN}`, title: 'Head of People' };
  const hrPartners: HrPartner[] = [];
  const departments: Department[] = [];
  for (let p = 0; p < partnerCount; p++) {
    const id = `hrp-${p}`;
    hrPartners.push({
      id,
      name: `Partner ${p}`,
      email: `partner.${p}@${DOMAIN}`,
      timezone: ZONES[p % ZONES.length]!,
      workingHours: { days: [1, 2, 3, 4, 5], start: '08:00', end: '18:00' },
      busy: [{ weekday: 1, start: '08:00', end: '09:00', title: 'Team meeting' }],
      leadId: hrLead.id,
    });
    departments.push({ id: `dept-${p}`, name: `Department ${p}`, hrPartnerId: id });
  }

  const person = (id: string, n: number, dept: Department, title: string, managerId: string | null): Employee => ({
    id,
    name: `Person ${id}`,
    email: `${id.toLowerCase()}@${DOMAIN}`,
    title,
    departmentId: dept.id,
    managerId,
    hrPartnerId: dept.hrPartnerId,
    timezone: ZONES[n % ZONES.length]!,
    location: 'Bench',
    // The bench measures coordination, not calendars: a resigner can meet whenever the partner can.
    workingHours: { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '23:59' },
  });
  const employees: Employee[] = [];
  const ceo = person('B-CEO', 0, departments[0]!, 'Chief Executive Officer', null);
  employees.push(ceo);
  const heads = departments.map((d, i) => person(`B-H${i}`, i, d, `Head of ${d.name}`, ceo.id));
  employees.push(...heads);
  const resigners: string[] = [];
  for (let i = 0; i < spec.resigners; i++) {
    const d = i % departments.length;
    const e = person(`B${String(i).padStart(6, '0')}`, i, departments[d]!, 'Specialist', heads[d]!.id);
    employees.push(e);
    resigners.push(e.id);
  }

  const grants: Grant[] = [];
  employees.forEach((e, i) => {
    for (const systemId of ['email', 'slack', 'wiki', 'hr-portal', ...CRITICAL_BY_DEPARTMENT[i % CRITICAL_BY_DEPARTMENT.length]!]) {
      grants.push({ id: `g-${e.id}-${systemId}`, employeeId: e.id, systemId, role: e.managerId === ceo.id || e.managerId === null ? 'admin' : 'member' });
    }
  });
  // The HR lead submits for anyone (the load generator's API token acts as them); the CEO operates EMS.
  const roleAssignments = [
    { personId: hrLead.id, role: 'hr_lead' as const },
    { personId: ceo.id, role: 'operator' as const },
  ];
  return { org: { hrLead, roleAssignments, hrPartners, departments, employees, systems: SYSTEMS, grants }, resigners };
}
