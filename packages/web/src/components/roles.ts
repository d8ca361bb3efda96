/** A role as people read it ("HR lead"); an unknown one as it is. */
const ROLE_WORDS: Record<string, string> = {
  employee: 'employee',
  manager: 'manager',
  hr_partner: 'HR partner',
  hr_lead: 'HR lead',
  access_admin: 'access administrator',
  operator: 'operator',
};

export function roleWords(role: string): string {
  return ROLE_WORDS[role] ?? role;
}
