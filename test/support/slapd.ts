/**
 * A private OpenLDAP server for a test: Debian's `slapd` on a free loopback port, started from a plain
 * slapd.conf in a temporary directory (no cn=config), with
 * - its own suffix (dc=<name>,dc=test), a rootdn/rootpw, ou=people, ou=groups, ou=services, ou=policies;
 * - the ppolicy overlay with the default policy entry (pwdLockout TRUE) and `ppolicy_use_lockout`, so that
 *   `pwdAccountLockedTime: 000001010000Z` on a person makes every bind as them fail (49), and a bind sent
 *   with the password policy control says "account locked" whatever the password (FACTS.md, OpenLDAP section);
 * - a service account for EMS (cn=ems,ou=services,…) with just the rights the LDAP connector needs (the ACL
 *   below): read people and groups, write `pwdAccountLockedTime` on people, write `member`/`uniqueMember` on
 *   groups, and (only with `serviceCanDelete`) delete people. It can neither read nor change passwords.
 *
 * The helpers speak to the server with ldap-utils (ldapadd, ldapmodify, ldapsearch, ldapwhoami): a client
 * independent of the `ldapts` one the connector uses, so a test's oracle is not the code under test.
 *
 * Never a silent skip: when slapd is missing it is installed (as root, with apt) or `startSlapd` throws
 * with the one command that installs it.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const SLAPD = '/usr/sbin/slapd';
const LDAP_UTILS = ['ldapadd', 'ldapmodify', 'ldapsearch', 'ldapwhoami'];

/** The one command that installs it (Debian/Ubuntu). */
export const INSTALL_SLAPD = 'sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y slapd ldap-utils';

const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

export function slapdMissing(): string | undefined {
  const missing = [...(existsSync(SLAPD) ? [] : [SLAPD]), ...LDAP_UTILS.filter((c) => !onPath(c))];
  if (missing.length === 0) return undefined;
  return `The LDAP tests need OpenLDAP's slapd and ldap-utils (missing: ${missing.join(', ')}). Install them with:\n  ${INSTALL_SLAPD}`;
}

const hasApt = () => spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * When slapd or ldap-utils are missing and this process may install them (root, apt-get present), installs
 * Debian's packages (no daemon is started: there is no systemd, and the package's own server is not used).
 * Otherwise leaves it to `startSlapd` to fail with slapdMissing()'s message. Returns what it did.
 */
