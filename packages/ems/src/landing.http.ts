import type { App } from '@ems/platform';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>EMS — Exit Management System</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
 table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left}
 .done{color:#17803d}.failed{color:#b42318}.pending{color:#8a6d00}.late{color:#c2410c;font-weight:bold} code{background:#f3f3f3;padding:0 .2rem}
</style></head><body>
<h1>EMS — Exit Management System</h1>
<p>API: <a href="/docs">interactive docs</a> · <a href="/openapi.json">OpenAPI 3.1</a> ·
<a href="/api/resignations">resignations</a> · <a href="/api/employees">employees</a> · <a href="/api/emails">emails</a> ·
<a href="/api/interviews">interviews</a> · <a href="/readyz">readiness</a></p>
<p>Submit one: <code>npx ems resign E1010</code> or <code>curl -XPOST localhost:PORT/api/resignations -H 'content-type: application/json' -d '{"employeeId":"E1010"}'</code></p>
<h2>Recent cases</h2>
<table id="cases"><thead><tr><th>Submitted</th><th>Employee</th><th>Status</th><th>Manager email</th><th>Interview</th><th>Access</th></tr></thead><tbody></tbody></table>
<script>
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
async function load() {
  const r = await fetch('/api/resignations?limit=20'); const { items } = await r.json();
  document.querySelector('#cases tbody').innerHTML = items.map((c) => '<tr><td>' + esc(new Date(c.submittedAt).toLocaleString()) +
    '</td><td><a href="/api/resignations/' + esc(c.id) + '/timeline">' + esc(c.employeeName) + '</a></td><td>' + esc(c.status) + '</td>' +
    ['notifyManager','scheduleInterview','blockAccess'].map((s) => '<td class="' + esc(c.steps[s].status) + '">' + esc(c.steps[s].status) + '</td>').join('') + '</tr>').join('');
}
load(); setInterval(load, 2000);
</script></body></html>`;

export async function landingPage(app: App): Promise<void> {
  app.get('/', { schema: { hide: true } }, async (req, reply) => {
    // The Host header is the caller's to choose: only a plain host[:port] goes into the page.
    const host = /^[A-Za-z0-9.[\]:-]{1,100}$/.test(req.headers.host ?? '') ? req.headers.host! : 'localhost:3000';
    return reply.type('text/html; charset=utf-8').send(PAGE.replace('localhost:PORT', host));
  });
}
