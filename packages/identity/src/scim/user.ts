import { createHash } from 'node:crypto';
import { DirectoryPerson as DirectoryPersonSchema } from '@ems/contracts/events';
import { isIanaZone } from '../import-people/people-csv.ts';
import type { DirectoryEntry, DirectoryPerson } from '../directory/apply-people.ts';
import { SCIM } from './schemas.ts';
import { ScimError } from './scim-error.ts';

/**
 * A directory person as a SCIM User, and back.
 *
 *   directory (DirectoryEntry)                 SCIM User
 *   id                                         id, enterprise:employeeNumber
 *   userName / externalId                      userName / externalId
 *   name                                       name.formatted, displayName
 *   email                                      emails[type work, primary]
 *   title, timezone, active                    title, timezone, active
 *   location                                   addresses[type work].locality
 *   roles (hr_lead, access_admin, operator)    groups (read-only; written through the Groups)
 *   department, managerId                      enterprise: department, manager {value, $ref, displayName}
 *   hrPartnerId, workingHours                  ems: hrPartner {value, $ref, displayName}, workingDays, workStart, workEnd
 *   version, createdAt, updatedAt              meta.version (W/"n"), meta.created, meta.lastModified
 */

export interface ScimBase {
  /** https://ems.example.com/scim/v2 */
  base: string;
}

export type ScimJson = Record<string, unknown>;

/** What a directory id looks like (contracts' EmployeeId); anything else names no User. */
export const isDirectoryId = (id: string): boolean => /^[A-Za-z0-9._-]{1,64}$/.test(id);

export const etagOf = (version: number | string) => `W/"${version}"`;

/** The names of the people a User refers to (manager, HR partner), for their displayName. */
export type NameOf = (id: string) => string | undefined;

/**
 * A User's ETag: its version, and — when it refers to a manager or HR partner — a digest of the names it shows
 * for them, so a renamed manager changes the representation's ETag too (a client caching by If-None-Match would
 * otherwise be answered 304 with the old name). If-Match is checked against the same tag.
 */
export function userEtag(e: DirectoryEntry, nameOf: NameOf): string {
  const shown = [e.person.managerId, e.person.hrPartnerId].filter((id): id is string => id !== null).map((id) => `${id}\u0000${nameOf(id) ?? ''}`);
  if (!shown.length) return etagOf(e.version);
  return etagOf(`${e.version}-${createHash('sha256').update(shown.join('\u0001')).digest('hex').slice(0, 8)}`);
}

const ref = (b: ScimBase, id: string, nameOf: NameOf) => {
  const displayName = nameOf(id);
  return { value: id, $ref: `${b.base}/Users/${encodeURIComponent(id)}`, ...(displayName !== undefined ? { displayName } : {}) };
};

export function toScimUser(e: DirectoryEntry, b: ScimBase, nameOf: NameOf): ScimJson {
  const p = e.person;
  const enterprise: ScimJson = { employeeNumber: p.id };
  if (p.department !== null) enterprise.department = p.department;
  if (p.managerId !== null) enterprise.manager = ref(b, p.managerId, nameOf);
  const ems: ScimJson = { workingDays: p.workingHours.days, workStart: p.workingHours.start, workEnd: p.workingHours.end };
  if (p.hrPartnerId !== null) ems.hrPartner = ref(b, p.hrPartnerId, nameOf);
  const location = `${b.base}/Users/${encodeURIComponent(p.id)}`;
  return {
    schemas: [SCIM.user, SCIM.enterprise, SCIM.ems],
    id: p.id,
    ...(e.externalId !== null ? { externalId: e.externalId } : {}),
    userName: e.userName,
    name: { formatted: p.name },
    displayName: p.name,
    ...(p.title !== null ? { title: p.title } : {}),
    timezone: p.timezone,
    active: p.active,
    emails: [{ value: p.email, type: 'work', primary: true }],
    ...(p.location !== null ? { addresses: [{ type: 'work', locality: p.location, formatted: p.location, primary: true }] } : {}),
    ...(p.roles.length ? { groups: p.roles.map((r) => ({ value: r, display: r, $ref: `${b.base}/Groups/${r}` })) } : {}),
    [SCIM.enterprise]: enterprise,
    [SCIM.ems]: ems,
    meta: { resourceType: 'User', created: e.createdAt.toISOString(), lastModified: e.updatedAt.toISOString(), location, version: userEtag(e, nameOf) },
  };
}

// ── In ───────────────────────────────────────────────────────────────────────────────────────────────

/** A member of an object by name, case-insensitively (RFC 7643 §2.1: attribute names are case-insensitive). */
export function member(obj: unknown, name: string): unknown {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

const invalid = (detail: string) => new ScimError(400, detail, 'invalidValue');

function optionalString(v: unknown, what: string, max = 200): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw invalid(`${what} must be a string`);
  if (v.includes('\u0000') || !v.isWellFormed()) throw invalid(`${what} contains a NUL or malformed Unicode`);
  const t = v.trim();
  if (t.length > max) throw invalid(`${what} is longer than ${max} characters`);
  return t === '' ? null : t;
}

/** Some clients (Microsoft Entra ID among them) send booleans as "True"/"False". */
export function booleanOf(v: unknown, what: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw invalid(`${what} must be true or false`);
}

