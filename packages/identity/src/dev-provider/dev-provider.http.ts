import type Provider from 'oidc-provider';
import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { HttpProblem, type App } from '@ems/platform';
import { StorableLine } from '@ems/contracts';
import type { IdentityDb } from '../db/identity.db.ts';
import { findPerson, listPeople } from '../directory/directory.ts';
import { esc, page } from './pages.ts';

export const ISSUER_PATH = '/oidc';
/** How many people the sign-in page lists before asking for a search. */
const LISTED = 40;

/**
 * The built-in provider on EMS's own HTTP server: its protocol endpoints under /oidc (handed the raw
 * request before Fastify reads a body: the provider parses its own), and the sign-in page at /signin/:uid.
 */
export function registerDevProviderRoutes(app: App, deps: { db: IdentityDb; provider: () => Provider | undefined }): void {
  const current = (): Provider => {
    const p = deps.provider();
    if (!p) throw new HttpProblem(503, 'The identity provider is starting');
    return p;
  };
  app.route({
    method: ['GET', 'POST', 'HEAD', 'OPTIONS', 'DELETE'],
    url: `${ISSUER_PATH}/*`,
    config: { public: true },
    schema: { hide: true },
    onRequest: (req, reply, done) => {
      let provider: Provider;
      try {
        provider = current();
      } catch (err) {
        done(err as Error);
        return;
      }
      reply.hijack();
      // Mounted under a path: the provider reads originalUrl to know its mount point.
      const raw = req.raw as typeof req.raw & { originalUrl?: string };
      raw.originalUrl = raw.url;
      raw.url = raw.url!.slice(ISSUER_PATH.length) || '/';
      void provider.callback()(raw, reply.raw);
    },
    handler: async () => undefined,
  });

  // The sign-in page posts a plain HTML form.
  void app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    scope.get(
      '/signin/:uid',
      { config: { public: true }, schema: { hide: true, params: z.object({ uid: StorableLine.max(100) }), querystring: z.object({ q: StorableLine.max(100).optional() }) } },
      async (req, reply) => {
        const provider = current();
        void reply.header('cache-control', 'no-store');
        const details = await provider.interactionDetails(req.raw, reply.raw).catch(() => undefined);
        if (!details) return reply.status(400).type('text/html; charset=utf-8').send(page('Sign-in expired', '<p role="alert">This sign-in has expired or was already used. <a href="/">Start again</a>.</p>'));
        if (details.prompt.name === 'consent') {
          // First-party clients: signing in is consenting. The grant gives exactly what the client asked.
          const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string });
          if (!grant) throw new HttpProblem(400, 'unknown grant');
          const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
          if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
          if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
          for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
          const grantId = await grant.save();
          const to = await provider.interactionResult(req.raw, reply.raw, { consent: { grantId } }, { mergeWithLastSubmission: true });
          return reply.redirect(to, 303);
        }
        const client = await provider.Client.find(details.params.client_id as string);
        return reply.type('text/html; charset=utf-8').send(await signInPage(deps.db, req.params.uid, client?.clientName ?? String(details.params.client_id), req.query.q));
      },
    );

    scope.post(
      '/signin/:uid',
      { config: { public: true }, schema: { hide: true, params: z.object({ uid: StorableLine.max(100) }), body: z.object({ person: StorableLine.min(1).max(320).optional(), cancel: StorableLine.max(100).optional() }) } },
      async (req, reply) => {
        const provider = current();
        const details = await provider.interactionDetails(req.raw, reply.raw).catch(() => undefined);
        if (!details || details.prompt.name !== 'login') return reply.status(400).type('text/html; charset=utf-8').send(page('Sign-in expired', '<p role="alert">This sign-in has expired or was already used. <a href="/">Start again</a>.</p>'));
        if (req.body.cancel || !req.body.person) {
          const to = await provider.interactionResult(req.raw, reply.raw, { error: 'access_denied', error_description: 'sign-in cancelled' }, { mergeWithLastSubmission: false });
          return reply.redirect(to, 303);
        }
        const person = await findPerson(deps.db, req.body.person);
        if (!person) return reply.status(400).type('text/html; charset=utf-8').send(page('Unknown person', `<p role="alert">No one in the directory is ${esc(req.body.person)}.</p>`));
        const to = await provider.interactionResult(req.raw, reply.raw, { login: { accountId: person.id, amr: ['dev'], remember: false } }, { mergeWithLastSubmission: false });
        return reply.redirect(to, 303);
      },
    );
  });
}

async function signInPage(db: IdentityDb, uid: string, clientName: string, q: string | undefined): Promise<string> {
  const people = await listPeople(db);
  const needle = q?.trim().toLowerCase();
  const match = needle ? people.filter((p) => `${p.id} ${p.name} ${p.email} ${p.title ?? ''}`.toLowerCase().includes(needle)) : people;
  const staff = match.filter((p) => p.kind !== 'employee' || p.adminRoles.length);
  const managers = match.filter((p) => p.kind === 'employee' && !p.adminRoles.length && p.managesSomeone);
  const others = match.filter((p) => p.kind === 'employee' && !p.adminRoles.length && !p.managesSomeone);
  const action = `/signin/${encodeURIComponent(uid)}`;
  const button = (p: (typeof people)[number]) => {
    const roles = [p.kind === 'employee' ? null : p.kind.replace('_', ' '), ...p.adminRoles.map((r) => r.replace('_', ' '))].filter(Boolean).join(', ');
    return `<li><button type="submit" name="person" value="${esc(p.id)}">${esc(p.name)} <span class="meta">— ${esc(p.title ?? '')}${roles ? ` · ${esc(roles)}` : ''} · ${esc(p.id)}</span></button></li>`;
  };
  const group = (title: string, list: typeof people) =>
    list.length ? `<h2>${esc(title)}</h2><ul class="people">${list.slice(0, LISTED).map(button).join('')}</ul>${list.length > LISTED ? `<p class="meta">${list.length - LISTED} more: search to narrow.</p>` : ''}` : '';
  return page(
    'Sign in to EMS',
    `<p>${esc(clientName)} asks you to sign in. Pick who you are.</p>
<form method="get" action="${action}" role="search"><label for="q">Search the directory</label> <input id="q" name="q" value="${esc(q ?? '')}"> <button type="submit">Search</button></form>
<form method="post" action="${action}">
${group('HR and IT', staff)}${group('Managers', managers)}${group('Employees', others)}
${match.length ? '' : '<p>No one matches.</p>'}
<p><button type="submit" name="cancel" value="yes">Cancel</button></p>
</form>`,
  );
}
