import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { SERVICE_IDENTITIES, type PolicyTable, type ServiceIdentity } from '@ems/contracts/policy';
import type { Logger } from '@ems/platform';
import type { IdentityDb } from '../db/identity.db.ts';
import { findPerson } from '../directory/directory.ts';
import type { Secrets } from '../secrets.ts';
import { postgresAdapter } from './adapter.ts';
import { SIGNING_ALG, type SigningKeys } from './keys.ts';
import { esc, page } from './pages.ts';

/**
 * The built-in OpenID provider of the embedded default: oidc-provider (an OpenID Certified™ implementation),
 * mounted at `<public URL>/oidc`. Its users are the directory's people; its sign-in page lets you pick one.
 * Clients:
 * - the web app (authorization code + PKCE, confidential, refresh tokens),
 * - the CLI (public: the device grant, RFC 8628, or authorization code + PKCE on a loopback redirect),
 * - one client per service (client credentials), each allowed exactly the audiences of the services whose
 *   operations the policy table lets it call.
 * Access tokens are JWTs (RFC 9068) for one audience: the API's, or one service's.
 */
export interface DevProviderOptions {
  db: IdentityDb;
  secrets: Secrets;
  log: Logger;
  issuer: string;
  publicUrl: string;
  policy: PolicyTable;
  apiAudience: string;
  serviceAudience(service: ServiceIdentity): string;
  serviceClientId(service: ServiceIdentity): string;
  webClientId: string;
  cliClientId: string;
  /** Lifetime of access tokens (users and services), seconds. */
  accessTokenTtlS: number;
}

/** The secret of a service's (or the web app's) client at the built-in provider, derived from the secrets key. */
export const clientSecretFor = (secrets: Secrets, clientId: string) => secrets.derive(`oidc-client:${clientId}`);

/** Which audiences each service may ask a token for: those of the services whose operations list it. */
export function serviceAudiences(policy: PolicyTable): Map<ServiceIdentity, Set<ServiceIdentity>> {
  const may = new Map<ServiceIdentity, Set<ServiceIdentity>>(SERVICE_IDENTITIES.map((s) => [s, new Set()]));
  for (const op of Object.values(policy)) for (const caller of op.services ?? []) may.get(caller)!.add(op.service);
  return may;
}

export function createDevProvider(o: DevProviderOptions, keys: SigningKeys): Provider {
  const serviceClients = new Map(SERVICE_IDENTITIES.map((s) => [o.serviceClientId(s), s] as const));
  const mayReach = serviceAudiences(o.policy);
  const audienceOwner = new Map(SERVICE_IDENTITIES.map((s) => [o.serviceAudience(s), s] as const));
  const userClients = new Set([o.webClientId, o.cliClientId]);

  const configuration: Configuration = {
    adapter: postgresAdapter(o.db),
    jwks: { keys: keys.keys },
    cookies: { keys: [o.secrets.derive('oidc-cookies')] },
    clients: [
      {
        client_id: o.webClientId,
        client_name: 'EMS web app',
        client_secret: clientSecretFor(o.secrets, o.webClientId),
        redirect_uris: [`${o.publicUrl}/auth/callback`],
        post_logout_redirect_uris: [`${o.publicUrl}/`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
      {
        client_id: o.cliClientId,
        client_name: 'EMS command line',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        // RFC 8252: a loopback redirect on any port.
        redirect_uris: ['http://127.0.0.1/callback'],
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
      ...SERVICE_IDENTITIES.map((s) => ({
        client_id: o.serviceClientId(s),
        client_name: `EMS ${s} service`,
        client_secret: clientSecretFor(o.secrets, o.serviceClientId(s)),
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      })),
    ],
    clientDefaults: { id_token_signed_response_alg: SIGNING_ALG },
    async findAccount(_ctx, sub) {
      const person = await findPerson(o.db, sub);
      if (!person) return undefined;
      return { accountId: person.id, claims: async () => ({ sub: person.id, name: person.name, email: person.email, email_verified: true }) };
    },
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'api'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = page('Sign out', `<p>Sign out of the EMS development provider?</p>${form}<p><button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button></p>`);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page('Signed out', '<p>You are signed out. <a href="/">Back to EMS</a></p>');
        },
      },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        userCodeInputSource: async (ctx, form, _out, err) => {
          const msg = err ? '<p role="alert">That code is not valid (or has expired). Try again.</p>' : '<p>Enter the code your terminal shows.</p>';
          ctx.body = page('Sign in on a device', `${msg}${form.replace('<input ', '<label for="op.userCode">Code</label> <input id="op.userCode" ')}<p><button type="submit" form="op.deviceInputForm">Continue</button></p>`);
        },
        userCodeConfirmSource: async (ctx, form, client, _deviceInfo, userCode) => {
          ctx.body = page(
            'Confirm the device',
            `<p><strong>${esc(client.clientName ?? client.clientId)}</strong> asks to act as you. The code on its screen must be <code>${esc(userCode)}</code>.</p>${form}` +
              '<p><button type="submit" form="op.deviceConfirmForm">Continue</button> <button type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Cancel</button></p>',
          );
        },
        successSource: async (ctx) => {
          ctx.body = page('Signed in', '<p>Your device is signed in. You can close this page and go back to the terminal.</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, client) => (userClients.has(client.clientId) ? o.apiAudience : undefined),
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource, client) => {
          const caller = serviceClients.get(client.clientId);
          const owner = audienceOwner.get(resource);
          const allowed = resource === o.apiAudience ? userClients.has(client.clientId) : caller !== undefined && owner !== undefined && mayReach.get(caller)!.has(owner);
          if (!allowed) throw new errors.InvalidTarget(`${client.clientId} may not request a token for ${resource}`);
          return { scope: 'api', audience: resource, accessTokenTTL: o.accessTokenTtlS, accessTokenFormat: 'jwt', jwt: { sign: { alg: SIGNING_ALG } } };
        },
      },
    },
    // First-party clients only: the person picked on the sign-in page consents by signing in.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    interactions: { url: async (_ctx, interaction) => `/signin/${interaction.uid}` },
    pkce: { required: () => true },
    ttl: {
      AccessToken: o.accessTokenTtlS,
      ClientCredentials: o.accessTokenTtlS,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      Grant: 12 * 3600,
      Session: 12 * 3600,
      RefreshToken: 12 * 3600,
    },
    renderError: async (ctx: KoaContextWithOIDC, out) => {
      ctx.type = 'html';
      ctx.body = page('Sign-in failed', `<p role="alert">${esc(out.error_description ?? out.error)}</p><p><a href="/">Back to EMS</a></p>`);
    },
  };
  const provider = new Provider(o.issuer, configuration);
  provider.on('server_error', (_ctx, err) => o.log.error({ err }, 'identity provider error'));
  return provider;
}
