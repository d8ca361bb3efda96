import { z } from 'zod';
import { IsoDateTime, StorableLine, Uuid } from './common.ts';
import { ROLES } from './policy.ts';

/** Identity API: who am I, API tokens, the sign-in flow's public settings. */

export const Role = z.enum(ROLES);

export const Me = z
  .object({
    kind: z.enum(['person', 'service']),
    id: z.string(),
    name: z.string().nullable(),
    roles: z.array(z.string()),
    /** The OAuth client, API token or session the request came through. */
    client: z.string(),
    via: z.enum(['token', 'api-token', 'session']),
    /** How many direct reports and assigned employees the directory gives this person. */
    reports: z.number().int(),
    assigned: z.number().int(),
  })
  .meta({ id: 'Me' });
export type Me = z.infer<typeof Me>;

export const CreateApiTokenRequest = z
  .object({
    /** What the token is for, e.g. "HR system nightly import". */
    name: StorableLine.trim().min(1).max(200),
    /** The directory person the token acts as: its roles are that person's, read from the directory at each use. */
    personId: StorableLine.min(1).max(64),
    /** Days until it expires (default 90; at most 366). */
    expiresInDays: z.number().int().min(1).max(366).default(90),
  })
  .strict()
  .meta({ id: 'CreateApiTokenRequest' });

export const ApiToken = z
  .object({
    id: Uuid,
    name: z.string(),
    personId: z.string(),
    createdBy: z.string(),
    createdAt: IsoDateTime,
    expiresAt: IsoDateTime.nullable(),
    revokedAt: IsoDateTime.nullable(),
    lastUsedAt: IsoDateTime.nullable(),
  })
  .meta({ id: 'ApiToken' });
export type ApiToken = z.infer<typeof ApiToken>;

/** The answer to a creation: the token itself appears here once, and never again (null on a repeat). */
export const CreatedApiToken = ApiToken.extend({ token: z.string().nullable() }).meta({ id: 'CreatedApiToken' });
export type CreatedApiToken = z.infer<typeof CreatedApiToken>;
export const ApiTokenList = z.object({ items: z.array(ApiToken), nextOffset: z.number().int().nullable() }).meta({ id: 'ApiTokenList' });

/** Public: what a client needs to sign in (the CLI reads it before the device grant). */
export const AuthConfig = z
  .object({
    issuer: z.string(),
    cliClientId: z.string(),
    apiAudience: z.string(),
    /** True when the built-in development provider is in use. */
    devProvider: z.boolean(),
  })
  .meta({ id: 'AuthConfig' });
export type AuthConfig = z.infer<typeof AuthConfig>;

export const SessionInfo = z
  .object({
    person: z.object({ id: z.string(), name: z.string() }),
    roles: z.array(z.string()),
    /** Send it as X-CSRF-Token with every change made with the session cookie. */
    csrfToken: z.string(),
    expiresAt: IsoDateTime,
    absoluteExpiresAt: IsoDateTime,
  })
  .meta({ id: 'SessionInfo' });
export type SessionInfo = z.infer<typeof SessionInfo>;

export const RotatedKeys = z.object({ kid: z.string(), retired: z.array(z.string()) }).meta({ id: 'RotatedKeys' });

// ── The directory's CSV import ─────────────────────────────────────────────────────────────────────

const QueryFlag = z.enum(['true', 'false']).optional().transform((v) => v === 'true');

export const DirectoryImportQuery = z
  .object({
    /** Answer what the file would change; change nothing. */
    dryRun: QueryFlag,
    /** The file is a full export: everyone active who is not in it becomes inactive. */
    deactivateMissing: QueryFlag,
  })
  .strict();

/** One column of a person that the file changes, before and after, as a file would write it (working_days e.g. Mon-Fri). */
const ColumnChange = z.object({ column: z.string(), from: z.string(), to: z.string() });

export const DirectoryImportReport = z
  .object({
    dryRun: z.boolean(),
    deactivateMissing: z.boolean(),
    /** People (data rows) in the file. */
    rows: z.number().int(),
    created: z.array(z.object({ id: z.string(), name: z.string() })),
    updated: z.array(z.object({ id: z.string(), name: z.string(), changes: z.array(ColumnChange) })),
    unchanged: z.array(z.string()),
    /** Not in the file, active until now (deactivateMissing only). */
    deactivated: z.array(z.object({ id: z.string(), name: z.string() })),
  })
  .meta({ id: 'DirectoryImportReport', description: 'What a CSV import changed (or, in a dry run, would change) in the directory.' });
export type DirectoryImportReport = z.infer<typeof DirectoryImportReport>;

/** A refused import: every problem of the file, by row (the header is row 1) and column (null: the whole row or file). */
export const DirectoryImportProblem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ row: z.number().int(), column: z.string().nullable(), message: z.string() })),
  })
  .meta({ id: 'DirectoryImportProblem', description: 'RFC 9457 problem details listing every error of an import file by row and column; nothing was imported.' });
export type DirectoryImportProblem = z.infer<typeof DirectoryImportProblem>;

export { IdentityPaths } from './paths.ts';
