import path from 'node:path';
import { readFileSync } from 'node:fs';
import { ConfigError, createKysely, systemClock, type CallAuth, type Logger, type Pool, type ServiceModule } from '@ems/platform';
import { POLICY, SERVICE_IDENTITIES, type PolicyTable, type ServiceIdentity } from '@ems/contracts/policy';
import type { DemoOrg } from '@ems/demo-org';
import type { EventBus } from '@ems/eventbus';
import {
  createIdentityService,
  createSecrets,
  createSecurity,
  createServiceTokens,
  IDENTITY_SCHEMA,
  insecureAllowed,
  issuerOf,
  discoveryUrlOf,
  loadOrCreateKeyFile,
  oidcTrust,
  parseSecretsKey,
  serviceClientSecret,
  usesDevProvider,
  type IdentitySettings,
  type Secrets,
  type Security,
} from '@ems/identity';
import { SERVICE_NAMES, type Config, type ServiceName } from './config.ts';

/**
 * The trust boundary of one process, composed from the configuration: what it trusts (the provider,
 * the audiences, the directory), the identity service when it hosts it, and its services' own credentials
 * for calls to other services.
 */
export interface AuthSetup {
  settings: IdentitySettings;
  policy: PolicyTable;
  security: Security;
  /** The identity service, when this process hosts it. */
  identity: ServiceModule<DemoOrg> | undefined;
  /** The installation's secrets, when this process hosts identity or webhooks (or derives its client secrets). */
  secrets: Secrets | undefined;
  /** A hosted service's credentials for its calls; throws a ConfigError when it has none. */
  callAuth(service: 'ems' | 'notification' | 'hr' | 'access'): CallAuth;
  /** Printed at start: how a person signs in. */
  signInHint: string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function identitySettings(config: Config, selfUrl: string, publicUrl: string): IdentitySettings {
  const a = config.auth;
  return {
    publicUrl,
    externalIssuer: a.externalIssuer,
    identityUrl: a.identityUrl ?? selfUrl,
    apiAudience: a.apiAudience,
    serviceAudiencePrefix: a.serviceAudiencePrefix,
    serviceClientPrefix: a.serviceClientPrefix,
    webClientId: a.webClientId,
    webClientSecret: a.webClientSecret,
    cliClientId: a.cliClientId,
    personClaim: a.personClaim,
    rolesClaim: a.rolesClaim,
    roleMap: a.roleMap,
    clockToleranceS: Math.round(a.clockSkewMs / 1000),
    accessTokenTtlS: Math.max(10, Math.round(a.devTokenTtlMs / 1000)),
    sessionIdleMs: a.sessionIdleMs,
    sessionAbsoluteMs: a.sessionMaxMs,
    serviceClientSecrets: a.serviceClientSecrets,
  };
}

/** The installation's secrets key: EMS_SECRETS_KEY, EMS_SECRETS_KEY_FILE, or <data dir>/secrets.key (created once). */
export function loadSecrets(config: Config, log: Logger): Secrets {
  const a = config.auth;
  try {
    if (a.secretsKey) return createSecrets(parseSecretsKey(a.secretsKey));
    if (a.secretsKeyFile) return createSecrets(parseSecretsKey(readFileSync(a.secretsKeyFile, 'utf8')));
  } catch (err) {
    throw new ConfigError([`EMS_SECRETS_KEY${a.secretsKey ? '' : '_FILE'}: ${err instanceof Error ? err.message : String(err)}`]);
  }
  const file = path.join(config.dataDir, 'secrets.key');
  const { key, created } = loadOrCreateKeyFile(file);
  if (created) log.info({ file }, 'created the installation secrets key (keep it safe: it encrypts secrets at rest)');
  return createSecrets(key);
}

export function setupAuth(
  config: Config,
  o: {
    pool: Pool;
    log: Logger;
    selfUrl: string;
    publicUrl: string;
    extensionPolicies: readonly PolicyTable[];
    /** Where the identity service (when hosted) publishes the directory's changes (personChanged). */
    bus?: EventBus | undefined;
  },
): AuthSetup {
  const hosts = (s: ServiceName) => config.services.includes(s);
  const settings = identitySettings(config, o.selfUrl, o.publicUrl);
  const dev = usesDevProvider(settings);
  const policy: PolicyTable = o.extensionPolicies.reduce<PolicyTable>((all, p) => ({ ...all, ...p }), POLICY);
  // `provisioning` (a SCIM client) is an identity EMS admits, never a service it hosts.
  const hosted = SERVICE_IDENTITIES.filter((s): s is ServiceName => (SERVICE_NAMES as readonly string[]).includes(s) && hosts(s as ServiceName));

  if (dev && hosts('identity') && !LOOPBACK.test(config.host) && !config.auth.devAllowNetwork) {
    throw new ConfigError([
      `EMS_HOST=${config.host}: the built-in development identity provider lets anyone sign in as anyone, so it serves on loopback only. ` +
        'Connect your OpenID provider (EMS_OIDC_ISSUER, EMS_OIDC_CLIENT_ID, EMS_OIDC_CLIENT_SECRET), or set EMS_DEV_IDENTITY_ALLOW_NETWORK=true for a demo on a trusted network.',
    ]);
  }
  if (!dev && hosts('identity') && !settings.webClientSecret) {
    throw new ConfigError(['EMS_OIDC_CLIENT_SECRET: required with EMS_OIDC_ISSUER (the web sign-in is a confidential client)']);
  }

  // Secrets: for the identity service and the webhooks (their signing secrets at rest) always, and to derive
  // this process's client secrets at the built-in provider.
  const needsDerived = dev && hosted.some((s) => s !== 'identity' && s !== 'webhooks' && s !== 'extensions' && !settings.serviceClientSecrets[s as 'ems']);
  const secrets = hosts('identity') || hosts('webhooks') || needsDerived ? loadSecrets(config, o.log) : undefined;

  const security = createSecurity({
    db: createKysely(o.pool, IDENTITY_SCHEMA),
    log: o.log.child({ component: 'security' }),
    // Token and session lifetimes run on real time, whatever a drill does to the process's clock.
    clock: systemClock,
    policy,
    oidc: oidcTrust(settings, hosted),
    publicOrigin: new URL(o.publicUrl).origin,
  });

  const tokens = new Map<ServiceIdentity, CallAuth>();
  const callAuth = (service: 'ems' | 'notification' | 'hr' | 'access'): CallAuth => {
    const known = tokens.get(service);
    if (known) return known;
    const secret = serviceClientSecret(settings, secrets, service);
    if (!secret) throw new ConfigError([`EMS_SERVICE_CLIENT_SECRET_${service.toUpperCase()}: required — the ${service} service's client secret at the identity provider (its calls to other services carry its token)`]);
    const source = createServiceTokens({
      issuer: issuerOf(settings),
      discoveryUrl: discoveryUrlOf(settings),
      clientId: `${settings.serviceClientPrefix}${service}`,
      clientSecret: secret,
      audience: (target) => `${settings.serviceAudiencePrefix}${target}`,
      insecureAllowed: insecureAllowed(settings),
    });
    const auth: CallAuth = (target) => source.headers(target);
    tokens.set(service, auth);
    return auth;
  };

  const identity = hosts('identity')
    ? createIdentityService({ pool: o.pool, log: o.log, secrets: secrets!, security, settings, policy, bus: o.bus })
    : undefined;

  const signInHint = dev
    ? `sign in: ${o.publicUrl}/auth/login (browser) · npx ems login (CLI) — built-in development provider: pick anyone, on this machine only`
    : `sign in: ${o.publicUrl}/auth/login (browser) · npx ems login (CLI) — with ${issuerOf(settings)}`;
  return { settings, policy, security, identity, secrets, callAuth, signInHint };
}
