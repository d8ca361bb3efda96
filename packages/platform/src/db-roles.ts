import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';
import { quoteIdent } from './db.ts';

/**
 * One database role per service, so that "no service reads another's tables" is enforced by PostgreSQL
 * itself: a LOGIN role that is not a superuser, reaching its own schemas (and the shared ones, such as the
 * bus) and nothing else — another service's table answers 42501 (insufficient_privilege).
 *
 * Roles are global to a PostgreSQL cluster, databases are not: each role is named after its database and
 * its service (`ems_hr` for the `ems` database), so several EMS databases on one server never share roles.
 *
 * Migrations run as the admin (the owner of every schema); this runs after them, as the same admin, and
 * again after every later migration: each table's rights are re-derived from what its owner keeps, so a
 * table a migration made append-only (UPDATE and DELETE revoked) stays append-only for the service too.
 */
export interface ServiceRole {
  /** The service ('hr'): the role is `<database>_<service>`. */
  service: string;
  /** The schemas it owns the data of. */
  schemas: readonly string[];
  /** Its password (stored as a SCRAM-SHA-256 verifier computed here: the server never sees it in clear). Unset: left as it is. */
  password?: string;
  /** Tables of other schemas it may read (SELECT), and the columns of each it may update (`update`). */
  reads?: ReadonlyArray<{ schema: string; table: string; update?: readonly string[] }>;
}

export interface ServiceRolesOptions {
  database: string;
  roles: readonly ServiceRole[];
  /** Schemas every service role uses besides its own (the bus its services publish to and consume from). */
  shared?: readonly string[];
}

/** Table rights a service role may hold, where the table's owner keeps them. */
const TABLE_RIGHTS = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

/** `<database>_<service>`, cut to PostgreSQL's 63 bytes (with a hash of the database name when it must be). */
export function serviceRoleName(database: string, service: string): string {
  const name = `${database}_${service}`;
  if (Buffer.byteLength(name) <= 63) return name;
  const hash = createHash('sha256').update(database).digest('hex').slice(0, 8);
  const head = database.replace(/[^\x20-\x7e]/g, '').slice(0, Math.max(0, 63 - 10 - Buffer.byteLength(service)));
  return `${head}_${hash}_${service}`.slice(-63);
}

/** The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802 / 7677; 4096 iterations, like PostgreSQL). */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * Creates (or brings up to date) every service's role and its rights in one transaction, as the admin the
 * connection logs in as. Idempotent; safe to run concurrently (an advisory lock per database).
 */
export async function ensureServiceRoles(adminUrl: string, options: ServiceRolesOptions): Promise<Array<{ service: string; role: string; schemas: string[] }>> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'ems-roles' });
  await client.connect();
  const done: Array<{ service: string; role: string; schemas: string[] }> = [];
  try {
    // The statements carry password verifiers: keep even those out of the server's log.
    await client.query(`SET log_min_error_statement = panic`).catch(() => undefined);
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`ems.roles.${options.database}`]);
    const db = quoteIdent(options.database);
    // Nobody but the roles named here (and the admin) may even connect; nobody creates objects in `public`.
    await client.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
    await client.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    const shared = options.shared ?? [];
    for (const schema of new Set([...shared, ...options.roles.flatMap((r) => r.schemas)])) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    }
    for (const r of options.roles) {
      const roleName = serviceRoleName(options.database, r.service);
      const role = quoteIdent(roleName);
      const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [roleName])).rowCount;
      const attributes = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';
      await client.query(`${exists ? 'ALTER' : 'CREATE'} ROLE ${role} ${attributes}`);
      if (r.password !== undefined) await client.query(`ALTER ROLE ${role} PASSWORD ${client.escapeLiteral(scramVerifier(r.password))}`);
      await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${db} TO ${role}`);
      const schemas = [...new Set([...r.schemas, ...shared])];
      for (const schema of schemas) await grantSchema(client, schema, role);
      for (const read of r.reads ?? []) {
        if (schemas.includes(read.schema)) continue;
        const exists = await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [`${quoteIdent(read.schema)}.${quoteIdent(read.table)}`]);
        if (!exists.rows[0]?.found) continue; // not migrated here (yet): the next run grants it
        const target = `${quoteIdent(read.schema)}.${quoteIdent(read.table)}`;
        await client.query(`GRANT USAGE ON SCHEMA ${quoteIdent(read.schema)} TO ${role}`);
        await client.query(`REVOKE ALL ON TABLE ${target} FROM ${role}`);
        await client.query(`GRANT SELECT ON TABLE ${target} TO ${role}`);
        if (read.update?.length) await client.query(`GRANT UPDATE (${read.update.map(quoteIdent).join(', ')}) ON TABLE ${target} TO ${role}`);
      }
      done.push({ service: r.service, role: roleName, schemas });
    }
    await client.query('COMMIT');
    return done;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}

async function grantSchema(client: pg.Client, schemaName: string, role: string): Promise<void> {
  const schema = quoteIdent(schemaName);
  await client.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
  // Tables (and views): the rights their owner keeps, among TABLE_RIGHTS — never more.
  const relations = await client.query<{ name: string; kind: string; rights: string[] | null }>(
    `SELECT c.relname AS name, c.relkind AS kind,
            CASE WHEN c.relacl IS NULL THEN NULL
                 ELSE ARRAY(SELECT a.privilege_type FROM aclexplode(c.relacl) a WHERE a.grantee = c.relowner) END AS rights
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')`,
    [schemaName],
  );
  for (const rel of relations.rows) {
    const target = `${schema}.${quoteIdent(rel.name)}`;
    if (rel.kind === 'S') {
      await client.query(`GRANT USAGE, SELECT, UPDATE ON SEQUENCE ${target} TO ${role}`);
      continue;
    }
    await client.query(`REVOKE ALL ON TABLE ${target} FROM ${role}`);
    const rights = TABLE_RIGHTS.filter((right) => rel.rights === null || rel.rights.includes(right));
    if (rights.length) await client.query(`GRANT ${rights.join(', ')} ON TABLE ${target} TO ${role}`);
  }
  await client.query(`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${schema} TO ${role}`);
  // What later migrations create (as this admin) is the service's too, until the next run re-derives it.
  await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT ${TABLE_RIGHTS.join(', ')} ON TABLES TO ${role}`);
  await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${role}`);
}

/** Drops the roles of a database that is gone (tests: roles outlive the throwaway databases they served). */
export async function dropServiceRoles(adminUrl: string, database: string, services: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'ems-roles' });
  await client.connect();
  try {
    for (const service of services) await client.query(`DROP ROLE IF EXISTS ${quoteIdent(serviceRoleName(database, service))}`);
  } finally {
    await client.end();
  }
}