/** `manager: {value: "E1"}`, or the bare id some clients send. */
function referenceId(v: unknown, what: string): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'string') return v;
  const value = member(v, 'value');
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw invalid(`${what}.value must be a string`);
  return value;
}

/** The element a single-valued EMS field takes from a multi-valued attribute: the primary one, else the first. */
function chosen(v: unknown, what: string): unknown {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalid(`${what} must be an array`);
  if (v.length > 20) throw invalid(`${what} has more than 20 values`);
  const primary = v.filter((e) => member(e, 'primary') === true || member(e, 'primary') === 'True' || member(e, 'primary') === 'true');
  if (primary.length > 1) throw invalid(`${what} has more than one primary value`);
  return primary[0] ?? v[0];
}

export interface UserWrite {
  person: DirectoryPerson;
  userName: string;
  externalId: string | null;
}

/**
 * A SCIM User (a POST or PUT body, or a resource after PATCH operations) as the directory's record. Read-only
 * attributes (id, meta, groups) are ignored, as RFC 7644 §3.5.1 says; attributes EMS does not hold are
 * ignored too. `current` is the person it replaces (their id and administrative roles stay theirs).
 */
export function fromScimUser(body: unknown, current: { id: string; roles: DirectoryPerson['roles'] } | { newId: () => string }): UserWrite {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ScimError(400, 'the body must be a JSON object (a User)', 'invalidSyntax');
  const schemas = member(body, 'schemas');
  if (schemas !== undefined && (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === SCIM.user.toLowerCase()))) {
    throw new ScimError(400, `schemas must include ${SCIM.user}`, 'invalidValue');
  }
  const enterprise = member(body, SCIM.enterprise) ?? {};
  const ems = member(body, SCIM.ems) ?? {};

  const userName = optionalString(member(body, 'userName'), 'userName', 320);
  if (!userName) throw invalid('userName is required');
  const externalId = optionalString(member(body, 'externalId'), 'externalId', 320);

  const nameObj = member(body, 'name');
  const formatted = optionalString(member(nameObj, 'formatted'), 'name.formatted');
  const displayName = optionalString(member(body, 'displayName'), 'displayName');
  const given = optionalString(member(nameObj, 'givenName'), 'name.givenName');
  const family = optionalString(member(nameObj, 'familyName'), 'name.familyName');
  const name = formatted ?? displayName ?? ([given, family].filter(Boolean).join(' ') || null);
  if (!name) throw invalid('a name is required: name.formatted, displayName, or name.givenName and name.familyName');

  const email = optionalString(member(chosen(member(body, 'emails'), 'emails'), 'value'), 'emails.value', 320) ?? (userName.includes('@') ? userName : null);
  if (!email) throw invalid('an email is required: emails[primary].value (or a userName that is an email address)');

  const address = chosen(member(body, 'addresses'), 'addresses');
  const location = optionalString(member(address, 'locality'), 'addresses.locality') ?? optionalString(member(address, 'formatted'), 'addresses.formatted');

  let id: string;
  let roles: DirectoryPerson['roles'];
  const employeeNumber = optionalString(member(enterprise, 'employeeNumber'), 'employeeNumber', 64);
  if ('id' in current) {
    id = current.id;
    roles = current.roles;
    if (employeeNumber !== null && employeeNumber !== id) throw new ScimError(400, `employeeNumber is the directory id (${id}) and cannot change`, 'mutability');
  } else {
    id = employeeNumber ?? current.newId();
    roles = [];
  }

  const days = member(ems, 'workingDays');
  const activeRaw = member(body, 'active');
  const candidate = {
    id,
    name,
    email,
    title: optionalString(member(body, 'title'), 'title'),
    department: optionalString(member(enterprise, 'department'), 'department'),
    location,
    timezone: optionalString(member(body, 'timezone'), 'timezone', 64) ?? 'UTC',
    workingHours: {
      days: days === undefined || days === null ? [1, 2, 3, 4, 5] : days,
      start: optionalString(member(ems, 'workStart'), 'workStart', 5) ?? '09:00',
      end: optionalString(member(ems, 'workEnd'), 'workEnd', 5) ?? '17:00',
    },
    managerId: referenceId(member(enterprise, 'manager'), 'manager'),
    hrPartnerId: referenceId(member(ems, 'hrPartner'), 'hrPartner'),
    roles,
    active: activeRaw === undefined || activeRaw === null ? true : booleanOf(activeRaw, 'active'),
  };
  const parsed = DirectoryPersonSchema.safeParse(candidate);
  if (!parsed.success) {
    const names: Record<string, string> = { id: 'employeeNumber', managerId: 'manager.value', hrPartnerId: 'hrPartner.value', email: 'emails.value', 'workingHours.days': 'workingDays', 'workingHours.start': 'workStart', 'workingHours.end': 'workEnd' };
    const detail = parsed.error.issues.map((i) => {
      const path = i.path.join('.');
      const field = names[path] ?? names[String(i.path[0])] ?? path;
      return `${field}: ${i.message}`;
    });
    throw invalid(detail.join('; '));
  }
  // The CSV import's check: Intl alone also takes a UTC offset (+05:00), which is no IANA zone.
  if (!isIanaZone(parsed.data.timezone)) throw invalid(`timezone: ${parsed.data.timezone} is not an IANA time zone (e.g. Europe/Berlin)`);
  return { person: parsed.data, userName, externalId };
}
