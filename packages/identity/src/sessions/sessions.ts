import { randomUUID } from 'node:crypto';
import * as client from 'openid-client';
import { HttpProblem } from '@ems/platform';
import type { identity } from '@ems/contracts';
import type { IdentityContext } from '../identity.context.ts';
import { newToken, tokenHash } from '../secrets.ts';
import { csrfTokenFor } from '../authenticate/session-cookie.ts';

/**
 * Browser sessions (the web app signs in here, as a backend for its frontend): the provider's tokens stay on
 * the server; the browser holds only an HttpOnly cookie naming the session. A session lasts until its
 * `expiresAt` — moved forward by a refresh, which asks the provider again (a person disabled there is out at
 * the next refresh) — and never past its absolute lifetime.
 */

const SIGNIN_CONTEXT = 'identity.signin-state';

export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  exp: number;
}

const config = (ctx: IdentityContext): Promise<client.Configuration> => ctx.web.configuration();

/** Only a path on this site: never an open redirect. */
export function safeReturnTo(value: string | undefined): string {
  return value && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && value.length <= 500 ? value : '/';
}

/** Starts a sign-in: where to send the browser, and the encrypted state to keep in a short-lived cookie. */
export async function beginSignIn(ctx: IdentityContext, returnTo: string | undefined): Promise<{ location: string; state: string }> {
  const pending: PendingSignIn = {
    state: client.randomState(),
    nonce: client.randomNonce(),
    verifier: client.randomPKCECodeVerifier(),
    returnTo: safeReturnTo(returnTo),
    exp: Date.now() + 10 * 60_000,
  };
  const url = client.buildAuthorizationUrl(await config(ctx), {
    redirect_uri: `${ctx.web.publicUrl}/auth/callback`,
    scope: 'openid profile email offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
    code_challenge_method: 'S256',
    state: pending.state,
    nonce: pending.nonce,
    resource: ctx.authConfig.apiAudience,
  });
  return { location: ctx.web.toBrowser(url.href), state: ctx.secrets.encrypt(JSON.stringify(pending), SIGNIN_CONTEXT) };
}

