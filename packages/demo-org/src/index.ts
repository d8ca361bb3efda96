/**
 * The demo organisation `npm start` seeds on first start: deterministic (same ids every time), large
 * enough to be realistic. Each service loads only the part it owns (HR: people and calendars;
 * Access: systems and grants).
 */

export interface WorkingHours {
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  days: number[];
  /** Local wall-clock times in the person's own time zone, 'HH:mm'. */
  start: string;
  end: string;
}

export interface RecurringBusy {
  weekday: number;
  start: string;
  end: string;
  title: string;
}

export interface HrPartner {
  id: string;
  name: string;
  email: string;
  timezone: string;
  workingHours: WorkingHours;
  /** Weekly meetings already in the partner's calendar. */
  busy: RecurringBusy[];
  /** The HR lead an unanswered reminder escalates to (DemoOrg.hrLead's id), or null for none. */
  leadId: string | null;
}

export interface Department {
  id: string;
  name: string;
  /** The partner who looks after the department as a whole; each person's own partner is the one of their region. */
  hrPartnerId: string;
}

export interface Employee {
  id: string;
  name: string;
  email: string;
  title: string;
  departmentId: string;
  managerId: string | null;
  /** The HR partner of the person's region: an exit interview needs hours both of them work. */
  hrPartnerId: string;
  timezone: string;
  location: string;
  /** The days and hours the person works, in their own time zone. */
  workingHours: WorkingHours;
}

export interface System {
  id: string;
  name: string;
  critical: boolean;
}

export interface Grant {
  id: string;
  employeeId: string;
  systemId: string;
  role: string;
}

export interface HrLead {
  id: string;
  name: string;
  email: string;
  title: string;
}

/** An administrative role given to a person of the directory (relationship roles follow from the org chart). */
export interface RoleAssignment {
  personId: string;
  role: 'hr_lead' | 'access_admin' | 'operator';
}

export interface DemoOrg {
  hrLead: HrLead;
  /** Who holds the administrative roles: the HR lead, IT's access administrator, the operator on call. */
  roleAssignments: RoleAssignment[];
  hrPartners: HrPartner[];
  departments: Department[];
  employees: Employee[];
  systems: System[];
  grants: Grant[];
}

const DOMAIN = 'acme.example';

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Frances', 'Dennis', 'Radia', 'Tim', 'Hedy', 'Linus', 'Anita', 'John', 'Karen', 'Leslie', 'Sophie', 'Niklaus', 'Shafi', 'Yukihiro', 'Adele', 'Bjarne', 'Ivan', 'Jean', 'Katherine', 'Larry', 'Mary', 'Guido'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson', 'Allen', 'Ritchie', 'Perlman', 'Berners-Lee', 'Lamarr', 'Torvalds', 'Borg', 'Backus', 'Spärck Jones', 'Lamport', 'Wilson', 'Wirth', 'Goldwasser', 'Matsumoto', 'Goldberg', 'Stroustrup', 'Sutherland', 'Bartik', 'Johnson', 'Page', 'Keller', 'van Rossum'];

/**
 * Offices, each with its hours (Monday to Friday, local time) and the HR partner of its region: a
 * partner's people share working hours with them (Singapore and the US coasts share none, Berlin and
 * San Francisco none either). An office's hours cover its own partner's.
 */
const LOCATIONS = [
  { location: 'Berlin', timezone: 'Europe/Berlin', hrPartnerId: 'hrp-berlin', hours: { start: '09:00', end: '17:00' } },
  { location: 'New York', timezone: 'America/New_York', hrPartnerId: 'hrp-newyork', hours: { start: '08:30', end: '17:00' } },
  { location: 'Singapore', timezone: 'Asia/Singapore', hrPartnerId: 'hrp-singapore', hours: { start: '09:00', end: '18:00' } },
  { location: 'London', timezone: 'Europe/London', hrPartnerId: 'hrp-berlin', hours: { start: '09:00', end: '17:30' } },
  { location: 'San Francisco', timezone: 'America/Los_Angeles', hrPartnerId: 'hrp-newyork', hours: { start: '08:00', end: '16:30' } },
];

export const SYSTEMS: System[] = [
  { id: 'github', name: 'GitHub (source code)', critical: true },
  { id: 'aws-prod', name: 'AWS production account', critical: true },
  { id: 'vpn', name: 'Corporate VPN', critical: true },
  { id: 'salesforce', name: 'Salesforce (customer data)', critical: true },
  { id: 'payroll', name: 'Payroll administration', critical: true },
  { id: 'email', name: 'Email and calendar', critical: false },
  { id: 'slack', name: 'Slack', critical: false },
  { id: 'jira', name: 'Jira', critical: false },
  { id: 'wiki', name: 'Company wiki', critical: false },
  { id: 'hr-portal', name: 'HR self-service portal', critical: false },
];

/** Systems each department works in, on top of everyone's email, Slack, wiki and HR portal. */
const DEPARTMENT_SYSTEMS: Record<string, string[]> = {
  eng: ['github', 'aws-prod', 'vpn', 'jira'],
  sales: ['salesforce', 'vpn'],
  fin: ['payroll', 'vpn'],
  ops: ['aws-prod', 'vpn', 'jira'],
  ppl: ['payroll', 'jira'],
};

