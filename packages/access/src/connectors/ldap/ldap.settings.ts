import { parseDuration } from '@ems/platform';
import { z } from 'zod';

/**
 * An LDAP directory's settings (OpenLDAP with the ppolicy overlay), as a system in the systems file carries them:
 *
 *   { "type": "ldap", "settings": {
 *       "url": "ldaps://ldap.example.com", "bindDn": "cn=ems,ou=services,dc=example,dc=com",
 *       "bindPasswordFile": "ldap-ems.password",
 *       "userDn": "uid={id},ou=people,dc=example,dc=com",
 *       "groups": { "entitlement": "dn", "base": "ou=groups,dc=example,dc=com", "memberAttribute": "member" } } }
 *
 * A person is found by `userDn` (a DN template: `{id}` is EMS's employee id, escaped as a DN value,
 * RFC 4514) and/or `userSearch` (a base and an RFC 4515 filter with `{id}` / `{email}`, each value
 * escaped). With both, the DN template is tried first. A grant's entitlement is a group: its DN
 * (`entitlement: "dn"`), or a cn put into `groups.dn` (`entitlement: "cn"`).
 */

export const PPOLICY_LOCK_VALUE = '000001010000Z';

const Duration = (min: number, max: number) =>
  z.string().transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === null || ms < min || ms > max) {
      ctx.addIssue({ code: 'custom', message: `must be a duration between ${min}ms and ${max / 1000}s, like '500ms' or '10s'` });
      return z.NEVER;
    }
    return ms;
  });

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/i;

const Url = z.string().transform((v, ctx) => {
  const m = /^(ldaps?):\/\/([^/?#\s@]+)\/?$/i.exec(v);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: 'must be ldap://host[:port] or ldaps://host[:port] (no path, no credentials)' });
    return z.NEVER;
  }
  return { url: `${m[1]!.toLowerCase()}://${m[2]!}`, secure: m[1]!.toLowerCase() === 'ldaps', host: m[2]!.replace(/:\d+$/, '') };
});

/** A DN as text: `attr=value` pairs separated by commas (checked loosely; the server checks strictly). */
const Dn = z
  .string()
  .trim()
  .min(3)
  .max(1000)
  .regex(/^[A-Za-z][\w-]*=.+$/, 'must be a DN, like ou=people,dc=example,dc=com');

const placeholders = (v: string): string[] => v.match(/\{[^}]*\}/g) ?? [];

const UserDn = Dn.superRefine((v, ctx) => {
  const ph = placeholders(v);
  if (ph.some((p) => p !== '{id}')) ctx.addIssue({ code: 'custom', message: `unknown placeholder ${ph.find((p) => p !== '{id}')} (known: {id})` });
  else if (!ph.includes('{id}')) ctx.addIssue({ code: 'custom', message: 'must contain {id} (the employee id), e.g. uid={id},ou=people,dc=example,dc=com' });
});

const Filter = z
  .string()
  .trim()
  .min(3)
  .max(1000)
  .superRefine((v, ctx) => {
    const ph = placeholders(v);
    const unknown = ph.find((p) => p !== '{id}' && p !== '{email}');
    if (unknown) ctx.addIssue({ code: 'custom', message: `unknown placeholder ${unknown} (known: {id}, {email})` });
    else if (ph.length === 0) ctx.addIssue({ code: 'custom', message: 'must contain {id} or {email}, e.g. (&(objectClass=inetOrgPerson)(uid={id}))' });
    else if (!v.startsWith('(') || !v.endsWith(')')) ctx.addIssue({ code: 'custom', message: 'must be an RFC 4515 filter in parentheses' });
  });

const GroupDnTemplate = Dn.superRefine((v, ctx) => {
  const ph = placeholders(v);
  if (ph.length !== 1 || ph[0] !== '{cn}') ctx.addIssue({ code: 'custom', message: 'must contain {cn} once (the entitlement), e.g. cn={cn},ou=groups,dc=example,dc=com' });
});

