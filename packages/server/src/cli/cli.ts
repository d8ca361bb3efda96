import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, createLogger, createPool, databaseName, ensureDatabase, migrate, processAlive, startEmbeddedPostgres, type Logger } from '@ems/platform';
import { demoOrg } from '@ems/demo-org';
import { AppPaths, appUrl } from '@ems/contracts/app-paths';
import { checkSettingNames, ConfigSchema, loadConfig, SERVICE_NAMES, type Config, type ServiceName } from '../config.ts';
import { extensionSettings } from '../extensions.ts';
import { printCase, printCases, printDeadLetters, printEmails, type Out } from './format.ts';
import { authorization, deviceLogin, logout, SignInRequired } from './sign-in.ts';
import { CredentialsError } from './credentials.ts';

// The server side (services, DBOS, the bus) loads only for the commands that run it: a client command
// such as `ems resign` starts in a fraction of the time.
const server = {
  app: () => import('../app.ts'),
  seed: () => import('../seed.ts'),
  modules: () => import('../seed-modules.ts'),
  fleet: () => import('./fleet.ts'),
  gateway: () => import('./gateway.ts'),
};

const HELP = `ems — Exit Management System

Usage:
  ems start                                  run EMS (embedded PostgreSQL unless EMS_DATABASE_URL is set)
  ems start --service NAME [--service NAME]  run only these services (ems, notification, hr, access, webhooks,
                                             extensions) against EMS_DATABASE_URL; run ems migrate first
  ems start --fleet [--replicas N]           every service as its own process (N replicas each) behind a
                                             gateway on EMS_PORT, one log stream
  ems resign <employeeId> [--last-day YYYY-MM-DD] [--reason TEXT] [--reason-category CATEGORY] [--no-wait] [--idempotency-key K]
                                             submit a resignation and follow its steps (CATEGORY: career,
                                             compensation, management, relocation, personal or other)
  ems cases [--status STATUS | --stuck] [--limit N]
                                             list resignations (--stuck: a step late or failed)
  ems case <id>                              one case: steps and timeline
  ems decide <id> retained|exit_confirmed [--last-day YYYY-MM-DD] [--note TEXT]
                                             record HR's decision (again with another --last-day: move it)
  ems withdraw <id> [--note TEXT]            the employee withdraws the resignation
  ems emails [--case ID] [--limit N]         emails sent (or queued) by Notification
  ems login                                  sign in (the device grant: confirm a code in your browser);
                                             saved for EMS_URL in ~/.config/ems/credentials.json (mode 0600)
  ems logout                                 forget the saved sign-in (and revoke it at the provider)
  ems whoami                                 who EMS takes you for: person, roles
  ems tokens create --name TEXT --person ID [--days N]
                                             an API token acting as that person (operators; shown once)
  ems tokens list | ems tokens revoke <id>   API tokens (operators)
  ems provisioning-tokens create --name TEXT [--expires-in-days N]
                                             a SCIM client's token (Entra ID, Okta, an HR system) to provision
                                             the directory at <EMS URL>/scim/v2: printed once, with that URL
                                             (operators; default 365 days, at most 730)
  ems provisioning-tokens list | ems provisioning-tokens revoke <id>
                                             SCIM clients' tokens: never their secret, when each was last used
  ems exit <employeeId> --reason R [--revoke-at ISO] [--last-day YYYY-MM-DD] [--note TEXT] [--no-wait]
                                             an involuntary exit (HR lead): every grant suspended at once, then
                                             manager and employee told; access revoked at --revoke-at (default: the
                                             end of the last day, their zone); R: misconduct, redundancy,
                                             performance, end_of_contract or other. Follows progress until settled
  ems mass-exit <people.csv> --reason R [--revoke-at ISO] [--note TEXT] [--no-wait]
                                             the same for everyone in a CSV file (employee_id[,last_working_day]):
                                             one batch, a case each; all suspended before any email
  ems import <people.csv> [--dry-run] [--deactivate-missing]
                                             load the organisation's people from a CSV file into the directory
                                             (all or nothing; --dry-run: say what would change; HR lead, operator)
  ems credentials                            the secrets of a split deployment with the built-in provider, as
                                             env lines: the installation key (identity and webhooks only),
                                             each service's own client secret and database URL — its role's,
                                             on EMS_DATABASE_URL's server (default postgres:5432/ems, as in
                                             docker-compose.yml) — (keep the output secret)
  ems audit verify [--since-hash HASH --since-id ID]
                                             check the access audit's hash chain; reports the first broken
                                             link (exit 1); with the last id and hash of an earlier check,
                                             also that no entry was cut off the end (access admins, operators)
  ems dlq list [--subscriber NAME] [--all]    dead-lettered events (--all: also replayed ones)
  ems dlq replay <id>                        deliver a dead-lettered event again
  ems gateway                                one URL (EMS_PORT) for a split deployment: routes each path to
                                             the service serving it; EMS_GATEWAY_UPSTREAMS=
                                             "ems=http://ems:3000;hr=http://hr:3000;…" (a URL list per service)
  ems migrate                                as the database's admin: apply every service's migrations, install
                                             the bus's and the workflow engine's tables, make each service's
                                             role (passwords from EMS_SECRETS_KEY) — once per release, before
                                             replicas start; the all-in-one default does it itself
  ems seed                                   (re)load the demo organisation into the database
  ems help

The client commands talk to a running EMS at EMS_URL (default http://127.0.0.1:$EMS_PORT, port 3000),
signed in with \`ems login\`, or with EMS_TOKEN (an API token) for automation.
Configuration is read from EMS_* environment variables; see the README.`;