/** Finishes a sign-in: checks state, nonce and PKCE with the provider, and opens a session for the directory person. */
export async function completeSignIn(ctx: IdentityContext, query: string, stateCookie: string | undefined): Promise<{ token: string; returnTo: string; maxAgeS: number }> {
  let pending: PendingSignIn;
  try {
    pending = JSON.parse(ctx.secrets.decrypt(stateCookie ?? '', SIGNIN_CONTEXT)) as PendingSignIn;
  } catch {
    throw new HttpProblem(400, 'This sign-in was not started here or has expired: start again at /auth/login');
  }
  if (pending.exp < Date.now()) throw new HttpProblem(400, 'This sign-in took too long: start again at /auth/login');
  let tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;
  try {
    tokens = await client.authorizationCodeGrant(await config(ctx), new URL(`${ctx.web.publicUrl}/auth/callback${query}`), {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
  } catch (err) {
    ctx.log.info({ err: err instanceof Error ? err.message : String(err) }, 'sign-in refused');
    throw new HttpProblem(401, `The identity provider did not sign you in: ${err instanceof Error ? err.message : 'unknown error'}`, { type: 'https://ems.dev/problems/unauthenticated', title: 'Unauthorized' });
  }
  const claims = tokens.claims();
  const person = claims ? await ctx.security.lookupClaims(claims) : undefined;
  if (person === 'deactivated') throw deactivatedAccount();
  if (!person) throw new HttpProblem(403, "You are signed in at the identity provider, but EMS's directory does not know you: ask HR to add you.", { type: 'https://ems.dev/problems/forbidden', title: 'Forbidden' });
  const now = ctx.clock.now();
  const token = newToken('');
  const absolute = new Date(now.getTime() + ctx.web.sessionAbsoluteMs);
  const expires = new Date(Math.min(absolute.getTime(), now.getTime() + ctx.web.sessionIdleMs));
  const id = randomUUID();
  await ctx.db
    .insertInto('sessions')
    .values({
      id,
      hash: tokenHash(token),
      person_id: person.id,
      client: 'web',
      created_at: now,
      expires_at: expires,
      absolute_expires_at: absolute,
      refresh_token: tokens.refresh_token ? ctx.secrets.encrypt(tokens.refresh_token, `identity.sessions.refresh:${id}`) : null,
      id_token: tokens.id_token ? ctx.secrets.encrypt(tokens.id_token, `identity.sessions.id:${id}`) : null,
    })
    .execute();
  ctx.log.info({ person: person.id, session: id }, 'signed in');
  return { token, returnTo: pending.returnTo, maxAgeS: (absolute.getTime() - now.getTime()) / 1000 };
}

async function liveSession(ctx: IdentityContext, token: string | undefined) {
  if (!token) return undefined;
  const row = await ctx.db.selectFrom('sessions').selectAll().where('hash', '=', tokenHash(token)).executeTakeFirst();
  if (!row || row.revoked_at || new Date(row.expires_at) <= ctx.clock.now()) return undefined;
  return row;
}

const noSession = () => new HttpProblem(401, 'No session: sign in at /auth/login', { type: 'https://ems.dev/problems/unauthenticated', title: 'Unauthorized' });
/** As the API says it (authenticate/security.ts): the fact, nothing else. */
const deactivatedAccount = () => new HttpProblem(401, 'this account is deactivated', { type: 'https://ems.dev/problems/unauthenticated', title: 'Unauthorized' });

export async function sessionInfo(ctx: IdentityContext, token: string | undefined): Promise<identity.SessionInfo> {
  const row = await liveSession(ctx, token);
  if (!row) throw noSession();
  const person = await ctx.security.lookup(row.person_id);
  if (person === 'deactivated') throw deactivatedAccount();
  if (!person) throw noSession();
  return {
    person: { id: person.id, name: person.name },
    roles: ctx.security.rolesOf(person),
    csrfToken: csrfTokenFor(token!),
    expiresAt: new Date(row.expires_at).toISOString(),
    absoluteExpiresAt: new Date(row.absolute_expires_at).toISOString(),
  };
}

/** Asks the provider again with the session's refresh token; a refusal ends the session. */
export async function refreshSession(ctx: IdentityContext, token: string | undefined): Promise<identity.SessionInfo> {
  const row = await liveSession(ctx, token);
  if (!row) throw noSession();
  const end = async (why: string) => {
    await ctx.db.updateTable('sessions').set({ revoked_at: ctx.clock.now() }).where('id', '=', row.id).execute();
    ctx.security.evict('session', tokenHash(token!));
    ctx.log.info({ session: row.id, why }, 'session ended at refresh');
    return noSession();
  };
  if (!row.refresh_token) throw await end('no refresh token');
  let tokens: client.TokenEndpointResponse;
  try {
    tokens = await client.refreshTokenGrant(await config(ctx), ctx.secrets.decrypt(row.refresh_token, `identity.sessions.refresh:${row.id}`), { resource: ctx.authConfig.apiAudience });
  } catch (err) {
    if (err instanceof client.ResponseBodyError) throw await end(err.error);
    throw new HttpProblem(503, 'The identity provider cannot be reached to refresh the session; try again shortly');
  }
  const now = ctx.clock.now();
  const expires = new Date(Math.min(new Date(row.absolute_expires_at).getTime(), now.getTime() + ctx.web.sessionIdleMs));
  await ctx.db
    .updateTable('sessions')
    .set({ expires_at: expires, ...(tokens.refresh_token ? { refresh_token: ctx.secrets.encrypt(tokens.refresh_token, `identity.sessions.refresh:${row.id}`) } : {}) })
    .where('id', '=', row.id)
    .execute();
  ctx.security.evict('session', tokenHash(token!));
  return sessionInfo(ctx, token);
}

/** Ends the session here and at the provider; returns where the browser goes to sign out of the provider too. */
export async function signOut(ctx: IdentityContext, token: string | undefined): Promise<{ logoutUrl: string }> {
  const row = await liveSession(ctx, token);
  const home = `${ctx.web.publicUrl}/`;
  if (!row) return { logoutUrl: home };
  await ctx.db.updateTable('sessions').set({ revoked_at: ctx.clock.now() }).where('id', '=', row.id).execute();
  ctx.security.evict('session', tokenHash(token!));
  const cfg = await config(ctx);
  if (row.refresh_token) {
    await client.tokenRevocation(cfg, ctx.secrets.decrypt(row.refresh_token, `identity.sessions.refresh:${row.id}`), { token_type_hint: 'refresh_token' }).catch((err: unknown) => ctx.log.warn({ err }, 'could not revoke the refresh token at the provider'));
  }
  const idToken = row.id_token ? ctx.secrets.decrypt(row.id_token, `identity.sessions.id:${row.id}`) : undefined;
  if (!cfg.serverMetadata().end_session_endpoint) return { logoutUrl: home };
  const url = client.buildEndSessionUrl(cfg, { post_logout_redirect_uri: home, ...(idToken ? { id_token_hint: idToken } : {}) });
  return { logoutUrl: ctx.web.toBrowser(url.href) };
}
