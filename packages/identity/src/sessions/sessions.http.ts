import { z } from 'zod';
import { HttpProblem, ProblemSchema, type App } from '@ems/platform';
import { identity, StorableLine } from '@ems/contracts';
import type { IdentityContext } from '../identity.context.ts';
import { readCookie } from '../authenticate/security.ts';
import { csrfTokenFor, SESSION_COOKIE, sessionCookie } from '../authenticate/session-cookie.ts';
import { constantTimeEqual } from '../secrets.ts';
import { beginSignIn, completeSignIn, refreshSession, sessionInfo, signOut } from './sessions.ts';

const SIGNIN_COOKIE = 'ems_signin';

/**
 * The browser's sign-in: /auth/login sends it to the provider, /auth/callback opens a session, /auth/session
 * tells the page who is signed in (and its CSRF token), /auth/refresh extends the session with the provider's
 * consent, /auth/logout ends it. Public routes: each checks the session cookie itself.
 */
export function registerSessionRoutes(app: App, ctx: IdentityContext): void {
  const secure = ctx.web.secureCookies;
  const clear = (name: string, path: string) => `${name}=; Path=${path}; HttpOnly; SameSite=Lax; Max-Age=0${secure ? '; Secure' : ''}`;
  /** Changes to a session need its CSRF token: another site must not be able to sign someone out or in. */
  const checkCsrf = (token: string | undefined, header: unknown) => {
    if (token && !(typeof header === 'string' && constantTimeEqual(header, csrfTokenFor(token)))) {
      throw new HttpProblem(403, 'this needs the X-CSRF-Token header (GET /auth/session gives it)', { type: 'https://ems.dev/problems/forbidden', title: 'Forbidden', extra: { permission: 'csrf' } });
    }
  };

  app.get(
    identity.IdentityPaths.authConfig,
    { config: { public: true }, schema: { tags: ['sign-in'], summary: 'What a client needs to sign in: the issuer, the CLI client id, the API audience', response: { 200: identity.AuthConfig } } },
    async () => ctx.authConfig,
  );

  app.get(
    identity.IdentityPaths.login,
    {
      config: { public: true },
      schema: { tags: ['sign-in'], summary: 'Sign in with the identity provider (a browser redirect); returnTo: a path of this site to come back to', querystring: z.object({ returnTo: StorableLine.max(500).optional() }) },
    },
    async (req, reply) => {
      const { location, state } = await beginSignIn(ctx, req.query.returnTo);
      return reply
        .header('set-cookie', `${SIGNIN_COOKIE}=${state}; Path=/auth/callback; HttpOnly; SameSite=Lax; Max-Age=600${secure ? '; Secure' : ''}`)
        .header('cache-control', 'no-store')
        .redirect(location, 303);
    },
  );

  app.get(
    identity.IdentityPaths.callback,
    { config: { public: true }, schema: { hide: true } },
    async (req, reply) => {
      const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
      const stateCookie = /(?:^|;\s*)ems_signin=([A-Za-z0-9._-]+)/.exec(req.headers.cookie ?? '')?.[1];
      const { token, returnTo, maxAgeS } = await completeSignIn(ctx, query, stateCookie);
      return reply
        .header('set-cookie', [sessionCookie(token, { secure, maxAgeS }), clear(SIGNIN_COOKIE, '/auth/callback')])
        .header('cache-control', 'no-store')
        .redirect(returnTo, 303);
    },
  );

  app.get(
    identity.IdentityPaths.session,
    { config: { public: true }, schema: { tags: ['sign-in'], summary: 'The signed-in person of this browser session, its roles and its CSRF token', response: { 200: identity.SessionInfo, 401: ProblemSchema } } },
    async (req, reply) => {
      void reply.header('cache-control', 'no-store');
      return sessionInfo(ctx, readCookie(req.headers.cookie, SESSION_COOKIE));
    },
  );

  app.post(
    identity.IdentityPaths.refresh,
    { config: { public: true }, schema: { tags: ['sign-in'], summary: 'Extend the session: the provider is asked again (needs X-CSRF-Token)', response: { 200: identity.SessionInfo, 401: ProblemSchema, 403: ProblemSchema } } },
    async (req) => {
      const token = readCookie(req.headers.cookie, SESSION_COOKIE);
      checkCsrf(token, req.headers['x-csrf-token']);
      return refreshSession(ctx, token);
    },
  );

  app.post(
    identity.IdentityPaths.logout,
    {
      config: { public: true },
      schema: { tags: ['sign-in'], summary: 'End the session here and at the provider (needs X-CSRF-Token); answers where to send the browser', response: { 200: z.object({ logoutUrl: z.string() }), 403: ProblemSchema } },
    },
    async (req, reply) => {
      const token = readCookie(req.headers.cookie, SESSION_COOKIE);
      checkCsrf(token, req.headers['x-csrf-token']);
      const result = await signOut(ctx, token);
      return reply.header('set-cookie', clear(SESSION_COOKIE, '/')).header('cache-control', 'no-store').send(result);
    },
  );
}
