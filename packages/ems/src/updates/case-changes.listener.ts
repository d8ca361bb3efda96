import { randomUUID } from 'node:crypto';
import { backoffDelay, type Logger, type Pool } from '@ems/platform';
import type { PoolClient } from 'pg';
import { ems } from '@ems/contracts';
import type { CaseChange } from './updates-hub.ts';

/** The channel the resignations table's trigger notifies on (migration 12), in the transaction of the change. */
export const CASE_CHANGED_CHANNEL = 'ems_case_changed';
/** A process that stops renewing its listener row (killed) stops costing NOTIFYs after this long. */
const TTL_SECONDS = 30;

/**
 * LISTENs for committed case changes on one connection of its own (held out of the pool while this process
 * has a stream open, and only then), so a process learns of changes made by any process on the database. A lost
 * connection is replaced with backoff; what changed meanwhile is not replayed (streams start empty anyway:
 * a client reloads what it shows when it reconnects).
 *
 * The trigger NOTIFYs only while some process says it has a stream open (a row in live_listeners, kept fresh
 * while it does): a NOTIFY serialises commits, a cost nobody should pay while nobody watches (migration 13).
 */
export function listenForCaseChanges(
  pool: Pool,
  onChange: (change: CaseChange) => void,
  log: Logger,
): { setActive(active: boolean): Promise<void>; stop(): Promise<void> } {
  let client: PoolClient | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let attempt = 0;
  // The pool's client goes back to the pool after a stream: it must not keep this listener's handlers.
  const onError = (err: Error) => {
    if (client) lost(client, err);
  };

  const onNotification = (msg: { channel: string; payload?: string }) => {
    if (msg.channel !== CASE_CHANGED_CHANNEL || !msg.payload) return;
    const change = parse(msg.payload);
    if (change) onChange(change);
    else log.warn({ payload: msg.payload.slice(0, 200) }, 'ignored a case-change notification that does not parse');
  };

  // Whether some stream is open here: only then is a connection held for LISTEN — nothing is held while
  // nobody watches. (Held for the life of the process, the benchmark's rows written per schema lost EMS's own:
  // pg_stat_user_tables did not show them even 12 s after the burst; the cause in PostgreSQL is not pinned down.)
  let wanted = false;
  const connect = async () => {
    if (stopped || !wanted || client) return;
    let c: PoolClient | undefined;
    try {
      c = await pool.connect();
      c.on('notification', onNotification);
      c.on('error', onError);
      await c.query(`LISTEN ${CASE_CHANGED_CHANNEL}`);
      client = c;
      attempt = 0;
      if (stopped) await release();
    } catch (err) {
      // A connection that could not LISTEN goes back to the pool, discarded, without this listener's handlers.
      if (c && client !== c) {
        c.off('notification', onNotification);
        c.off('error', onError);
        c.release(err instanceof Error ? err : new Error(String(err)));
      }
      schedule(err);
    }
  };
  const lost = (c: PoolClient, err: unknown) => {
    if (client !== c) return;
    client = undefined;
    c.off('notification', onNotification);
    c.off('error', onError);
    c.release(err instanceof Error ? err : new Error(String(err)));
    schedule(err);
  };
  const schedule = (err: unknown) => {
    if (stopped) return;
    const delay = backoffDelay(++attempt, { baseMs: 250, maxMs: 10_000 });
    log.warn({ err, delay }, 'live updates: the LISTEN connection failed; reconnecting');
    retry = setTimeout(() => void connect(), delay);
    retry.unref();
  };
  const release = async () => {
    const c = client;
    client = undefined;
    if (!c) return;
    c.off('notification', onNotification);
    c.off('error', onError);
    await c.query(`UNLISTEN ${CASE_CHANGED_CHANNEL}`).catch(() => undefined);
    c.release();
  };

  // Whether this process has streams open: its row in live_listeners, refreshed well before it expires.
  const processId = randomUUID();
  let refresh: NodeJS.Timeout | undefined;
  let registering: Promise<void> = Promise.resolve();
  const register = () =>
    pool
      .query(`INSERT INTO ems.live_listeners (process_id, expires_at) VALUES ($1, now() + interval '${TTL_SECONDS} seconds')
              ON CONFLICT (process_id) DO UPDATE SET expires_at = excluded.expires_at`, [processId])
      .then(() => undefined);
  const unregister = () => pool.query('DELETE FROM ems.live_listeners WHERE process_id = $1', [processId]).then(() => undefined);
  const setActive = (active: boolean): Promise<void> => {
    clearInterval(refresh);
    refresh = undefined;
    if (active) {
      refresh = setInterval(() => void register().catch((err: unknown) => log.warn({ err }, 'live updates: could not renew this process as a listener')), (TTL_SECONDS * 1000) / 3);
      refresh.unref();
    }
    wanted = active;
    // In order: a stream closed and another opened at once must end registered (and listening).
    registering = registering
      .catch(() => undefined)
      .then(active ? async () => {
        await connect();
        await register();
      } : async () => {
        await unregister();
        if (!wanted) await release();
      });
    return registering;
  };

  return {
    setActive,
    async stop() {
      stopped = true;
      clearTimeout(retry);
      clearInterval(refresh);
      await registering.catch(() => undefined);
      await unregister().catch(() => undefined);
      await release();
    },
  };
}

function parse(payload: string): CaseChange | undefined {
  try {
    const raw = JSON.parse(payload) as { id?: unknown; employeeId?: unknown; status?: unknown; updatedAt?: unknown };
    const status = ems.CaseStatus.safeParse(raw.status);
    const at = typeof raw.updatedAt === 'string' ? new Date(raw.updatedAt) : undefined;
    if (typeof raw.id !== 'string' || typeof raw.employeeId !== 'string' || !status.success || !at || Number.isNaN(at.getTime())) return undefined;
    return { resignationId: raw.id, employeeId: raw.employeeId, status: status.data, updatedAt: at.toISOString() };
  } catch {
    return undefined;
  }
}