const out: Out = { log: (s) => process.stdout.write(`${s}\n`) };

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command !== undefined && !['help', '--help', '-h'].includes(command)) await checkEnvironment(process.env);
    switch (command) {
      case 'start':
        return await start(rest);
      case 'resign':
        return await resign(rest);
      case 'cases':
        return await cases(rest);
      case 'case':
        return await showCase(rest);
      case 'decide':
        return await decide(rest);
      case 'withdraw':
        return await withdraw(rest);
      case 'emails':
        return await emails(rest);
      case 'gateway':
        return await gateway();
      case 'migrate':
        return await migrateCommand();
      case 'seed':
        return await seed();
      case 'dlq':
        return await dlq(rest);
      case 'login':
        return await login();
      case 'logout':
        return await logoutCommand();
      case 'whoami':
        return await whoami();
      case 'tokens':
        return await tokens(rest);
      case 'exit':
      case 'mass-exit':
        return await (await import('./exits.ts')).exitCommand(command, rest, { baseUrl: baseUrl(), out: (s) => out.log(s), err: (s) => process.stderr.write(`${s}\n`) });
      case 'import':
        return await (await import('./import.ts')).importCommand(rest, { baseUrl: baseUrl(), out: (s) => out.log(s), err: (s) => process.stderr.write(`${s}\n`) });
      case 'provisioning-tokens':
        return await (await import('./provisioning-tokens.ts')).provisioningTokensCommand(rest, { baseUrl: baseUrl(), out: (s) => out.log(s), err: (s) => process.stderr.write(`${s}\n`) });
      case 'audit':
        return await audit(rest);
      case 'credentials':
        return await credentials();
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out.log(HELP);
        return 0;
      default:
        process.stderr.write(`Unknown command "${command}".\n\n${HELP}\n`);
        return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 78; // EX_CONFIG
    }
    if (err instanceof CliError || err instanceof SignInRequired || err instanceof CredentialsError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    if (typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(err as Error).message}\n\n${HELP}\n`);
      return 2;
    }
    throw err;
  }
}

class CliError extends Error {}

/** Every command refuses an EMS_* variable nobody reads (a misspelt setting), before it does anything. */
async function checkEnvironment(env: NodeJS.ProcessEnv): Promise<void> {
  const listed = ConfigSchema.shape.EMS_EXTENSIONS.safeParse(env.EMS_EXTENSIONS || undefined);
  const extensions = listed.success && listed.data ? listed.data.split(',').map((x) => x.trim()) : [];
  checkSettingNames(env, await extensionSettings(extensions));
}

/** Where mail goes, as it may be printed: scheme, host and port — never the credentials the URL may hold. */
export function mailServer(url: string | undefined): string {
  if (!url) return 'nowhere';
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}`;
  } catch {
    return '(an SMTP server)';
  }
}

/** A page of the web app, for a person to open: EMS's public URL when known here (the default's is localhost), else the URL the CLI talks to. */
function appLink(page: string): string {
  return appUrl(process.env.EMS_PUBLIC_URL || process.env.EMS_URL || `http://localhost:${process.env.EMS_PORT || '3000'}`, page);
}

function baseUrl(): string {
  if (process.env.EMS_URL) return process.env.EMS_URL.replace(/\/+$/, '');
  return `http://127.0.0.1:${process.env.EMS_PORT || '3000'}`;
}

