import type { Pool } from '@ems/platform';

/**
 * Records the text of every statement sent through `pool` (below Kysely and the preparing pool: what reaches pg
 * is what reaches PostgreSQL, a string or a named query), in order, into `sent`. Call before the pool's first
 * connection.
 */
export function recordStatements(pool: Pool, sent: string[]): void {
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const q = args[0];
      const text = typeof q === 'string' ? q : (q as { text?: unknown } | null)?.text;
      if (typeof text === 'string') sent.push(text);
      return query(...args);
    };
  });
}