export function demoOrg(employeeCount = 60): DemoOrg {
  const hrLead: HrLead = { id: 'hr-lead', name: 'Renata Okafor', email: `renata.okafor@${DOMAIN}`, title: 'Head of People' };
  const hrPartners: HrPartner[] = [
    {
      id: 'hrp-berlin', name: 'Helga Richter', email: `helga.richter@${DOMAIN}`, timezone: 'Europe/Berlin',
      workingHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
      busy: [1, 2, 3, 4, 5].map((d) => ({ weekday: d, start: '09:00', end: '09:30', title: 'Team stand-up' }))
        .concat([{ weekday: 3, start: '13:00', end: '17:00', title: 'Recruiting day' }]),
      leadId: hrLead.id,
    },
    {
      id: 'hrp-newyork', name: 'Marcus Bell', email: `marcus.bell@${DOMAIN}`, timezone: 'America/New_York',
      workingHours: { days: [1, 2, 3, 4, 5], start: '08:30', end: '16:30' },
      busy: [{ weekday: 1, start: '08:30', end: '10:00', title: 'Leadership sync' }, { weekday: 5, start: '12:00', end: '16:30', title: 'Benefits clinic' }],
      leadId: hrLead.id,
    },
    {
      id: 'hrp-singapore', name: 'Mei Lin Tan', email: `meilin.tan@${DOMAIN}`, timezone: 'Asia/Singapore',
      workingHours: { days: [1, 2, 3, 4, 5], start: '10:00', end: '18:00' },
      busy: [2, 4].map((d) => ({ weekday: d, start: '14:00', end: '15:30', title: 'Regional HR call' })),
      leadId: hrLead.id,
    },
  ];
  const departments: Department[] = [
    { id: 'eng', name: 'Engineering', hrPartnerId: 'hrp-berlin' },
    { id: 'sales', name: 'Sales', hrPartnerId: 'hrp-newyork' },
    { id: 'fin', name: 'Finance', hrPartnerId: 'hrp-newyork' },
    { id: 'ops', name: 'Operations', hrPartnerId: 'hrp-singapore' },
    { id: 'ppl', name: 'People', hrPartnerId: 'hrp-berlin' },
  ];
  const employees: Employee[] = [];
  const make = (n: number, departmentId: string, title: string, managerId: string | null): Employee => {
    const first = FIRST[n % FIRST.length]!;
    // The offset by n / 30 keeps every full name unique across the 60 demo employees.
    const last = LAST[(n * 7 + 3 + Math.floor(n / FIRST.length)) % LAST.length]!;
    const place = LOCATIONS[(n * 3) % LOCATIONS.length]!;
    return {
      id: `E${1000 + n}`,
      name: `${first} ${last}`,
      email: `${first}.${last}.${1000 + n}`.toLowerCase().replace(/[^a-z0-9.]/g, '') + `@${DOMAIN}`,
      title,
      departmentId,
      managerId,
      hrPartnerId: place.hrPartnerId,
      timezone: place.timezone,
      location: place.location,
      workingHours: { days: [1, 2, 3, 4, 5], ...place.hours },
    };
  };
  let n = 0;
  const ceo = make(n++, 'ops', 'Chief Executive Officer', null);
  employees.push(ceo);
  const heads = new Map<string, Employee>();
  for (const d of departments) {
    const head = make(n++, d.id, `Head of ${d.name}`, ceo.id);
    heads.set(d.id, head);
    employees.push(head);
  }
  // Team leads report to heads; individual contributors to a lead (or the head in small departments).
  const leads: Employee[] = [];
  for (const d of departments.filter((x) => x.id === 'eng' || x.id === 'sales')) {
    for (let i = 0; i < 2; i++) {
      const lead = make(n++, d.id, `${d.name} Team Lead`, heads.get(d.id)!.id);
      leads.push(lead);
      employees.push(lead);
    }
  }
  const ICS: Record<string, string> = { eng: 'Software Engineer', sales: 'Account Executive', fin: 'Financial Analyst', ops: 'Operations Specialist', ppl: 'People Operations Specialist' };
  while (employees.length < employeeCount) {
    const d = departments[n % departments.length]!;
    const deptLeads = leads.filter((l) => l.departmentId === d.id);
    const manager = deptLeads.length > 0 ? deptLeads[n % deptLeads.length]! : heads.get(d.id)!;
    employees.push(make(n++, d.id, ICS[d.id]!, manager.id));
  }
  const grants: Grant[] = [];
  for (const e of employees) {
    const systems = ['email', 'slack', 'wiki', 'hr-portal', ...(DEPARTMENT_SYSTEMS[e.departmentId] ?? [])];
    for (const systemId of systems) {
      const admin = e.managerId === ceo.id || e.managerId === null;
      grants.push({ id: `g-${e.id}-${systemId}`, employeeId: e.id, systemId, role: admin ? 'admin' : 'member' });
    }
  }
  // IT: the head of Operations administers access; the first operations specialist runs EMS (operator).
  const headOfOps = heads.get('ops')!;
  const opsSpecialist = employees.find((e) => e.departmentId === 'ops' && e.managerId === headOfOps.id) ?? headOfOps;
  const roleAssignments: RoleAssignment[] = [
    { personId: hrLead.id, role: 'hr_lead' },
    { personId: headOfOps.id, role: 'access_admin' },
    { personId: opsSpecialist.id, role: 'operator' },
  ];
  return {
    hrLead,
    roleAssignments,
    hrPartners,
    departments,
    employees,
    systems: SYSTEMS,
    grants,
  };
}