export function provideSlapd(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): 'present' | 'installed' | 'missing' {
  if (!slapdMissing()) return 'present';
  if (process.getuid?.() !== 0 || !hasApt()) return 'missing';
  log('slapd is missing: installing Debian\'s slapd and ldap-utils for the LDAP tests (apt-get install -y slapd ldap-utils)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', 'slapd', 'ldap-utils'], { env, stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
  if (!install()) {
    // A fresh machine has no package lists yet. Should apt fail, startSlapd says how to install it.
    if (spawnSync('apt-get', ['update'], { env, stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0 || !install()) return 'missing';
  }
  return slapdMissing() ? 'missing' : 'installed';
}

export interface SlapdPerson {
  uid: string;
  password: string;
  mail?: string;
  cn?: string;
}

export interface SlapdGroup {
  cn: string;
  /** Member uids (under ou=people) or full DNs. Empty: the placeholder member (groupOfNames needs one). */
  members?: string[];
  objectClass?: 'groupOfNames' | 'groupOfUniqueNames';
}

export interface Slapd {
  url: string;
  port: number;
  suffix: string;
  rootDn: string;
  rootPassword: string;
  /** The EMS service account and its password (and the file holding it, for `bindPasswordFile`). */
  serviceDn: string;
  servicePassword: string;
  servicePasswordFile: string;
  peopleBase: string;
  groupsBase: string;
  /** The member a group keeps when it would otherwise be empty (groupOfNames must have one). */
  placeholderDn: string;
  dir: string;
  /** With `tls`: ldaps://127.0.0.1:<port> and the CA file that signed its certificate. */
  ldapsUrl?: string;
  caFile?: string;
  personDn(uid: string): string;
  groupDn(cn: string): string;
  /** Adds people as the rootdn (inetOrgPerson with uid, cn, sn, mail, userPassword); returns their DNs. */
  addPeople(people: SlapdPerson[]): Promise<string[]>;
  addPerson(person: SlapdPerson): Promise<string>;
  addGroup(group: SlapdGroup): Promise<string>;
  /** A simple bind as the person (uid under ou=people, or a DN), as ldapwhoami does it. */
  bindAs(uidOrDn: string, password: string): Promise<'ok' | 'invalidCredentials'>;
  /** Applies an LDIF change record (changetype: …) as the rootdn: an outside change, as an administrator makes it. */
  modify(ldif: string): Promise<void>;
  /** Reads one entry as the rootdn (user and operational attributes); undefined when it does not exist. */
  entry(dn: string): Promise<Record<string, string[]> | undefined>;
  /** Members (DNs) of a group, lower-cased, sorted. */
  members(cn: string): Promise<string[]>;
  /** Stops the server (killed: as an outage looks); the data stays, and up() starts it on the same port. */
  down(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  up(): Promise<void>;
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
}

export interface SlapdOptions {
  /** The suffix's dc (default: a random one), e.g. 'acme' → dc=acme,dc=test. */
  name?: string;
  /** The default policy's pwdMaxFailure (default 0: failed binds do not lock). */
  maxFailure?: number;
  /** Lets the service account delete people (the connector's revoke mode 'delete'). */
  serviceCanDelete?: boolean;
  /**
   * Also TLS: a throwaway CA and a server certificate for 127.0.0.1/localhost (openssl), StartTLS on the
   * ldap:// port and an ldaps:// port of its own. The CA's PEM file is `caFile`.
   */
  tls?: boolean;
  /** back_mdb's map size in bytes (default 64 MiB); a bulk load of many people and large groups needs more. */
  maxSize?: number;
}

const run = (cmd: string, args: string[], input?: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      if (code === -1 && err) reject(new Error(`${cmd} failed: ${String(err.code ?? err.signal)}`));
      else resolve({ code, stdout, stderr });
    });
    // A tool that does not read its stdin (slapd, ldapwhoami) may close it first: not an error.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const bindable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const alive = async (pid: number) => {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An LDIF line: base64 when the value is not a SAFE-STRING (RFC 2849). */
function ldifLine(attr: string, value: string): string {
  return /^[\x01-\x09\x0b-\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b-\x0c\x0e-\x7f]*$/.test(value) && !value.endsWith(' ')
    ? `${attr}: ${value}`
    : `${attr}:: ${Buffer.from(value, 'utf8').toString('base64')}`;
}

function parseLdif(text: string): Array<Record<string, string[]>> {
  const entries: Array<Record<string, string[]>> = [];
  for (const block of text.replace(/\n /g, '').split(/\n\s*\n/)) {
    const entry: Record<string, string[]> = {};
    for (const line of block.split('\n')) {
      const m = /^([^:]+)(::?) ?(.*)$/.exec(line);
      if (!m?.[1] || line.startsWith('#')) continue;
      const value = m[2] === '::' ? Buffer.from(m[3] ?? '', 'base64').toString('utf8') : (m[3] ?? '');
      (entry[m[1]] ??= []).push(value);
    }
    if (entry.dn) entries.push(entry);
  }
  return entries;
}

/** A throwaway CA and a server certificate for 127.0.0.1 and localhost, made with openssl; slapd.conf's TLS lines. */
async function makeCertificates(dir: string): Promise<{ caFile: string; conf: string }> {
  const f = (name: string) => path.join(dir, name);
  const openssl = async (...args: string[]) => {
    const r = await run('openssl', args);
    if (r.code !== 0) throw new Error(`openssl ${args[0]} failed (${r.code}): ${r.stderr.trim()}`);
  };
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=EMS test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
  await writeFile(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('server.ext'), '-out', f('server.pem'));
  return {
    caFile: f('ca.pem'),
    conf: [`TLSCACertificateFile ${f('ca.pem')}`, `TLSCertificateFile ${f('server.pem')}`, `TLSCertificateKeyFile ${f('server.key')}`].join('\n'),
  };
}

export async function startSlapd(options: SlapdOptions = {}): Promise<Slapd> {
  if (slapdMissing()) provideSlapd();
  const missing = slapdMissing();
  if (missing) throw new Error(missing);

  const name = options.name ?? `t${Math.random().toString(36).slice(2, 10)}`;
  const suffix = `dc=${name},dc=test`;
  const rootDn = `cn=admin,${suffix}`;
  const rootPassword = `root-${Math.random().toString(36).slice(2)}`;
  const serviceDn = `cn=ems,ou=services,${suffix}`;
  const servicePassword = `svc-${Math.random().toString(36).slice(2)}`;
  const peopleBase = `ou=people,${suffix}`;
  const groupsBase = `ou=groups,${suffix}`;
  const placeholderDn = `cn=nobody,${suffix}`;
  const dir = await mkdtemp(path.join(tmpdir(), 'ems-slapd-'));
  const conf = path.join(dir, 'slapd.conf');
  const pidFile = path.join(dir, 'slapd.pid');
  const servicePasswordFile = path.join(dir, 'service-password');
  await writeFile(servicePasswordFile, `${servicePassword}\n`, { mode: 0o600 });
  await run('mkdir', ['-p', path.join(dir, 'db')]);
  await writeFile(
    conf,
    [
      ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`),
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      'moduleload ppolicy',
      `pidfile ${pidFile}`,
      `argsfile ${path.join(dir, 'slapd.args')}`,
      'database mdb',
      `maxsize ${options.maxSize ?? 67108864}`,
      `suffix "${suffix}"`,
      `rootdn "${rootDn}"`,
      `rootpw ${rootPassword}`,
      `directory ${path.join(dir, 'db')}`,
      'overlay ppolicy',
      `ppolicy_default "cn=default,ou=policies,${suffix}"`,
      'ppolicy_use_lockout',
      // Passwords: a person may bind with theirs (and change it); nobody else reads or writes them.
      'access to attrs=userPassword',
      '  by self =xw',
      '  by anonymous auth',
      '  by * none',
      // The service account locks and unlocks people …
      `access to dn.subtree="${peopleBase}" attrs=pwdAccountLockedTime`,
      `  by dn.exact="${serviceDn}" write`,
      '  by * none',
      ...(options.serviceCanDelete
        ? [`access to dn.base="${peopleBase}" attrs=children`, `  by dn.exact="${serviceDn}" write`, '  by * break', `access to dn.children="${peopleBase}" attrs=entry`, `  by dn.exact="${serviceDn}" write`, '  by * break']
        : []),
      // … and changes group memberships.
      `access to dn.subtree="${groupsBase}" attrs=member,uniqueMember`,
      `  by dn.exact="${serviceDn}" write`,
      '  by users read',
      '  by * none',
      'access to *',
      `  by dn.exact="${serviceDn}" read`,
      '  by self read',
      '  by users read',
      '  by * none',
      '',
    ].join('\n'),
  );

  // Picked now, bound by slapd later: another suite on the machine may take one in between (the first start
  // then picks new ones). After that the ports stay: down()/up() simulate an outage of this server.
  let port = 0;
  let url = '';
  let ldapsUrl: string | undefined;
  const tls = options.tls ? await makeCertificates(dir) : undefined;
  const pickPorts = async () => {
    port = await freePort();
    url = `ldap://127.0.0.1:${port}`;
    ldapsUrl = tls ? `ldaps://127.0.0.1:${await freePort()}` : undefined;
  };
  await pickPorts();
  if (tls) await writeFile(conf, `${tls.conf}\n${await readFile(conf, 'utf8')}`);
  // As root slapd would switch to the openldap user, which cannot read the temporary directory.
  const asRoot = process.getuid?.() === 0 ? ['-u', 'root', '-g', 'root'] : [];

  const up = async () => {
    const started = await run(SLAPD, ['-f', conf, '-h', [`${url}/`, ...(ldapsUrl ? [`${ldapsUrl}/`] : [])].join(' '), ...asRoot]);
    if (started.code !== 0) {
      // slapd says why only to syslog: a port another program holds now is the likely cause.
      const taken = !(await bindable(port)) || (ldapsUrl !== undefined && !(await bindable(Number(new URL(ldapsUrl).port))));
      throw Object.assign(new Error(`slapd did not start (exit ${started.code})${taken ? ' (its port is taken)' : ''}: ${started.stderr.trim()}`), { portTaken: taken });
    }
    // slapd forks once it is listening; wait for the socket anyway (a slow machine).
    for (let i = 0; i < 100; i++) {
      if (await canConnect(port)) return;
      await sleep(50);
    }
    throw new Error(`slapd did not listen on ${url}`);
  };
  const down = async () => {
    let pid: number;
    try {
      pid = Number((await readFile(pidFile, 'utf8')).trim());
    } catch {
      return;
    }
    try {
      // slapd takes ~2 s to shut down on SIGTERM; back_mdb is crash-safe, so a kill loses nothing committed.
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    // Gone, or a zombie nobody has reaped yet (a container's init may be slow to reap the daemon).
    for (let i = 0; i < 200 && (await alive(pid)); i++) await sleep(10);
    await rm(pidFile, { force: true });
  };

  for (let attempt = 1; ; attempt++) {
    try {
      await up();
      break;
    } catch (err) {
      if (attempt >= 5 || !(err as { portTaken?: boolean }).portTaken) throw err;
      await pickPorts();
    }
  }

  const asRootArgs = ['-x', '-H', url, '-D', rootDn, '-w', rootPassword];
  const ldif = async (tool: 'ldapadd' | 'ldapmodify', text: string) => {
    const r = await run(tool, [...asRootArgs], text);
    if (r.code !== 0) throw new Error(`${tool} failed (${r.code}): ${r.stderr.trim()}\n${text}`);
  };
  const personDn = (uid: string) => `uid=${uid},${peopleBase}`;
  const groupDn = (cn: string) => `cn=${cn},${groupsBase}`;
  const personLdif = (p: SlapdPerson) => personRecord(personDn(p.uid), p);

  await ldif(
    'ldapadd',
    [
      `dn: ${suffix}\nobjectClass: dcObject\nobjectClass: organization\no: ${name}\ndc: ${name}\n`,
      `dn: ou=policies,${suffix}\nobjectClass: organizationalUnit\nou: policies\n`,
      `dn: cn=default,ou=policies,${suffix}\nobjectClass: pwdPolicy\nobjectClass: device\ncn: default\npwdAttribute: userPassword\npwdLockout: TRUE\npwdMaxFailure: ${options.maxFailure ?? 0}\n`,
      `dn: ${peopleBase}\nobjectClass: organizationalUnit\nou: people\n`,
      `dn: ${groupsBase}\nobjectClass: organizationalUnit\nou: groups\n`,
      `dn: ou=services,${suffix}\nobjectClass: organizationalUnit\nou: services\n`,
      `dn: ${serviceDn}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\ncn: ems\nuserPassword: ${servicePassword}\n`,
      `dn: ${placeholderDn}\nobjectClass: applicationProcess\ncn: nobody\n`,
    ].join('\n'),
  );

  const slapd: Slapd = {
    url,
    port,
    suffix,
    rootDn,
    rootPassword,
    serviceDn,
    servicePassword,
    servicePasswordFile,
    peopleBase,
    groupsBase,
    placeholderDn,
    dir,
    ...(ldapsUrl && tls ? { ldapsUrl, caFile: tls.caFile } : {}),
    personDn,
    groupDn,
    async addPeople(people) {
      if (people.length > 0) await ldif('ldapadd', people.map(personLdif).join('\n'));
      return people.map((p) => personDn(p.uid));
    },
    async addPerson(person) {
      await ldif('ldapadd', personLdif(person));
      return personDn(person.uid);
    },
    async addGroup(group) {
      const oc = group.objectClass ?? 'groupOfNames';
      const attr = oc === 'groupOfNames' ? 'member' : 'uniqueMember';
      const members = (group.members ?? []).map((m) => (m.includes('=') ? m : personDn(m)));
      await ldif(
        'ldapadd',
        [`dn: ${groupDn(group.cn)}`, `objectClass: ${oc}`, ldifLine('cn', group.cn), ...(members.length ? members : [placeholderDn]).map((m) => ldifLine(attr, m)), ''].join('\n'),
      );
      return groupDn(group.cn);
    },
    async bindAs(uidOrDn, password) {
      const dn = uidOrDn.includes('=') ? uidOrDn : personDn(uidOrDn);
      const r = await run('ldapwhoami', ['-x', '-H', url, '-D', dn, '-w', password]);
      if (r.code === 0) return 'ok';
      if (r.code === 49) return 'invalidCredentials';
      throw new Error(`ldapwhoami as ${dn} failed (${r.code}): ${r.stderr.trim()}`);
    },
    async modify(text) {
      await ldif('ldapmodify', text);
    },
    async entry(dn) {
      const r = await run('ldapsearch', [...asRootArgs, '-LLL', '-o', 'ldif-wrap=no', '-s', 'base', '-b', dn, '*', '+']);
      if (r.code === 32) return undefined;
      if (r.code !== 0) throw new Error(`ldapsearch ${dn} failed (${r.code}): ${r.stderr.trim()}`);
      return parseLdif(r.stdout)[0];
    },
    async members(cn) {
      const e = await slapd.entry(groupDn(cn));
      if (!e) throw new Error(`no group ${cn}`);
      return [...(e.member ?? []), ...(e.uniqueMember ?? [])].map((m) => m.toLowerCase()).sort();
    },
    down,
    up,
    async stop() {
      await down();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return slapd;
}

/**
 * The LDAP connector's settings for this server: people by uid under its people base, groups by DN, the EMS
 * service account — its password from its file, or inline (`inlinePassword`) where no file may be read.
 */
export function ldapSettingsFor(slapd: Slapd, extra: Record<string, unknown> = {}, options: { inlinePassword?: boolean } = {}): Record<string, unknown> {
  return {
    url: slapd.url,
    bindDn: slapd.serviceDn,
    ...(options.inlinePassword ? { bindPassword: slapd.servicePassword } : { bindPasswordFile: slapd.servicePasswordFile }),
    userDn: `uid={id},${slapd.peopleBase}`,
    groups: { entitlement: 'dn', base: slapd.groupsBase, placeholderMember: slapd.placeholderDn },
    ...extra,
  };
}

/** Writes an EMS_ACCESS_SYSTEMS_FILE with one critical LDAP system on this server; answers its path. */
export async function writeLdapSystemsFile(slapd: Slapd, system: { id: string; name: string }, extra: Record<string, unknown> = {}): Promise<string> {
  const file = path.join(slapd.dir, 'systems.json');
  await writeFile(file, JSON.stringify({ systems: [{ ...system, critical: true, connector: { type: 'ldap', settings: ldapSettingsFor(slapd, extra) } }] }));
  return file;
}

/** An organizational unit, people and groups to load at once (bulkLoad). */
export interface SlapdBulk {
  /** Containers to create first, as RDN paths under the suffix, e.g. 'ou=vpn,ou=groups'. */
  units?: string[];
  people?: SlapdPerson[];
  /** Groups by full DN (under one of `units` or ou=groups); members as uids under ou=people or full DNs. */
  groups?: Array<{ dn: string; cn: string; members: string[] }>;
}

/** A person's LDIF record (inetOrgPerson with a password), as `dn`. */
function personRecord(dn: string, p: SlapdPerson): string {
  return [
    `dn: ${dn}`,
    'objectClass: inetOrgPerson',
    ldifLine('uid', p.uid),
    ldifLine('cn', p.cn ?? p.uid),
    ldifLine('sn', p.cn ?? p.uid),
    ...(p.mail ? [ldifLine('mail', p.mail)] : []),
    ldifLine('userPassword', p.password),
    '',
  ].join('\n');
}

/**
 * Loads many entries in one LDIF through one `ldapadd -f` as the rootdn (one connection, no per-call
 * timeout): 10,000 people and groups of thousands of members in seconds, where addPeople's one call per
 * batch is capped at 15 s. Answers how long ldapadd took (ms).
 */
export async function bulkLoad(slapd: Slapd, bulk: SlapdBulk): Promise<number> {
  const file = path.join(slapd.dir, `bulk-${Date.now()}.ldif`);
  const unitRecord = (rdnPath: string) => {
    const ou = /^ou=([^,]+)/.exec(rdnPath)?.[1];
    if (!ou) throw new Error(`bulkLoad: a unit is an ou=… path, got ${rdnPath}`);
    return [`dn: ${rdnPath},${slapd.suffix}`, 'objectClass: organizationalUnit', ldifLine('ou', ou), ''].join('\n');
  };
  const groupRecord = (g: { dn: string; cn: string; members: string[] }) =>
    [
      `dn: ${g.dn}`,
      'objectClass: groupOfNames',
      ldifLine('cn', g.cn),
      ...(g.members.length ? g.members.map((m) => (m.includes('=') ? m : slapd.personDn(m))) : [slapd.placeholderDn]).map((m) => ldifLine('member', m)),
      '',
    ].join('\n');
  await writeFile(file, [...(bulk.units ?? []).map(unitRecord), ...(bulk.people ?? []).map((p) => personRecord(slapd.personDn(p.uid), p)), ...(bulk.groups ?? []).map(groupRecord)].join('\n'));
  const started = performance.now();
  try {
    const r = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
      execFile('ldapadd', ['-x', '-H', slapd.url, '-D', slapd.rootDn, '-w', slapd.rootPassword, '-f', file], { maxBuffer: 64 * 1024 * 1024 }, (err, _stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (code === -1 && err) reject(new Error(`ldapadd failed: ${String(err.code ?? err.signal)}`));
        else resolve({ code, stderr });
      });
    });
    if (r.code !== 0) throw new Error(`ldapadd -f ${file} failed (${r.code}): ${r.stderr.trim().slice(-2000)}`);
    return Math.round(performance.now() - started);
  } finally {
    await rm(file, { force: true });
  }
}

/** The pid of a running slapd (its pidfile), e.g. to read its CPU time from /proc; undefined when it is down. */
export async function slapdPid(slapd: Slapd): Promise<number | undefined> {
  try {
    return Number((await readFile(path.join(slapd.dir, 'slapd.pid'), 'utf8')).trim());
  } catch {
    return undefined;
  }
}
