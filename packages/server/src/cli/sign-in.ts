import { identity } from '@ems/contracts';
import type * as Client from 'openid-client';
import { CredentialsError, loadSignIn, saveSignIn, type SavedSignIn } from './credentials.ts';

/**
 * How the CLI gets its credentials: EMS_TOKEN (an API token, or any access token) for automation; otherwise
 * the sign-in saved by `ems login` (the OAuth device grant, RFC 8628), refreshed when it expires.
 */

export class SignInRequired extends Error {}

const loopback = (url: string) => /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(new URL(url).hostname);

async function authConfig(baseUrl: string): Promise<identity.AuthConfig> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${identity.IdentityPaths.authConfig}`, { signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new SignInRequired(`Cannot reach EMS at ${baseUrl} — is it running? (npm start)`);
  }
  if (!res.ok) throw new SignInRequired(`${baseUrl}${identity.IdentityPaths.authConfig} answered ${res.status}`);
  return identity.AuthConfig.parse(await res.json());
}

async function configuration(client: typeof Client, issuer: string, clientId: string): Promise<Client.Configuration> {
  // Plain http only to a provider on this machine (the built-in one); anything else must be https.
  return client.discovery(new URL(issuer), clientId, undefined, client.None(), loopback(issuer) ? { execute: [client.allowInsecureRequests] } : undefined);
}

/** The device grant: prints where to confirm, waits for the person to do it, saves the tokens. */
export async function deviceLogin(baseUrl: string, print: (line: string) => void): Promise<SavedSignIn> {
  const client = await import('openid-client');
  const auth = await authConfig(baseUrl);
  const config = await configuration(client, auth.issuer, auth.cliClientId);
  const device = await client.initiateDeviceAuthorization(config, { scope: 'openid profile email offline_access', resource: auth.apiAudience });
  print(`To sign in, open ${device.verification_uri_complete ?? device.verification_uri}`);
  print(`and check that it shows the code ${device.user_code}. Waiting (for ${Math.round(device.expires_in / 60)} minutes at most)…`);
  const tokens = await client.pollDeviceAuthorizationGrant(config, device);
  const entry: SavedSignIn = {
    issuer: auth.issuer,
    clientId: auth.cliClientId,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? null,
    expiresAt: Date.now() + (tokens.expires_in ?? 300) * 1000,
    person: typeof tokens.claims()?.sub === 'string' ? tokens.claims()!.sub : null,
  };
  saveSignIn(baseUrl, entry);
  return entry;
}

/** Forgets the saved sign-in, and revokes its refresh token at the provider. */
export async function logout(baseUrl: string): Promise<boolean> {
  const saved = loadSignIn(baseUrl);
  if (!saved) return false;
  if (saved.refreshToken) {
    const client = await import('openid-client');
    try {
      const config = await configuration(client, saved.issuer, saved.clientId);
      await client.tokenRevocation(config, saved.refreshToken, { token_type_hint: 'refresh_token' });
    } catch {
      // Signed out here either way; the provider forgets it at its expiry.
    }
  }
  saveSignIn(baseUrl, undefined);
  return true;
}

/** The Authorization header for a call to EMS at `baseUrl`. */
export async function authorization(baseUrl: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.EMS_TOKEN) return `Bearer ${env.EMS_TOKEN.trim()}`;
  let saved: SavedSignIn | undefined;
  try {
    saved = loadSignIn(baseUrl);
  } catch (err) {
    if (err instanceof CredentialsError) throw new SignInRequired(err.message);
    throw err;
  }
  if (!saved) throw new SignInRequired(`Not signed in to ${baseUrl}: run \`ems login\` (or set EMS_TOKEN to an API token).`);
  if (saved.expiresAt - 30_000 > Date.now()) return `Bearer ${saved.accessToken}`;
  if (!saved.refreshToken) throw new SignInRequired('Your sign-in has expired: run `ems login` again.');
  const client = await import('openid-client');
  const auth = await authConfig(baseUrl);
  try {
    const config = await configuration(client, saved.issuer, saved.clientId);
    const tokens = await client.refreshTokenGrant(config, saved.refreshToken, { resource: auth.apiAudience });
    const next: SavedSignIn = {
      ...saved,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token ?? saved.refreshToken,
      expiresAt: Date.now() + (tokens.expires_in ?? 300) * 1000,
    };
    saveSignIn(baseUrl, next);
    return `Bearer ${next.accessToken}`;
  } catch (err) {
    if (err instanceof client.ResponseBodyError) {
      saveSignIn(baseUrl, undefined);
      throw new SignInRequired('Your sign-in has expired or was revoked: run `ems login` again.');
    }
    throw new SignInRequired(`Could not refresh your sign-in with ${saved.issuer}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