async function api<T>(method: 'GET' | 'POST' | 'DELETE', p: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const credentials = await authorization(baseUrl());
  let res: Response;
  try {
    res = await fetch(`${baseUrl()}${p}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), authorization: credentials, ...headers },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch {
    throw new CliError(`Cannot reach EMS at ${baseUrl()} — is it running? (npm start)`);
  }
  const json = (await res.json().catch(() => ({}))) as T & { title?: string; detail?: string };
  if (res.status === 401) throw new CliError(`401 ${json.detail ?? 'Unauthorized'} — sign in again: ems login`);
  if (res.status >= 400) throw new CliError(`${res.status} ${json.title ?? ''}: ${json.detail ?? ''}`.trim());
  return { status: res.status, body: json };
}

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { service: { type: 'string', multiple: true }, fleet: { type: 'boolean' }, replicas: { type: 'string' } } });
  if (values.fleet && values.service?.length) throw new CliError('Use either --fleet or --service, not both');
  const env = values.service?.length ? { ...process.env, EMS_SERVICES: values.service.join(',') } : process.env;
  const config = loadConfig(env);
  const log = createLogger({ level: config.logLevel });
  if (values.fleet) return fleet(config, log, values.replicas);
  const { startEms } = await server.app();
  let ems: Awaited<ReturnType<typeof startEms>>;
  try {
    ems = await startEms(config, { log });
  } catch (err) {
    if (err instanceof ConfigError) throw err; // the message says what to change: no stack, exit 78
    log.error({ err }, 'start-up failed');
    throw new CliError(`EMS could not start: ${err instanceof Error ? err.message : String(err)}`);
  }
  const port = new URL(ems.url).port;
  if (supervised()) {
    // A fleet member: the supervisor prints the one banner (its gateway's URL is the one to use).
    const done = untilStopped(log, () => ems.stop(), () => out.log('EMS stopped.'));
    out.log(`service ${config.services.join(',')} ready on port ${port} (pid ${process.pid})`);
    return done;
  }
  const shown = config.publicUrl ?? `http://localhost:${port}`;
  // Told how to stop before anyone is told it is up: a SIGINT sent on reading the banner must find the handler.
  const done = untilStopped(log, () => ems.stop(), () => out.log('EMS stopped.'));
  // One write: whoever waits for "EMS is up" reads the whole banner with it.
  out.log(
    [
      `\nEMS is up: ${shown}   (API docs: ${shown}/docs)`,
      `  mode: ${config.mode}; database: ${ems.embedded ? `embedded PostgreSQL in ${config.dataDir}` : 'external PostgreSQL'}`,
      `  mail: ${ems.smtp ? `captured by the built-in SMTP server (${ems.smtp.url}); read them at ${appUrl(shown, AppPaths.mailbox)}` : `sent through ${mailServer(config.smtpUrl)}`}`,
      `  ${ems.auth.signInHint}`,
      `  try:  EMS_PORT=${port} npx ems login   (then: npx ems resign E1010)\n`,
    ].join('\n'),
  );
  return done;
}

/** A graceful stop that does not finish in this long is cut short (exit 1), naming what it waits on. */
const SHUTDOWN_GRACE_MS = 30_000;
/** After a graceful stop the process exits by itself (nothing left open); anything still open this long after is named, and the process exits anyway. */
const EXIT_GRACE_MS = 5_000;

/** Started by `ems start --fleet`: a member, with an IPC channel to its supervisor. */
function supervised(): boolean {
  return typeof process.send === 'function';
}

/**
 * Runs until told to stop, then stops gracefully and resolves with the exit code — and makes sure the
 * process does exit: what a stop leaves open (or a stop that hangs) is named in the log, and the process
 * exits after a bounded grace period all the same. Told to stop by:
 * - SIGINT or SIGTERM (a repeated signal — a process group and a wrapper both passing it on — changes nothing);
 * - a fleet member: its supervisor gone, however it died (the IPC channel closes);
 * - started by npm (`npx ems start`): its parent gone. `kill <npx>` (SIGTERM) kills npm and the shell it runs
 *   `ems` under, and the shell passes nothing on: EMS, orphaned, would otherwise run on with nobody to stop it.
 *   (SIGINT to npx alone reaches no one — the shell neither dies of it nor passes it on — while Ctrl-C in a
 *   terminal signals the whole process group, EMS included.)
 */
function untilStopped(log: Logger, stop: () => Promise<void>, stopped: () => void): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onStop = (reason: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ reason }, 'shutting down');
      const hung = setTimeout(() => {
        log.error({ openHandles: process.getActiveResourcesInfo() }, `shutdown still unfinished after ${SHUTDOWN_GRACE_MS / 1000} s: exiting without it`);
        process.exit(1);
      }, SHUTDOWN_GRACE_MS);
      void stop()
        .then(
          () => 0,
          (err: unknown) => {
            log.error({ err }, 'shutdown failed');
            return 1;
          },
        )
        .then((code) => {
          clearTimeout(hung);
          stopped();
          setTimeout(() => {
            log.warn({ openHandles: process.getActiveResourcesInfo() }, 'still open after the shutdown: exiting anyway');
            process.exit(code);
          }, EXIT_GRACE_MS).unref();
          resolve(code);
        });
    };
    process.on('SIGINT', () => onStop('SIGINT'));
    process.on('SIGTERM', () => onStop('SIGTERM'));
    if (supervised()) {
      process.channel?.unref(); // the channel alone must not keep a stopped member alive
      process.once('disconnect', () => onStop('supervisor gone'));
    } else if (process.env.npm_command !== undefined) {
      const parent = process.ppid;
      const watch = setInterval(() => {
        if (!processAlive(parent)) {
          clearInterval(watch);
          onStop('parent process gone');
        }
      }, 500);
      watch.unref();
    }
  });
}

