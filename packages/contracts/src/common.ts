import { z } from 'zod';

/**
 * Text that PostgreSQL can store, and that nothing downstream will choke on. PostgreSQL `text` and
 * `jsonb` cannot hold U+0000, and a lone UTF-16 surrogate has no UTF-8 encoding: such input used to be
 * accepted and then fail inside the database (a 500, or a case stuck retrying). Every string that
 * crosses an edge — body, query, path, header, event payload — is one of these two, so it is refused
 * with a 400 naming the field before anything is stored.
 */
const NUL = /\u0000/;
/** C0 controls and DEL, except NUL (refused with its own message) and tab, line feed, carriage return. */
const CONTROL_IN_TEXT = /[\u0001-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
/** Every C0 control and DEL except NUL: one line of text has none. */
const CONTROL_IN_LINE = /[\u0001-\u001F\u007F]/;

export const STORABLE_MESSAGES = {
  nul: 'must not contain NUL characters',
  unicode: 'must be well-formed Unicode (no lone surrogates)',
  textControl: 'must not contain control characters other than tab and line breaks',
  lineControl: 'must be one line without control characters',
} as const;

/** Whether `s` can be stored as PostgreSQL text (no NUL, well-formed UTF-16). */
export function isStorable(s: string): boolean {
  return !NUL.test(s) && s.isWellFormed();
}

/**
 * Text PostgreSQL can store, and nothing more asked: no NUL, no lone surrogate. Event payloads use it (what
 * a service publishes, e.g. a failure's reason quoting an error, is checked for storage, not for style);
 * input at the HTTP edge uses the stricter two below.
 */
export const Storable = z
  .string()
  .refine((s) => !NUL.test(s), STORABLE_MESSAGES.nul)
  .refine((s) => s.isWellFormed(), STORABLE_MESSAGES.unicode);

/** Free text that may span lines (a note, a reason): tab, CR and LF allowed; NUL, other controls and lone surrogates refused. */
export const StorableText = Storable.refine((s) => !CONTROL_IN_TEXT.test(s), STORABLE_MESSAGES.textControl);

/** One line (a name, an id, a header value, a query parameter): no control character at all, no lone surrogate. */
export const StorableLine = Storable.refine((s) => !CONTROL_IN_LINE.test(s), STORABLE_MESSAGES.lineControl);

/** The first string (value or key) in a JSON-like value that could not be stored, with its path; null when all can. */
export function unstorableIn(value: unknown, path: (string | number)[] = [], depth = 0): { path: (string | number)[]; message: string } | null {
  if (typeof value === 'string') {
    if (NUL.test(value)) return { path, message: STORABLE_MESSAGES.nul };
    if (!value.isWellFormed()) return { path, message: STORABLE_MESSAGES.unicode };
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  if (depth > 64) return { path, message: 'is nested too deeply' };
  for (const [k, v] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    if (typeof k === 'string' && !isStorable(k)) return { path: [...path, k], message: `its name ${NUL.test(k) ? STORABLE_MESSAGES.nul : STORABLE_MESSAGES.unicode}` };
    const found = unstorableIn(v, [...path, k], depth + 1);
    if (found) return found;
  }
  return null;
}

/** Free-form JSON (an email's template data): every string in it, keys included, storable. */
export const StorableJsonRecord = z.record(StorableLine, z.unknown()).superRefine((value, ctx) => {
  const found = unstorableIn(value);
  if (found) ctx.addIssue({ code: 'custom', path: found.path, message: found.message });
});

/** A calendar day, 'YYYY-MM-DD', validated as a real date. */
export const IsoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
  }, 'must be a real calendar date');

export const IsoDateTime = z.iso.datetime({ offset: true });
/** An Idempotency-Key header: one line, 1–200 characters. */
export const IdempotencyKey = StorableLine.trim().min(1).max(200);
export const EmployeeId = z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, 'must be an employee id (letters, digits, . _ -)');
export const Uuid = z.uuid();

export const ListOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextOffset: z.number().int().nullable() });

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** Header every mutating service call may carry; a repeat with the same key does nothing new. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
