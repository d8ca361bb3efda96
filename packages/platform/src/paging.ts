import { z } from 'zod';

/** Cursor-free paging for list endpoints: `?limit=&offset=`; answers `{ items, nextOffset }`. */
export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export type PageQuery = z.infer<typeof PageQuerySchema>;

/** Builds the list response from `limit + 1` fetched rows, so no COUNT(*) is needed to know if more exist. */
export function paged<T>(rows: readonly T[], page: PageQuery): { items: T[]; nextOffset: number | null } {
  const items = rows.slice(0, page.limit);
  return { items, nextOffset: rows.length > page.limit ? page.offset + page.limit : null };
}

export function pagedSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextOffset: z.number().int().nullable() });
}