async function gateway(): Promise<number> {
  const config = loadConfig();
  const upstreams = parseUpstreams(process.env.EMS_GATEWAY_UPSTREAMS ?? '');
  const { learnRoutes, startGateway } = await server.gateway();
  const routes = await learnRoutes([...upstreams].map(([service, urls]) => ({ service, url: urls[0]! })));
  const running = await startGateway({ port: config.port, host: config.host, routes, upstreams: (s) => upstreams.get(s) ?? [], timeouts: config.http.timeouts });
  const done = untilStopped(createLogger({ level: config.logLevel }), () => running.stop(), () => out.log('EMS gateway stopped.'));
  out.log(`EMS gateway on ${config.host}:${config.port} → ${[...upstreams].map(([s, u]) => `${s}: ${u.join(' ')}`).join('; ')}`);
  return done;
}

function parseUpstreams(text: string): Map<ServiceName, string[]> {
  const map = new Map<ServiceName, string[]>();
  for (const part of text.split(';').map((p) => p.trim()).filter(Boolean)) {
    const [name, list] = part.split('=', 2).map((x) => x.trim());
    if (!name || !list || !(SERVICE_NAMES as readonly string[]).includes(name)) throw new CliError(`EMS_GATEWAY_UPSTREAMS: "${part}" is not <service>=<url>[,<url>…] with a service among ${SERVICE_NAMES.join(', ')}`);
    const urls = list.split(',').map((u) => u.trim().replace(/\/+$/, ''));
    if (urls.some((u) => !/^https?:\/\/[^\s]+$/.test(u))) throw new CliError(`EMS_GATEWAY_UPSTREAMS: ${name} has a URL that is not http(s)://…`);
    map.set(name as ServiceName, urls);
  }
  if (!map.has('ems')) throw new CliError('EMS_GATEWAY_UPSTREAMS must name at least the ems service, e.g. "ems=http://ems:3000;hr=http://hr:3000"');
  return map;
}

async function fleet(config: Config, log: ReturnType<typeof createLogger>, replicasArg: string | undefined): Promise<number> {
  const replicas = replicasArg === undefined ? 1 : Number(replicasArg);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 8) throw new CliError('--replicas must be a whole number from 1 to 8');
  const { startFleet, FleetError } = await server.fleet();
  let running: Awaited<ReturnType<typeof startFleet>>;
  try {
    running = await startFleet(config, log, { replicas, print: (line) => process.stdout.write(`${line}\n`) });
  } catch (err) {
    if (err instanceof FleetError) throw new CliError(`EMS could not start: ${err.message}`);
    throw err;
  }
  // The one banner: members print one line each; every URL here goes through the gateway.
  const shown = config.publicUrl ?? `http://localhost:${config.port}`;
  const done = untilStopped(log, () => running.stop(), () => out.log('EMS fleet stopped.'));
  out.log(
    [
      `\nEMS fleet is up: ${shown}   (API docs: ${shown}/docs)`,
      `  a fleet of ${running.replicas.length} processes behind a gateway on port ${config.port}: ${running.replicas.map((r) => `${r.service}-${r.index}:${r.port}`).join(', ')}`,
      `  sign in: ${shown}/auth/login (browser) · EMS_URL=${running.url} npx ems login (CLI)${config.auth.externalIssuer ? ` — with ${config.auth.externalIssuer}` : ' — built-in development provider'}`,
      `  try:  EMS_URL=${running.url} npx ems login   (then: EMS_URL=${running.url} npx ems resign E1010)\n`,
    ].join('\n'),
  );
  return done;
}

interface CaseJson {
  id: string;
  employeeId: string;
  employeeName: string;
  status: string;
  lastWorkingDay: string;
  steps: Record<string, { status: string; at: string | null; attempts: number; lastError: string | null }>;
}

