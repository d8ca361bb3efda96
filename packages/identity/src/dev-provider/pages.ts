/** The built-in provider's pages: plain, accessible HTML with no script, clearly marked as development-only. */

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
 body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:1.5rem auto;padding:0 1rem;color:#1a1a1a;background:#fff}
 h1{font-size:1.5rem;margin:.5rem 0} h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
 .dev{border:2px solid #8a4b00;background:#fff4e5;color:#4a2800;padding:.75rem 1rem;border-radius:.4rem}
 ul.people{list-style:none;padding:0;margin:0} ul.people li{margin:.25rem 0}
 button{font:inherit;cursor:pointer;padding:.45rem .8rem;border:1px solid #1f4f99;border-radius:.35rem;background:#1f4f99;color:#fff}
 ul.people button{width:100%;text-align:left;background:#f4f7fc;color:#102a52}
 button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}
 .meta{color:#4a4a4a;font-size:.9rem} input{font:inherit;padding:.4rem;border:1px solid #555;border-radius:.3rem}
 code{background:#f1f1f1;padding:0 .25rem;font-size:1.05rem}
`;

export const DEV_NOTICE =
  "This is EMS's built-in identity provider, for development: anyone who reaches it may sign in as anyone. " +
  'Before real use, connect your organisation\'s OpenID provider (set EMS_OIDC_ISSUER; see the README, "Security").';

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — EMS development sign-in</title><style>${STYLE}</style></head>
<body><main>
<p class="dev" role="note"><strong>Development only.</strong> ${esc(DEV_NOTICE)}</p>
<h1>${esc(title)}</h1>
${body}
</main></body></html>`;
}
