import { z } from 'zod';

/** A calendar day, 'YYYY-MM-DD', validated as a real date. */
export const IsoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
  }, 'must be a real calendar date');

export const IsoDateTime = z.iso.datetime({ offset: true });
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