export const LdapSettingsSchema = z
  .strictObject({
    url: Url,
    /** The service account EMS binds as. */
    bindDn: Dn,
    /** Its password (prefer bindPasswordFile). */
    bindPassword: z.string().min(1).optional(),
    /** A file holding its password (read at start, trimmed; relative to the systems file). */
    bindPasswordFile: z.string().min(1).optional(),
    /** Where a person's entry is: a DN template with {id}. */
    userDn: UserDn.optional(),
    /** Or how to find it: a search under `base` with an RFC 4515 filter naming {id} and/or {email}. */
    userSearch: z
      .strictObject({
        base: Dn,
        filter: Filter,
        scope: z.enum(['one', 'sub']).default('sub'),
      })
      .optional(),
    groups: z
      .strictObject({
        /** What a grant's entitlement (its role on this system) names: the group's DN, or its cn put into `dn`. */
        entitlement: z.enum(['dn', 'cn']).default('dn'),
        /** With entitlement "cn": the group's DN template, e.g. cn={cn},ou=groups,dc=example,dc=com. */
        dn: GroupDnTemplate.optional(),
        /** Where inspect (drift detection) looks for the person's groups; defaults to the parent of `dn`. */
        base: Dn.optional(),
        /** The attribute that lists a group's members (by DN): groupOfNames' member or groupOfUniqueNames' uniqueMember. */
        memberAttribute: z.enum(['member', 'uniqueMember']).default('member'),
        /** A DN put in a group that would otherwise be left empty (groupOfNames needs one member). */
        placeholderMember: Dn.optional(),
      })
      .prefault({}),
    lock: z
      .strictObject({
        /** ppolicy's administrative lock: pwdAccountLockedTime = 000001010000Z (locked until removed). */
        method: z.literal('ppolicy').default('ppolicy'),
        /**
         * After locking, bind as the person with a random password and the password policy request control
         * (1.3.6.1.4.1.42.2.27.8.5.1); the lock is proven when the directory answers "account locked"
         * (slapd's ppolicy_use_lockout). A bind on a locked account does not count as a failed login.
         */
        probeBind: z.boolean().default(true),
        /**
         * After unlocking, the same probe must answer a plain "invalid credentials" (not "account locked").
         * Off by default: on an unlocked account a failed bind counts toward pwdMaxFailure.
         */
        probeBindOnRestore: z.boolean().default(false),
      })
      .prefault({}),
    /** What a revocation does to the account, after removing every listed membership: lock it, or delete the entry. */
    revoke: z.enum(['lock', 'delete']).default('lock'),
    /** Time to open a connection, and each operation's time limit. */
    connectTimeout: Duration(100, 60_000).default(5_000),
    timeout: Duration(100, 120_000).default(10_000),
    tls: z
      .strictObject({
        /** A PEM file of certificate authorities to trust (besides the system's). */
        caFile: z.string().min(1).optional(),
        /** Upgrade an ldap:// connection with StartTLS before binding. */
        startTls: z.boolean().default(false),
      })
      .prefault({}),
    /** Send the service password over an unencrypted ldap:// connection to a host that is not loopback. */
    allowPlaintext: z.boolean().default(false),
  })
  .superRefine((s, ctx) => {
    if ((s.bindPassword === undefined) === (s.bindPasswordFile === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['bindPasswordFile'], message: 'give exactly one of bindPassword or bindPasswordFile (the service account\'s password)' });
    }
    if (s.userDn === undefined && s.userSearch === undefined) {
      ctx.addIssue({ code: 'custom', path: ['userDn'], message: 'give userDn (a DN template with {id}) and/or userSearch (base and filter) to find a person' });
    }
    if (s.groups.entitlement === 'cn' && s.groups.dn === undefined) {
      ctx.addIssue({ code: 'custom', path: ['groups', 'dn'], message: 'entitlement "cn" needs a group DN template, e.g. cn={cn},ou=groups,dc=example,dc=com' });
    }
    if (s.groups.entitlement === 'dn' && s.groups.base === undefined) {
      ctx.addIssue({ code: 'custom', path: ['groups', 'base'], message: 'give the base DN under which the groups are (drift detection reads the person\'s groups there), e.g. ou=groups,dc=example,dc=com' });
    }
    if (s.groups.entitlement === 'dn' && s.groups.dn !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['groups', 'dn'], message: 'a group DN template is for entitlement "cn" only' });
    }
    if (s.url.secure && s.tls.startTls) ctx.addIssue({ code: 'custom', path: ['tls', 'startTls'], message: 'ldaps:// is encrypted already: StartTLS is for ldap://' });
    if (!s.url.secure && !s.tls.startTls && !LOOPBACK.test(s.url.host) && !s.allowPlaintext) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'ldap:// to a host that is not loopback would send the service password unencrypted: use ldaps://, tls.startTls, or set allowPlaintext' });
    }
  });

export type LdapSettings = z.output<typeof LdapSettingsSchema>;

/** Where inspect looks for groups: the configured base, else the parent of the group DN template. */
export function groupSearchBase(s: LdapSettings): string | undefined {
  if (s.groups.base) return s.groups.base;
  if (s.groups.dn) return s.groups.dn.replace(/^(?:[^,\\]|\\.)*,/, '');
  return undefined;
}

/** What an administrator may see of the settings (GET /api/access-systems): no password, no password file path. */
export function describeLdapSettings(s: LdapSettings): Record<string, unknown> {
  return {
    url: s.url.url,
    bindDn: s.bindDn,
    ...(s.userDn ? { userDn: s.userDn } : {}),
    ...(s.userSearch ? { userSearch: s.userSearch } : {}),
    groups: s.groups,
    lock: s.lock,
    revoke: s.revoke,
    connectTimeoutMs: s.connectTimeout,
    timeoutMs: s.timeout,
    tls: { startTls: s.tls.startTls, ...(s.tls.caFile ? { caFile: s.tls.caFile } : {}) },
  };
}