async function resign(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'last-day': { type: 'string' }, reason: { type: 'string' }, 'reason-category': { type: 'string' }, 'no-wait': { type: 'boolean' }, 'idempotency-key': { type: 'string' } },
  });
  const employeeId = positionals[0];
  if (!employeeId) throw new CliError('Usage: ems resign <employeeId> [--last-day YYYY-MM-DD] [--reason TEXT] [--reason-category career|compensation|management|relocation|personal|other]');
  const body: Record<string, string> = { employeeId };
  if (values['last-day']) body.lastWorkingDay = values['last-day'];
  if (values.reason) body.reason = values.reason;
  if (values['reason-category']) body.reasonCategory = values['reason-category'];
  // One key per invocation: should the answer be lost, re-running with --idempotency-key K is safe.
  const key = values['idempotency-key'] ?? randomUUID();
  const created = await api<CaseJson>('POST', '/api/resignations', body, { 'idempotency-key': key });
  out.log(`Resignation ${created.body.id} submitted for ${created.body.employeeName ?? employeeId}.`);
  if (values['no-wait']) return 0;
  const deadline = Date.now() + 30_000;
  let c = created.body;
  // Until the reactions are done and the case has settled (its status follows its steps a moment later).
  while (Date.now() < deadline && (c.status === 'in_progress' || Object.values(c.steps).some((s) => s.status === 'pending' || s.status === 'late'))) {
    await new Promise((r) => setTimeout(r, 250));
    const last = c;
    c = await api<CaseJson>('GET', `/api/resignations/${created.body.id}`).then(
      (r) => r.body,
      () => last, // a failed poll: ask again
    );
  }
  const timeline = await api<{ items: TimelineJson[] }>('GET', `/api/resignations/${c.id}/timeline`);
  // Read the case again after its timeline: the status printed is never older than the story printed with it.
  const latest = await api<CaseJson>('GET', `/api/resignations/${c.id}`).then((r) => r.body, () => c);
  printCase(out, latest, timeline.body.items, appLink(AppPaths.case(latest.id)));
  return 0;
}

interface TimelineJson {
  at: string;
  service: string;
  type: string;
  summary: string;
  correlationId: string;
}

async function cases(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { status: { type: 'string' }, stuck: { type: 'boolean' }, limit: { type: 'string' } } });
  const q = new URLSearchParams();
  if (values.stuck) q.set('status', 'stuck');
  else if (values.status) q.set('status', values.status);
  q.set('limit', values.limit ?? '50');
  const r = await api<{ items: CaseJson[] }>('GET', `/api/resignations?${q.toString()}`);
  printCases(out, r.body.items);
  return 0;
}

async function showCase(args: string[]): Promise<number> {
  const id = args[0];
  if (!id) throw new CliError('Usage: ems case <id>');
  const c = await api<CaseJson>('GET', `/api/resignations/${encodeURIComponent(id)}`);
  const t = await api<{ items: TimelineJson[] }>('GET', `/api/resignations/${encodeURIComponent(id)}/timeline`);
  printCase(out, c.body, t.body.items, appLink(AppPaths.case(c.body.id)));
  return 0;
}

async function decide(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'last-day': { type: 'string' }, note: { type: 'string' } } });
  const [id, decision] = positionals;
  if (!id || (decision !== 'retained' && decision !== 'exit_confirmed')) {
    throw new CliError('Usage: ems decide <id> retained|exit_confirmed [--last-day YYYY-MM-DD] [--note TEXT]');
  }
  const body: Record<string, string> = { decision };
  if (values['last-day']) body.lastWorkingDay = values['last-day'];
  if (values.note) body.note = values.note;
  return showDecided(id, await api<CaseJson>('POST', `/api/resignations/${encodeURIComponent(id)}/decision`, body));
}

async function withdraw(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { note: { type: 'string' } } });
  const id = positionals[0];
  if (!id) throw new CliError('Usage: ems withdraw <id> [--note TEXT]');
  return showDecided(id, await api<CaseJson>('POST', `/api/resignations/${encodeURIComponent(id)}/withdrawal`, values.note ? { note: values.note } : {}));
}

async function showDecided(id: string, answer: { status: number; body: CaseJson }): Promise<number> {
  if (answer.status === 202) {
    out.log(`Decision for ${id} accepted; it is being applied. See it with: ems case ${id}`);
    return 0;
  }
  const t = await api<{ items: TimelineJson[] }>('GET', `/api/resignations/${encodeURIComponent(id)}/timeline`);
  printCase(out, answer.body, t.body.items, appLink(AppPaths.case(answer.body.id)));
  return 0;
}

