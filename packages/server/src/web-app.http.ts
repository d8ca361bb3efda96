import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { APP_ROOTS } from '@ems/contracts';
import type { App } from '@ems/platform';
import { WEB_APP_DIR, webAppBuilt } from '@ems/web';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The web app, on EMS's one port: `/` and every page path (AppPaths) answer the app's shell, which signs in
 * and then acts only through the public API, as the person. The built files are read once at start:
 * `/static/…` names carry a content hash, so they are cached for a year (immutable); the shell is
 * revalidated every time (ETag), so a new version reaches the browser on its next visit. Each file is served
 * precompressed (brotli or gzip, as the browser accepts).
 */
interface BuiltFile {
  body: Buffer;
  br?: Buffer;
  gz?: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

function readBuilt(dir: string): Map<string, BuiltFile> {
  const files = new Map<string, BuiltFile>();
  const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
  const all = new Set(walk(dir));
  for (const path of all) {
    if (path.endsWith('.br') || path.endsWith('.gz')) continue;
    const ext = /\.[a-z0-9]+$/.exec(path)?.[0] ?? '';
    const body = readFileSync(path);
    files.set('/' + relative(dir, path).split('\\').join('/'), {
      body,
      ...(all.has(`${path}.br`) ? { br: readFileSync(`${path}.br`) } : {}),
      ...(all.has(`${path}.gz`) ? { gz: readFileSync(`${path}.gz`) } : {}),
      type: TYPES[ext] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    });
  }
  return files;
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>EMS</title></head><body>
<h1>EMS</h1><p>The web app has not been built in this checkout. Run <code>npm install</code> (or <code>npm run build -w @ems/web</code>), then reload.</p>
<p>The API works meanwhile: <a href="/docs">interactive docs</a>.</p></body></html>`;

function send(req: FastifyRequest, reply: FastifyReply, file: BuiltFile, cacheControl: string) {
  void reply.header('content-type', file.type).header('cache-control', cacheControl).header('etag', file.etag).header('vary', 'accept-encoding');
  if (req.headers['if-none-match'] === file.etag) return reply.status(304).send();
  const accepts = String(req.headers['accept-encoding'] ?? '');
  if (file.br && /\bbr\b/.test(accepts)) return reply.header('content-encoding', 'br').send(file.br);
  if (file.gz && /\bgzip\b/.test(accepts)) return reply.header('content-encoding', 'gzip').send(file.gz);
  return reply.send(file.body);
}

export async function webApp(app: App): Promise<void> {
  const files = webAppBuilt() ? readBuilt(WEB_APP_DIR) : new Map<string, BuiltFile>();
  const shell = files.get('/index.html');
  const page = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!shell) return reply.status(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
    return send(req, reply, shell, 'no-cache');
  };
  const hidden = { schema: { hide: true }, config: { public: true } };
  app.get('/', hidden, page);
  for (const root of APP_ROOTS) {
    app.get(`/${root}`, hidden, page);
    app.get(`/${root}/*`, hidden, page);
  }
  app.get('/static/*', hidden, async (req, reply) => {
    const file = files.get(req.url.split('?')[0]!);
    if (!file) return reply.status(404).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send('not found');
    return send(req, reply, file, 'public, max-age=31536000, immutable');
  });
}
