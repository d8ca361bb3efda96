import { parseDuration } from '@ems/platform';
import { z } from 'zod';

/**
 * A SCIM 2.0 service provider's settings, as a system in the systems file carries them:
 *
 *   { "type": "scim", "settings": { "baseUrl": "https://idp.example.com/scim/v2", "tokenFile": "scim.token",
 *     "userFilter": "userName eq \"{email}\"", "revokeMode": "deactivate", "timeout": "10s" } }
 *
 * `userFilter` says how a person is found: a SCIM filter (RFC 7644 §3.4.2.2) with `"{email}"` (the
 * person's email) or `"{id}"` (EMS's employee id) in place of a quoted value. The value is inserted as
 * a JSON string, so a quote or backslash in it cannot change the filter.
 */

const PLACEHOLDERS = ['{email}', '{id}'] as const;

const Duration = z.string().transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === null || ms < 100 || ms > 300_000) {
    ctx.addIssue({ code: 'custom', message: "must be a duration between 100ms and 5m, like '500ms', '10s' or '1m'" });
    return z.NEVER;
  }
  return ms;
});

const BaseUrl = z.string().transform((v, ctx) => {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute http:// or https:// URL (the SCIM base, e.g. https://idp.example.com/scim/v2)' });
    return z.NEVER;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `must use http or https, not ${url.protocol.replace(/:$/, '')}` });
    return z.NEVER;
  }
  if (url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: 'must not contain credentials: give the bearer token as token or tokenFile' });
    return z.NEVER;
  }
  if (url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: 'must not have a query or fragment' });
    return z.NEVER;
  }
  return url.href.replace(/\/+$/, '');
});

const UserFilter = z
  .string()
  .trim()
  .min(1)
  .max(500)
  .superRefine((v, ctx) => {
    const braces = v.match(/\{[^}]*\}/g) ?? [];
    const unknown = braces.filter((b) => !(PLACEHOLDERS as readonly string[]).includes(b));
    if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: `unknown placeholder ${unknown[0]} (known: ${PLACEHOLDERS.join(', ')})` });
    else if (braces.length === 0) ctx.addIssue({ code: 'custom', message: 'must name the person with "{email}" or "{id}", e.g. userName eq "{email}"' });
    else if (PLACEHOLDERS.some((p) => v.split(p).length - 1 !== v.split(`"${p}"`).length - 1)) {
      ctx.addIssue({ code: 'custom', message: 'a placeholder must stand for a whole quoted value: "{email}" or "{id}" in double quotes' });
    }
  });

export const ScimSettingsSchema = z
  .strictObject({
    baseUrl: BaseUrl,
    /** The bearer token itself (prefer tokenFile). */
    token: z.string().min(1).optional(),
    /** A file holding the bearer token (read at start, trimmed; relative to the systems file). */
    tokenFile: z.string().min(1).optional(),
    userFilter: UserFilter.default('userName eq "{email}"'),
    revokeMode: z.enum(['deactivate', 'delete']).default('deactivate'),
    /** Each request's time limit. */
    timeout: Duration.default(10_000),
    /** A PEM file of extra certificate authorities to trust for https (besides the system's). */
    caFile: z.string().min(1).optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.token === undefined) === (s.tokenFile === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['tokenFile'], message: 'give exactly one of token or tokenFile (the bearer token)' });
    }
  });

export type ScimSettings = z.output<typeof ScimSettingsSchema>;

/** The filter for one person, or undefined when it needs an email the person does not have. */
export function userFilterFor(template: string, account: { employeeId: string; email: string | null }): string | undefined {
  if (template.includes('"{email}"') && !account.email) return undefined;
  // JSON.stringify quotes and escapes exactly as a SCIM compValue is written (RFC 7644 §3.4.2.2: JSON strings).
  return template.replaceAll('"{email}"', () => JSON.stringify(account.email ?? '')).replaceAll('"{id}"', () => JSON.stringify(account.employeeId));
}