async function emails(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { case: { type: 'string' }, limit: { type: 'string' } } });
  const q = new URLSearchParams();
  if (values.case) q.set('resignationId', values.case);
  q.set('limit', values.limit ?? '50');
  const r = await api<{ items: Array<{ id: string; to: string; subject: string; status: string; messageId: string | null; sentAt: string | null; createdAt: string }> }>('GET', `/api/emails?${q.toString()}`);
  printEmails(out, r.body.items);
  return 0;
}

interface DeadLetterJson {
  id: string;
  subscriber: string;
  eventId: string | null;
  eventType: string | null;
  reason: string;
  attempts: number;
  deadAt: string;
  replayedAt: string | null;
}

async function dlq(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list') {
    const { values } = parseArgs({ args: rest, options: { subscriber: { type: 'string' }, all: { type: 'boolean' }, limit: { type: 'string' } } });
    const q = new URLSearchParams({ limit: values.limit ?? '50' });
    if (values.subscriber) q.set('subscriber', values.subscriber);
    if (values.all) q.set('includeReplayed', 'true');
    const r = await api<{ items: DeadLetterJson[] }>('GET', `/api/dead-letters?${q.toString()}`);
    printDeadLetters(out, r.body.items);
    return 0;
  }
  if (sub === 'replay') {
    const id = rest[0];
    if (!id) throw new CliError('Usage: ems dlq replay <id>');
    const r = await api<DeadLetterJson>('POST', `/api/dead-letters/${encodeURIComponent(id)}/replay`);
    out.log(`Replayed ${r.body.id}: ${r.body.eventType ?? 'event'} ${r.body.eventId ?? ''} → ${r.body.subscriber}`);
    return 0;
  }
  throw new CliError('Usage: ems dlq list [--subscriber NAME] [--all] | ems dlq replay <id>');
}

async function login(): Promise<number> {
  await deviceLogin(baseUrl(), (line) => out.log(line));
  return whoami();
}

async function logoutCommand(): Promise<number> {
  out.log((await logout(baseUrl())) ? `Signed out of ${baseUrl()}.` : `Not signed in to ${baseUrl()}.`);
  return 0;
}

async function whoami(): Promise<number> {
  const me = await api<{ kind: string; id: string; name: string | null; roles: string[]; client: string; via: string }>('GET', '/api/me');
  out.log(`Signed in as ${me.body.name ?? me.body.id} (${me.body.id}) — roles: ${me.body.roles.join(', ') || 'none'}; via ${me.body.via} (${me.body.client}).`);
  return 0;
}

interface ApiTokenJson {
  id: string;
  name: string;
  personId: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  token?: string | null;
}

async function tokens(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'create') {
    const { values } = parseArgs({ args: rest, options: { name: { type: 'string' }, person: { type: 'string' }, days: { type: 'string' } } });
    if (!values.name || !values.person) throw new CliError('Usage: ems tokens create --name TEXT --person ID [--days N]');
    const body = { name: values.name, personId: values.person, ...(values.days ? { expiresInDays: Number(values.days) } : {}) };
    const r = await api<ApiTokenJson>('POST', '/api/api-tokens', body);
    out.log(`API token ${r.body.id} "${r.body.name}" acts as ${r.body.personId} until ${r.body.expiresAt ?? 'revoked'}.`);
    out.log('Here it is — it will not be shown again; store it as a secret:');
    out.log(r.body.token ?? '(not shown: it was created before)');
    return 0;
  }
  if (sub === 'list') {
    const r = await api<{ items: ApiTokenJson[] }>('GET', '/api/api-tokens?limit=200');
    for (const t of r.body.items) {
      out.log(`${t.id}  ${t.revokedAt ? 'revoked' : 'active '}  as ${t.personId.padEnd(12)} ${t.name}  (by ${t.createdBy}, last used ${t.lastUsedAt ?? 'never'})`);
    }
    if (!r.body.items.length) out.log('No API tokens.');
    return 0;
  }
  if (sub === 'revoke') {
    const id = rest[0];
    if (!id) throw new CliError('Usage: ems tokens revoke <id>');
    const r = await api<ApiTokenJson>('DELETE', `/api/api-tokens/${encodeURIComponent(id)}`);
    out.log(`API token ${r.body.id} revoked (${r.body.revokedAt}).`);
    return 0;
  }
  throw new CliError('Usage: ems tokens create --name TEXT --person ID [--days N] | ems tokens list | ems tokens revoke <id>');
}

