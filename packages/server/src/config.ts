import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { addressList, checkEnvNames, envBoolean, envDuration, envPort, envPostgresUrl, envSignedDuration, LOOPBACK_ADDRESSES, LOOPBACK_HOSTS, parseEnv, type HttpLimits } from '@ems/platform';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const url = z.string().refine((v) => /^https?:\/\/[^\s]+$/.test(v), 'must be an http:// or https:// URL').transform((v) => v.replace(/\/+$/, ''));

/** A request count of a rate limit: 0 switches it off. */
const limit = z.coerce.number().int().min(0).max(100_000_000);
/** Comma-separated IP addresses and CIDR blocks, or `none`. */
const addresses = (defaults: string) =>
  z
    .string()
    .default(defaults)
    .transform((v, ctx) => {
      const entries = v.trim() === 'none' ? [] : v.split(',').map((x) => x.trim()).filter(Boolean);
      try {
        addressList(entries);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `${(err as Error).message}: must be comma-separated addresses or CIDR blocks, or none` });
        return z.NEVER;
      }
      return entries;
    });

/**
 * Every setting EMS reads, in one schema: env name, default, check. The README's configuration table
 * is this schema in prose; keep them together.
 */
/** The services one process can host (`ems start --service …`); all of them by default. */
export const SERVICE_NAMES = ['ems', 'notification', 'hr', 'access', 'webhooks', 'extensions', 'identity'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const ConfigSchema = z.object({
  EMS_PORT: envPort.default(3000).describe('HTTP port of the API (0 = any free port)'),
  EMS_HOST: z.string().min(1).default('127.0.0.1').describe('Interface to listen on'),
  EMS_MODE: z.enum(['orchestration', 'choreography']).default('orchestration').describe('How the services are coordinated'),
  EMS_BUS: z.enum(['postgres', 'nats']).default('postgres').describe('Event bus adapter: postgres (pg-boss, no extra server) or nats (JetStream)'),
  EMS_NATS_URL: z
    .string()
    .regex(/^(nats|tls):\/\/[^\s,]+(,\s*(nats|tls):\/\/[^\s,]+)*$/, 'must be nats://host:port (comma-separated for a cluster)')
    .default('nats://127.0.0.1:4222')
    .describe('NATS servers, when EMS_BUS=nats'),
  EMS_NATS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, _ or -')
    .default('ems')
    .describe('Prefix of the JetStream streams and subjects (one installation per prefix)'),
  EMS_NATS_ACK_WAIT: envDuration.default(30_000).describe('NATS: a delivery held by a process that died comes back after this'),
  EMS_BUS_HANDLER_TIMEOUT: envDuration
    .default(30_000)
    .refine((ms) => ms >= 1_000 && ms <= 3_600_000, 'must be between 1s and 1h')
    .describe('PostgreSQL bus: a handler running longer counts as a failed attempt, and a delivery held by a replica that died comes back after this'),
  EMS_BUS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5).describe('Deliveries of an event to a subscriber before it is dead-lettered'),
  EMS_BUS_RETRY_BACKOFF_MS: z.coerce.number().int().min(10).max(600_000).default(500).describe('First redelivery delay; doubles each attempt'),
  EMS_STEP_DEADLINE_SECONDS: z.coerce.number().int().min(1).max(30 * 86_400).default(300).describe('A reaction missing this long after submission marks its step late'),
  EMS_SERVICES: z
    .string()
    .transform((v, ctx) => {
      const names = v.split(',').map((x) => x.trim()).filter(Boolean);
      const unknown = names.filter((n) => !(SERVICE_NAMES as readonly string[]).includes(n));
      if (unknown.length || !names.length) {
        ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of ${SERVICE_NAMES.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}` });
        return z.NEVER;
      }
      return [...new Set(names)] as ServiceName[];
    })
    .optional()
    .describe('The services this process runs (ems start --service sets it); default all'),
  EMS_REPLICA_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, . _ -')
    .optional()
    .describe("This replica's stable name (DBOS executor id): a replica restarted under the same name resumes its workflows"),
  EMS_REPLICA_DEAD_AFTER: envDuration.default(15_000).describe('An orchestration replica silent this long is presumed dead: a survivor resumes its workflows'),
  EMS_EXTENSIONS: z
    .string()
    .regex(/^\s*[@\w./-]+(\s*,\s*[@\w./-]+)*\s*$/, 'must be a comma-separated list of module names')
    .optional()
    .describe('Optional services to load, by module name, comma-separated'),
  EMS_DATABASE_URL: envPostgresUrl.optional().describe('External PostgreSQL; unset → embedded PostgreSQL in EMS_DATA_DIR'),
  EMS_DATA_DIR: z.string().min(1).default(path.join(ROOT, '.ems-data')).describe('Where embedded PostgreSQL keeps its data'),
  EMS_SMTP_URL: z.string().regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL').optional().describe('SMTP server for outgoing mail; unset → built-in capture server'),
  EMS_SMTP_FROM: z.string().min(3).default('EMS <ems@acme.example>').describe('From address of every email'),
  EMS_SMTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(256).default(16).describe('SMTP connections Notification keeps open (messages in flight at once); raise it for bursts if the relay allows'),
  EMS_SMTP_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(2_000).describe('First delay before an email is retried; doubles each attempt'),
  EMS_SEED: envBoolean.default(true).describe('Seed the demo organisation on first start'),
  EMS_SEED_EMPLOYEES: z.coerce.number().int().min(12).max(100_000).default(60).describe('Size of the demo organisation seeded (employees)'),
  EMS_PUBLIC_URL: url.optional().describe('Base URL used in links in emails; default http://localhost:EMS_PORT'),
  EMS_NOTICE_DAYS: z.coerce.number().int().min(1).max(365).default(28).describe('Default notice period when no last working day is given'),
  EMS_STEP_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(30).describe('Attempts per orchestration step before it is marked failed'),
  EMS_STEP_RETRY_INTERVAL_MS: z.coerce.number().int().min(10).max(600_000).default(500).describe('First retry delay of a step; doubles each attempt'),
  EMS_STEP_RETRY_MAX_INTERVAL: envDuration.default(30_000).describe('Longest wait between two attempts of a step'),
  EMS_WEBHOOKS_ALLOW_PRIVATE_TARGETS: envBoolean.default(false).describe('Allow webhook URLs on loopback/private networks (local demos, tests)'),
  EMS_WEBHOOKS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000).describe('Time limit of one webhook POST'),
  EMS_NOTIFICATION_URL: url.optional().describe('Base URL of the Notification service; default this process'),
  EMS_HR_URL: url.optional().describe('Base URL of the HR service; default this process'),
  EMS_ACCESS_URL: url.optional().describe('Base URL of the Access service; default this process'),
  EMS_ACCESS_RECONCILE_INTERVAL: envDuration
    .refine((ms) => ms >= 1_000, 'must be at least 1s')
    .default(300_000)
    .describe('Drift detection: how often Access compares every connected system with what it believes (e.g. 5m, 30s)'),
  EMS_ACCESS_SYSTEMS_FILE: z.string().min(1).optional().describe('JSON file of the systems Access carries its decisions to (LDAP, SCIM, signed HTTP), each with its connector settings; unset → built-in systems only (rows in Access)'),
  EMS_ACCESS_CONNECTOR_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(10).describe('Attempts of one change on a connected system (transient failures) before Access gives up on it'),
  EMS_ACCESS_CONNECTOR_TIMEOUT: envDuration
    .default(30_000)
    .refine((ms) => ms >= 100 && ms <= 600_000, 'must be between 100ms and 10m')
    .describe("Longest wait for a connected system's answer to one change (a timeout is retried)"),
  EMS_CASES_URL: url.optional().describe('Base URL of the EMS service (cases), where Notification, HR and Access check that a case exists; default this process'),
  EMS_FOLLOW_UP_SCHEDULE_WITHIN: envDuration.default(86_400_000).describe('No exit interview booked this long after submission → reminder to the HR partner (e.g. 1d, 4h)'),
  EMS_FOLLOW_UP_HELD_WITHIN: envDuration.default(86_400_000).describe('Interview not marked held this long after its end → reminder'),
  EMS_FOLLOW_UP_DECIDE_WITHIN: envDuration.default(7 * 86_400_000).describe('No decision this long after submission → reminder'),
  EMS_FOLLOW_UP_ESCALATE_AFTER: envDuration.default(2 * 86_400_000).describe('A reminder unanswered this long → one escalation to the HR lead'),
  EMS_CLOCK_OFFSET: envSignedDuration.optional().describe('Runs EMS this far ahead of (or, with -, behind) the system clock — for drills and tests of timers, never production'),
  EMS_OIDC_ISSUER: url.optional().describe("The organisation's OpenID provider (issuer URL); unset → the built-in development provider at EMS_PUBLIC_URL/oidc"),
  EMS_OIDC_CLIENT_ID: z.string().min(1).max(200).default('ems-web').describe('Client id of the web sign-in (authorization code + PKCE)'),
  EMS_OIDC_CLIENT_SECRET: z.string().min(1).max(500).optional().describe('Its secret at an external provider (the built-in one derives its own)'),
  EMS_OIDC_CLI_CLIENT_ID: z.string().min(1).max(200).default('ems-cli').describe('Client id of the CLI (a public client: device grant)'),
  EMS_OIDC_AUDIENCE: z.string().min(1).max(300).default('urn:ems:api').describe('Audience of user access tokens for the API'),
  EMS_OIDC_SERVICE_AUDIENCE_PREFIX: z.string().min(1).max(200).default('urn:ems:service:').describe("A service's token audience: this prefix + its name"),
  EMS_OIDC_SERVICE_CLIENT_PREFIX: z.string().min(1).max(200).default('ems-service-').describe("A service's client id: this prefix + its name"),
  EMS_OIDC_PERSON_CLAIM: z.string().regex(/^[A-Za-z0-9_:./-]{1,100}$/).optional().describe("The claim naming the person (a directory id or email); default sub with the built-in provider, email otherwise"),
  EMS_OIDC_ROLES_CLAIM: z.string().regex(/^[A-Za-z0-9_:./-]{1,100}$/).default('groups').describe('The claim of groups or roles an external provider sends'),
  EMS_OIDC_ROLE_MAP: z
    .string()
    .transform((v, ctx) => {
      const map: Record<string, 'hr_lead' | 'access_admin' | 'operator'> = {};
      for (const pair of v.split(/[;\n]/).map((p) => p.trim()).filter(Boolean)) {
        const [role, group] = pair.split('=').map((x) => x.trim());
        if ((role !== 'hr_lead' && role !== 'access_admin' && role !== 'operator') || !group) {
          ctx.addIssue({ code: 'custom', message: `"${pair}": must be role=group with role one of hr_lead, access_admin, operator` });
          return z.NEVER;
        }
        map[group] = role;
      }
      return map;
    })
    .optional()
    .describe('Administrative roles from the groups claim: "hr_lead=HR Leads;access_admin=IT Admins;operator=EMS Operators"'),
  EMS_OIDC_CLOCK_SKEW: envDuration.default(30_000).describe('Clock skew tolerated when checking exp and nbf'),
  EMS_IDENTITY_URL: url.optional().describe('Base URL of the identity service (the built-in provider), as this process reaches it; default this process'),
  EMS_SERVICE_CLIENT_SECRET_EMS: z.string().min(1).max(500).optional().describe("The ems service's client secret at an external provider"),
  EMS_SERVICE_CLIENT_SECRET_NOTIFICATION: z.string().min(1).max(500).optional().describe("The notification service's client secret"),
  EMS_SERVICE_CLIENT_SECRET_HR: z.string().min(1).max(500).optional().describe("The hr service's client secret"),
  EMS_SERVICE_CLIENT_SECRET_ACCESS: z.string().min(1).max(500).optional().describe("The access service's client secret"),
  EMS_SECRETS_KEY: z.string().min(1).optional().describe('The installation\'s secrets key (≥ 32 bytes, base64 or hex); unset → EMS_SECRETS_KEY_FILE'),
  EMS_SECRETS_KEY_FILE: z.string().min(1).optional().describe('A file holding it; unset → EMS_DATA_DIR/secrets.key, created on first start (mode 0600)'),
  EMS_DEV_IDENTITY_ALLOW_NETWORK: envBoolean.default(false).describe('Serve the built-in development provider on a non-loopback EMS_HOST (anyone reaching it signs in as anyone)'),
  EMS_DEV_IDENTITY_TOKEN_TTL: envDuration.default(600_000).describe('Lifetime of access tokens the built-in provider issues'),
  EMS_SESSION_IDLE: envDuration.default(3_600_000).describe('A browser session ends this long after its last refresh'),
  EMS_SESSION_MAX: envDuration.default(12 * 3_600_000).describe('…and never later than this after sign-in'),
  EMS_RATE_LIMIT_WINDOW: envDuration.default(60_000).describe('The window the rate limits count requests in'),
  EMS_RATE_LIMIT_PER_ADDRESS: limit.default(1_200).describe('Requests per window from one client address, before authentication (0 = no limit)'),
  EMS_RATE_LIMIT_PER_IDENTITY: limit.default(60_000).describe('Requests per window by one person, whatever their credential (0 = no limit)'),
  EMS_RATE_LIMIT_PER_SERVICE: limit.default(0).describe('Requests per window by one service identity (0 = no limit)'),
  EMS_RATE_LIMIT_EXEMPT: addresses(LOOPBACK_ADDRESSES.join(',')).describe('Client addresses never limited per address (addresses or CIDR blocks, or none); default loopback'),
  EMS_TRUSTED_PROXIES: addresses(LOOPBACK_ADDRESSES.join(',')).describe('Proxies whose X-Forwarded-For names the client (addresses or CIDR blocks, or none); default loopback (the fleet\'s gateway)'),
  EMS_HEADERS_TIMEOUT: envDuration.default(10_000).describe('A request whose headers have not all arrived after this is cut off'),
  EMS_REQUEST_TIMEOUT: envDuration.default(30_000).describe('A request (headers and body) not all arrived after this is cut off'),
  EMS_KEEP_ALIVE_TIMEOUT: envDuration.default(5_000).describe('An idle keep-alive connection is closed after this'),
  EMS_IDLE_TIMEOUT: envDuration.default(60_000).describe('A connection on which nothing moves this long is closed (keep it above 30s: Prefer: wait)'),
  EMS_ALLOWED_HOSTS: z
    .string()
    .regex(/^\s*(\*|[A-Za-z0-9.[\]:-]+)(\s*,\s*(\*|[A-Za-z0-9.[\]:-]+))*\s*$/, 'must be comma-separated host or host:port values, or *')
    .optional()
    .describe('Host header values answered besides those of EMS_PUBLIC_URL, the service URLs and loopback (host = any port; * = any host)'),
  EMS_CORS_ORIGINS: z
    .string()
    .regex(/^\s*https?:\/\/[^\s,/]+(\s*,\s*https?:\/\/[^\s,/]+)*\s*$/, 'must be comma-separated origins: scheme://host[:port], no path')
    .optional()
    .describe('Origins whose pages may call the API from the browser (exact scheme://host[:port]); unset → no CORS headers at all'),
  EMS_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level'),
});

export type EnvConfig = z.infer<typeof ConfigSchema>;

export interface Config {
  port: number;
  host: string;
  mode: 'orchestration' | 'choreography';
  bus: { adapter: 'postgres' | 'nats'; maxAttempts: number; backoffMs: number; handlerTimeoutMs: number; nats: { servers: string[]; prefix: string; ackWaitMs: number } };
  stepDeadlineSeconds: number;
  extensions: string[];
  webhooks: { allowPrivateTargets: boolean; timeoutMs: number };
  databaseUrl: string | undefined;
  dataDir: string;
  smtpUrl: string | undefined;
  smtpFrom: string;
  smtpRetryBaseMs: number;
  smtpMaxConnections: number;
  seed: boolean;
  seedEmployees: number;
  publicUrl: string | undefined;
  noticeDays: number;
  step: { maxAttempts: number; retryIntervalMs: number; maxIntervalMs: number };
  serviceUrls: { notification?: string | undefined; hr?: string | undefined; access?: string | undefined; cases?: string | undefined };
  /** Access's connected systems: the systems file, and how each change is attempted. */
  accessConnectors: { systemsFile: string | undefined; maxAttempts: number; timeoutMs: number };
  /** The services this process hosts; all of them in the embedded default. */
  services: ServiceName[];
  replicaId: string | undefined;
  replicaDeadAfterMs: number;
  logLevel: string;
  followUps: { scheduleWithinMs: number; heldWithinMs: number; decideWithinMs: number; escalateAfterMs: number };
  /** Drift detection's period (EMS_ACCESS_RECONCILE_INTERVAL). */
  accessReconcileIntervalMs: number;
  /** ms added to the system clock (EMS_CLOCK_OFFSET); undefined normally (the system clock). */
  clockOffsetMs: number | undefined;
  auth: AuthConfig;
  /** Rate limits, timeouts, the Host allow-list, CORS of the HTTP server (and the fleet's gateway). */
  http: HttpLimits;
}

export interface AuthConfig {
  externalIssuer: string | undefined;
  webClientId: string;
  webClientSecret: string | undefined;
  cliClientId: string;
  apiAudience: string;
  serviceAudiencePrefix: string;
  serviceClientPrefix: string;
  personClaim: string;
  rolesClaim: string;
  roleMap: Record<string, 'hr_lead' | 'access_admin' | 'operator'>;
  clockSkewMs: number;
  identityUrl: string | undefined;
  serviceClientSecrets: Partial<Record<'ems' | 'notification' | 'hr' | 'access', string>>;
  secretsKey: string | undefined;
  secretsKeyFile: string | undefined;
  devAllowNetwork: boolean;
  devTokenTtlMs: number;
  sessionIdleMs: number;
  sessionMaxMs: number;
}

/**
 * EMS_* variables read outside ConfigSchema on purpose: the CLI's own (where a client command finds EMS and
 * how it signs in), the gateway's upstreams, and the test support's switches. Every other EMS_* name must be
 * a ConfigSchema key or a setting a loaded extension declares.
 */
export const SETTINGS_OUTSIDE_SCHEMA = ['EMS_URL', 'EMS_TOKEN', 'EMS_CREDENTIALS_FILE', 'EMS_GATEWAY_UPSTREAMS', 'EMS_REQUIRE_SERVICES', 'EMS_NATS_SERVER_BIN'] as const;

/**
 * Reserved for test suites' own variables (EMS_TEST_DATABASE_URL, EMS_TEST_LOG_LEVEL, the fuzz suite's EMS_FUZZ_SEED, …):
 * never a setting, never refused — `EMS_FUZZ_RUNS=1000 npm test` must not stop the EMS processes other tests start.
 */
export const TEST_VARIABLE_PREFIXES = ['EMS_TEST_', 'EMS_FUZZ_'] as const;

/**
 * Stops start-up on an EMS_* variable EMS does not know — a typo (EMS_SMPT_URL) would otherwise leave its
 * setting at the default in silence — naming the nearest known setting. `extensionSettings`: the names the
 * loaded extensions declare (see extensionSettings in extensions.ts).
 */
export function checkSettingNames(env: NodeJS.ProcessEnv, extensionSettings: readonly string[] = []): void {
  checkEnvNames(env, {
    prefix: 'EMS_',
    known: [...Object.keys(ConfigSchema.shape), ...SETTINGS_OUTSIDE_SCHEMA, ...extensionSettings],
    reservedPrefixes: TEST_VARIABLE_PREFIXES,
    product: 'EMS',
  });
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const c = parseEnv(ConfigSchema, env);
  return {
    port: c.EMS_PORT,
    host: c.EMS_HOST,
    mode: c.EMS_MODE,
    bus: {
      adapter: c.EMS_BUS,
      maxAttempts: c.EMS_BUS_MAX_ATTEMPTS,
      backoffMs: c.EMS_BUS_RETRY_BACKOFF_MS,
      handlerTimeoutMs: c.EMS_BUS_HANDLER_TIMEOUT,
      nats: { servers: c.EMS_NATS_URL.split(',').map((x) => x.trim()), prefix: c.EMS_NATS_PREFIX, ackWaitMs: c.EMS_NATS_ACK_WAIT },
    },
    stepDeadlineSeconds: c.EMS_STEP_DEADLINE_SECONDS,
    extensions: c.EMS_EXTENSIONS ? c.EMS_EXTENSIONS.split(',').map((x) => x.trim()) : [],
    webhooks: { allowPrivateTargets: c.EMS_WEBHOOKS_ALLOW_PRIVATE_TARGETS, timeoutMs: c.EMS_WEBHOOKS_TIMEOUT_MS },
    databaseUrl: c.EMS_DATABASE_URL,
    dataDir: path.resolve(c.EMS_DATA_DIR),
    smtpUrl: c.EMS_SMTP_URL,
    smtpFrom: c.EMS_SMTP_FROM,
    smtpRetryBaseMs: c.EMS_SMTP_RETRY_BASE_MS,
    smtpMaxConnections: c.EMS_SMTP_MAX_CONNECTIONS,
    seed: c.EMS_SEED,
    seedEmployees: c.EMS_SEED_EMPLOYEES,
    publicUrl: c.EMS_PUBLIC_URL,
    noticeDays: c.EMS_NOTICE_DAYS,
    step: { maxAttempts: c.EMS_STEP_MAX_ATTEMPTS, retryIntervalMs: c.EMS_STEP_RETRY_INTERVAL_MS, maxIntervalMs: Math.max(c.EMS_STEP_RETRY_MAX_INTERVAL, c.EMS_STEP_RETRY_INTERVAL_MS) },
    serviceUrls: { notification: c.EMS_NOTIFICATION_URL, hr: c.EMS_HR_URL, access: c.EMS_ACCESS_URL, cases: c.EMS_CASES_URL },
    accessConnectors: { systemsFile: c.EMS_ACCESS_SYSTEMS_FILE, maxAttempts: c.EMS_ACCESS_CONNECTOR_MAX_ATTEMPTS, timeoutMs: c.EMS_ACCESS_CONNECTOR_TIMEOUT },
    services: c.EMS_SERVICES ?? [...SERVICE_NAMES],
    replicaId: c.EMS_REPLICA_ID,
    replicaDeadAfterMs: c.EMS_REPLICA_DEAD_AFTER,
    logLevel: c.EMS_LOG_LEVEL,
    followUps: {
      scheduleWithinMs: c.EMS_FOLLOW_UP_SCHEDULE_WITHIN,
      heldWithinMs: c.EMS_FOLLOW_UP_HELD_WITHIN,
      decideWithinMs: c.EMS_FOLLOW_UP_DECIDE_WITHIN,
      escalateAfterMs: c.EMS_FOLLOW_UP_ESCALATE_AFTER,
    },
    accessReconcileIntervalMs: c.EMS_ACCESS_RECONCILE_INTERVAL,
    clockOffsetMs: c.EMS_CLOCK_OFFSET,
    http: {
      rate: {
        windowMs: c.EMS_RATE_LIMIT_WINDOW,
        perAddress: c.EMS_RATE_LIMIT_PER_ADDRESS,
        perIdentity: c.EMS_RATE_LIMIT_PER_IDENTITY,
        perService: c.EMS_RATE_LIMIT_PER_SERVICE,
        exemptAddresses: c.EMS_RATE_LIMIT_EXEMPT,
      },
      timeouts: { headersMs: c.EMS_HEADERS_TIMEOUT, requestMs: c.EMS_REQUEST_TIMEOUT, keepAliveMs: c.EMS_KEEP_ALIVE_TIMEOUT, idleMs: c.EMS_IDLE_TIMEOUT },
      allowedHosts: allowedHosts(c),
      trustedProxies: c.EMS_TRUSTED_PROXIES,
      corsOrigins: c.EMS_CORS_ORIGINS ? c.EMS_CORS_ORIGINS.split(',').map((x) => x.trim()) : [],
      https: (c.EMS_PUBLIC_URL ?? '').startsWith('https://'),
    },
    auth: {
      externalIssuer: c.EMS_OIDC_ISSUER,
      webClientId: c.EMS_OIDC_CLIENT_ID,
      webClientSecret: c.EMS_OIDC_CLIENT_SECRET,
      cliClientId: c.EMS_OIDC_CLI_CLIENT_ID,
      apiAudience: c.EMS_OIDC_AUDIENCE,
      serviceAudiencePrefix: c.EMS_OIDC_SERVICE_AUDIENCE_PREFIX,
      serviceClientPrefix: c.EMS_OIDC_SERVICE_CLIENT_PREFIX,
      personClaim: c.EMS_OIDC_PERSON_CLAIM ?? (c.EMS_OIDC_ISSUER ? 'email' : 'sub'),
      rolesClaim: c.EMS_OIDC_ROLES_CLAIM,
      roleMap: c.EMS_OIDC_ROLE_MAP ?? {},
      clockSkewMs: c.EMS_OIDC_CLOCK_SKEW,
      identityUrl: c.EMS_IDENTITY_URL,
      serviceClientSecrets: Object.fromEntries(
        Object.entries({ ems: c.EMS_SERVICE_CLIENT_SECRET_EMS, notification: c.EMS_SERVICE_CLIENT_SECRET_NOTIFICATION, hr: c.EMS_SERVICE_CLIENT_SECRET_HR, access: c.EMS_SERVICE_CLIENT_SECRET_ACCESS }).filter(([, v]) => v !== undefined),
      ),
      secretsKey: c.EMS_SECRETS_KEY,
      secretsKeyFile: c.EMS_SECRETS_KEY_FILE,
      devAllowNetwork: c.EMS_DEV_IDENTITY_ALLOW_NETWORK,
      devTokenTtlMs: c.EMS_DEV_IDENTITY_TOKEN_TTL,
      sessionIdleMs: c.EMS_SESSION_IDLE,
      sessionMaxMs: c.EMS_SESSION_MAX,
    },
  };
}

/**
 * The Host values EMS answers to (against DNS rebinding): loopback names on any port, the hosts of the URLs
 * this installation is reached by (its public URL, the service URLs it hands its peers), and EMS_ALLOWED_HOSTS.
 */
function allowedHosts(c: EnvConfig): string[] {
  const extra = c.EMS_ALLOWED_HOSTS ? c.EMS_ALLOWED_HOSTS.split(',').map((x) => x.trim().toLowerCase()) : [];
  const urls = [c.EMS_PUBLIC_URL, c.EMS_IDENTITY_URL, c.EMS_CASES_URL, c.EMS_NOTIFICATION_URL, c.EMS_HR_URL, c.EMS_ACCESS_URL];
  const own = urls.flatMap((u) => {
    if (!u) return [];
    const { host, hostname, port } = new URL(u);
    // Host carries the port only when it is not the scheme's default: accept both spellings.
    return port ? [host] : [hostname, `${hostname}:${u.startsWith('https:') ? 443 : 80}`];
  });
  return [...new Set([...LOOPBACK_HOSTS, ...own, ...extra])];
}
