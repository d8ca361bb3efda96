import { createHash } from 'node:crypto';
import type { App } from '@ems/platform';

/**
 * The landing page: what EMS is and how to sign in. Signed in (a browser session), it lists the cases the
 * person may see — through the same API and policy as everyone else. Anonymous visitors see no case.
 */
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>EMS — Exit Management System</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
 table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left}
 .done{color:#17803d}.failed{color:#b42318}.pending{color:#8a6d00}.late{color:#c2410c;font-weight:bold} code{background:#f3f3f3;padding:0 .2rem}
 button,a.button{font:inherit;padding:.35rem .8rem;border:1px solid #1f4f99;border-radius:.3rem;background:#1f4f99;color:#fff;text-decoration:none;cursor:pointer}
</style></head><body>
<h1>EMS — Exit Management System</h1>
<p id="who">You are not signed in. <a class="button" href="/auth/login">Sign in</a></p>
<p>API: <a href="/docs">interactive docs</a> · <a href="/openapi.json">OpenAPI 3.1</a> · <a href="/asyncapi.json">AsyncAPI</a> · <a href="/readyz">readiness</a></p>
<p>From a terminal: <code>npx ems login</code>, then <code>npx ems resign E1010</code>.</p>
<section id="cases" hidden><h2>Cases you may see</h2>
<table><thead><tr><th>Submitted</th><th>Employee</th><th>Status</th><th>Manager email</th><th>Interview</th><th>Access</th></tr></thead><tbody></tbody></table></section>
<script>
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
let csrf = '';
async function load() {
  const s = await fetch('/auth/session');
  if (!s.ok) return;
  const me = await s.json(); csrf = me.csrfToken;
  document.getElementById('who').innerHTML = 'Signed in as <strong>' + esc(me.person.name) + '</strong> (' + esc(me.roles.join(', ') || 'no role') + ') <button id="out">Sign out</button>';
  document.getElementById('out').onclick = async () => {
    const r = await fetch('/auth/logout', { method: 'POST', headers: { 'x-csrf-token': csrf } });
    location.href = r.ok ? (await r.json()).logoutUrl : '/';
  };
  const r = await fetch('/api/resignations?limit=20');
  if (!r.ok) return;
  const { items } = await r.json();
  document.getElementById('cases').hidden = false;
  document.querySelector('#cases tbody').innerHTML = items.map((c) => '<tr><td>' + esc(new Date(c.submittedAt).toLocaleString()) +
    '</td><td><a href="/api/resignations/' + esc(c.id) + '/timeline">' + esc(c.employeeName) + '</a></td><td>' + esc(c.status) + '</td>' +
    ['notifyManager','scheduleInterview','blockAccess'].map((s) => '<td class="' + esc(c.steps[s].status) + '">' + esc(c.steps[s].status) + '</td>').join('') + '</tr>').join('');
}
load().catch(() => undefined);
</script></body></html>`;

/** The server's Content-Security-Policy, plus the hash of this page's own inline script (and nothing else inline). */
const SCRIPT = /<script>([\s\S]*?)<\/script>/.exec(PAGE)![1]!;
const CSP = [
  "default-src 'self'",
  `script-src 'self' 'sha256-${createHash('sha256').update(SCRIPT).digest('base64')}'`,
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export async function landingPage(app: App): Promise<void> {
  app.get('/', { schema: { hide: true }, config: { public: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').header('content-security-policy', CSP).send(PAGE),
  );
}