/**
 * A split deployment's secrets, from EMS_SECRETS_KEY (or its file; a new key when neither is set): the key
 * goes to the identity service (the built-in provider) and to webhooks (secrets at rest); every other
 * service gets only its own client secret. Printed as env lines, e.g. for docker compose's .env file.
 */
async function credentials(): Promise<number> {
  const config = loadConfig();
  const { createSecrets, parseSecretsKey, clientSecretFor } = await import('@ems/identity');
  const { randomBytes } = await import('node:crypto');
  const keyText = config.auth.secretsKey ?? (config.auth.secretsKeyFile ? readFileSync(config.auth.secretsKeyFile, 'utf8').trim() : randomBytes(32).toString('base64'));
  const secrets = createSecrets(parseSecretsKey(keyText));
  out.log('# EMS credentials (keep this file secret): the key for identity and webhooks only, one client secret per service,');
  out.log("# and each service's database URL: its own role (made by `ems migrate` with this key), never the admin's.");
  out.log(`EMS_SECRETS_KEY=${keyText}`);
  for (const service of ['ems', 'notification', 'hr', 'access'] as const) {
    out.log(`EMS_SERVICE_CLIENT_SECRET_${service.toUpperCase()}=${clientSecretFor(secrets, `${config.auth.serviceClientPrefix}${service}`)}`);
  }
  // The server and database of EMS_DATABASE_URL (its user and password are not used), else docker-compose.yml's.
  const { rolePassword, roleUrl, extensionService } = await import('../database-roles.ts');
  const dbServer = new URL(config.databaseUrl ?? 'postgres://postgres:5432/ems');
  dbServer.username = '';
  dbServer.password = '';
  const database = databaseName(dbServer.toString());
  const roles = [...SERVICE_NAMES.filter((s) => s !== 'extensions'), ...config.extensions.map(extensionService)];
  for (const service of roles) {
    out.log(`DATABASE_URL_${service.toUpperCase()}=${roleUrl(dbServer.toString(), service, rolePassword(secrets, database, service))}`);
  }
  return 0;
}

async function audit(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'verify') throw new CliError('Usage: ems audit verify [--since-id ID --since-hash HASH]');
  const { values } = parseArgs({ args: rest, options: { 'since-id': { type: 'string' }, 'since-hash': { type: 'string' } } });
  const r = await api<{ ok: boolean; summary: string; rows: number; lastId?: number | null; lastHash?: string | null; firstBrokenId?: number }>('GET', '/api/access-audit/verification');
  out.log(r.body.summary);
  if (!r.body.ok) return 1;
  // An earlier check's last entry must still be there, with the same hash: nothing was cut off the end.
  if (values['since-id'] !== undefined || values['since-hash'] !== undefined) {
    if (!values['since-id'] || !values['since-hash']) throw new CliError('--since-id and --since-hash go together (the last id and hash an earlier check printed)');
    const earlier = await api<{ items: Array<{ id: number; hash: string }> }>('GET', `/api/access-audit?fromId=${encodeURIComponent(values['since-id'])}&limit=1`).catch(() => undefined);
    const entry = earlier?.body.items.find((e) => String(e.id) === values['since-id']);
    if (!entry || entry.hash !== values['since-hash']) {
      out.log(`Entry ${values['since-id']} of the earlier check is ${entry ? 'changed' : 'gone'}: entries were removed from the end of the audit.`);
      return 1;
    }
    out.log(`Entry ${values['since-id']} of the earlier check is still there, unchanged.`);
  }
  if (r.body.lastId !== undefined && r.body.lastId !== null) out.log(`To check later that nothing was cut off the end: ems audit verify --since-id ${r.body.lastId} --since-hash ${r.body.lastHash ?? ''}`);
  return 0;
}

/** Seeds through the database: the external one, the running embedded one, or a briefly started embedded one. */
async function seed(): Promise<number> {
  const config = loadConfig();
  const log = createLogger({ level: 'warn' });
  const { url, stop } = await databaseForCli(config);
  const pool = createPool(url, { max: 4, name: 'ems-seed' });
  try {
    const [{ buildServiceModulesForSeeding }, { seedAll }] = await Promise.all([server.modules(), server.seed()]);
    const modules = buildServiceModulesForSeeding(pool, log);
    for (const m of modules) await migrate(pool, m.schema, m.migrations);
    const org = demoOrg(config.seedEmployees);
    await seedAll(pool, modules, org);
    out.log(`Seeded the demo organisation: ${org.employees.length} employees, ${org.hrPartners.length} HR partners, ${org.systems.length} systems, ${org.grants.length} grants.`);
    return 0;
  } finally {
    await pool.end();
    await stop();
  }
}

