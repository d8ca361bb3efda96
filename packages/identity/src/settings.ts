import type { AdminRole, ServiceIdentity } from '@ems/contracts/policy';
import * as client from 'openid-client';
import type { OidcTrust } from './authenticate/security.ts';
import { ISSUER_PATH } from './dev-provider/dev-provider.http.ts';
import { clientConfiguration, isLoopbackUrl, metadataSource } from './oidc-metadata.ts';
import { clientSecretFor } from './dev-provider/provider.ts';
import type { Secrets } from './secrets.ts';

/** How a deployment signs people and services in (EMS_OIDC_* and friends). */
export interface IdentitySettings {
  /** The API's public base URL (links, the redirect URI, the built-in issuer). */
  publicUrl: string;
  /** The organisation's issuer; undefined → the built-in development provider at `<publicUrl>/oidc`. */
  externalIssuer: string | undefined;
  /** Where this process reaches the identity service (the built-in provider's back channel). */
  identityUrl: string;
  apiAudience: string;
  /** A service's audience is this prefix + its name. */
  serviceAudiencePrefix: string;
  /** A service's client id is this prefix + its name. */
  serviceClientPrefix: string;
  webClientId: string;
  /** The web client's secret at an external provider (the built-in one derives its own). */
  webClientSecret: string | undefined;
  cliClientId: string;
  personClaim: string;
  rolesClaim: string;
  roleMap: Readonly<Record<string, AdminRole>>;
  clockToleranceS: number;
  /** Access-token lifetime at the built-in provider. */
  accessTokenTtlS: number;
  sessionIdleMs: number;
  sessionAbsoluteMs: number;
  /** Secrets of this process's services at an external provider (the built-in one derives them). */
  serviceClientSecrets: Readonly<Partial<Record<ServiceIdentity, string>>>;
}

export const issuerOf = (s: IdentitySettings): string => s.externalIssuer ?? `${s.publicUrl}${ISSUER_PATH}`;
export const usesDevProvider = (s: IdentitySettings): boolean => s.externalIssuer === undefined;
export const discoveryUrlOf = (s: IdentitySettings): string =>
  `${s.externalIssuer ?? `${s.identityUrl}${ISSUER_PATH}`}/.well-known/openid-configuration`;
const insecureAllowed = (s: IdentitySettings): boolean => usesDevProvider(s) || isLoopbackUrl(issuerOf(s));

export function oidcTrust(s: IdentitySettings, hostedServices: readonly ServiceIdentity[]): OidcTrust {
  return {
    issuer: issuerOf(s),
    discoveryUrl: discoveryUrlOf(s),
    apiAudience: s.apiAudience,
    serviceAudience: (svc) => `${s.serviceAudiencePrefix}${svc}`,
    serviceClientId: (svc) => `${s.serviceClientPrefix}${svc}`,
    hostedServices,
    personClaim: s.personClaim,
    rolesClaim: s.rolesClaim,
    roleMap: s.roleMap,
    clockToleranceS: s.clockToleranceS,
  };
}

/** The secret a service presents to the provider: derived for the built-in one, configured for an external one. */
export function serviceClientSecret(s: IdentitySettings, secrets: Secrets | undefined, service: ServiceIdentity): string | undefined {
  if (s.serviceClientSecrets[service]) return s.serviceClientSecrets[service];
  if (usesDevProvider(s) && secrets) return clientSecretFor(secrets, `${s.serviceClientPrefix}${service}`);
  return undefined;
}

/** The web client's configuration at the provider, discovered once. */
export function webClient(s: IdentitySettings, secrets: Secrets) {
  const metadata = metadataSource(discoveryUrlOf(s), issuerOf(s));
  const secret = s.webClientSecret ?? clientSecretFor(secrets, s.webClientId);
  let config: Promise<client.Configuration> | undefined;
  const internal = new URL(s.identityUrl).origin;
  const publicOrigin = new URL(issuerOf(s)).origin;
  return {
    configuration: () => (config ??= metadata().then((m) => clientConfiguration(m, s.webClientId, secret, insecureAllowed(s))).catch((err: unknown) => {
      config = undefined;
      throw err;
    })),
    // The built-in provider is read at its internal address; the browser visits it at the public one.
    toBrowser: (url: string) => (usesDevProvider(s) && url.startsWith(`${internal}/`) ? `${publicOrigin}${url.slice(internal.length)}` : url),
    insecureAllowed: insecureAllowed(s),
  };
}

export { insecureAllowed };