/**
 * Applies every service's migrations, once, before replicas start (`ems start --service …` waits,
 * not ready, until the schemas are current; only the all-in-one default migrates by itself).
 */
async function migrateCommand(): Promise<number> {
  const config = loadConfig();
  const log = createLogger({ level: 'warn' });
  const { url, stop } = await databaseForCli(config);
  const pool = createPool(url, { max: 4, name: 'ems-migrate' });
  try {
    const { buildAllServiceModules } = await server.modules();
    const modules = await buildAllServiceModules(pool, log, config);
    for (const m of modules) {
      const applied = await migrate(pool, m.schema, m.migrations);
      out.log(`${m.schema.padEnd(14)} ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'} (at ${Math.max(0, ...m.migrations.map((x) => x.version))})`);
    }
    // The bus's and the workflow engine's tables: the services' roles use them but may not make them.
    const [{ installEventBus }, { BUS_SCHEMA, installWorkflowSchema, extensionService }, { dbosLogger }] = await Promise.all([
      import('@ems/eventbus'),
      import('../database-roles.ts'),
      import('@ems/ems'),
    ]);
    await installEventBus(pool, { schema: BUS_SCHEMA });
    out.log(`${BUS_SCHEMA.padEnd(14)} installed (the event bus)`);
    await installWorkflowSchema(url, dbosLogger(log));
    out.log(`${'dbos'.padEnd(14)} installed (the workflow engine)`);
    // Extensions come last (seed-modules.ts), each named by its module: its role's name.
    const firstExtension = modules.length - config.extensions.length;
    const roleModules = modules.map((m, i) => (i < firstExtension ? m : { name: extensionService(config.extensions[i - firstExtension]!), schema: m.schema }));
    await serviceRolesCommand(config, url, roleModules);
    return 0;
  } finally {
    await pool.end();
    await stop();
  }
}

/**
 * After migrating: one database role per service, reaching only its own schema and the bus (README,
 * "Database roles"). Their passwords are derived from the installation's secrets key when this command
 * has it; without it the roles are made without one.
 */
async function serviceRolesCommand(config: Config, url: string, modules: ReadonlyArray<{ name: string; schema: string }>): Promise<void> {
  const { ensureRolesFor, rolePassword } = await import('../database-roles.ts');
  const keyFile = config.auth.secretsKeyFile ?? (config.databaseUrl ? undefined : path.join(config.dataDir, 'secrets.key'));
  const keyText = config.auth.secretsKey ?? (keyFile && existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined);
  const { createSecrets, parseSecretsKey } = await import('@ems/identity');
  const secrets = keyText ? createSecrets(parseSecretsKey(keyText)) : undefined;
  const database = databaseName(url);
  const roles = await ensureRolesFor(url, modules, secrets ? (service) => rolePassword(secrets, database, service) : undefined).catch((err: unknown) => {
    if ((err as { code?: string }).code === '42501') {
      throw new CliError(`Migrations applied, but the service roles could not be made: the user of EMS_DATABASE_URL needs CREATEROLE (${(err as Error).message}).`);
    }
    throw err;
  });
  for (const r of roles) out.log(`role ${r.role.padEnd(20)} ${r.schemas.join(', ')}`);
  if (!secrets) out.log('(no secrets key: the roles have no password yet; run `ems migrate` again with EMS_SECRETS_KEY or EMS_SECRETS_KEY_FILE)');
}

async function databaseForCli(config: Config): Promise<{ url: string; stop: () => Promise<void> }> {
  if (config.databaseUrl) {
    await ensureDatabase(config.databaseUrl);
    return { url: config.databaseUrl, stop: async () => undefined };
  }
  // A running `ems start` holds the embedded cluster: connect to it over its socket (postmaster.pid lines 4
  // and 5: its port and socket directory; it listens on no TCP port).
  const pidFile = path.join(config.dataDir, 'pg', 'postmaster.pid');
  const passwordFile = path.join(config.dataDir, 'password');
  if (existsSync(pidFile) && existsSync(passwordFile)) {
    const [pid, , , port, socketDir] = readFileSync(pidFile, 'utf8').split('\n');
    if (pid && processAlive(Number(pid)) && port && socketDir?.trim()) {
      const password = readFileSync(passwordFile, 'utf8').trim();
      return { url: `postgres://ems:${encodeURIComponent(password)}@localhost:${port.trim()}/ems?host=${encodeURIComponent(socketDir.trim())}`, stop: async () => undefined };
    }
  }
  const pg = await startEmbeddedPostgres({ dataDir: config.dataDir, database: 'ems' });
  return { url: pg.url, stop: () => pg.stop() };
}
