/**
 * The dashboard's static files (built by `vite build web` into dist/web). They are public
 * and hold no secrets: the app logs in with a token and sends it with every /api call.
 * Paths that are not files get index.html, so that /runs/NAME can be opened directly.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';

/** dist/server/web.js → dist/web; src/server/web.ts (tests, tsx) → dist/web as well. */
const CANDIDATES = ['../web', '../../dist/web'].map((p) => fileURLToPath(new URL(p, import.meta.url)));

/** Where the built dashboard is, or undefined when it has not been built. */
export function webRoot(): string | undefined {
  return CANDIDATES.find((dir) => existsSync(join(dir, 'index.html')));
}

/**
 * The page may load only its own files, and a stray `<script>` in a log line (rendered as
 * text anyway) could neither run nor send the session's token elsewhere.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>dstack</title>
<p>The dashboard is not built. Run <code>npm run build</code> in the dstack folder.</p>`;

/** The dashboard's routes, from `root` (default: the built app); mount them after /api. */
export function webRoutes(root: string | undefined = webRoot()): Hono {
  const app = new Hono();
  // /api is the API's, even where no route matches: those get the API's JSON 404, never the page.
  const isApi = (path: string) => path === '/api' || path.startsWith('/api/');

  if (root !== undefined) {
    // An absolute root: its docs ask for one relative to the working directory, but the embedded
    // server runs wherever the CLI was started; it joins root and path, which the tests cover.
    const files = serveStatic({ root });
    app.use('*', async (c, next) => {
      if (isApi(c.req.path) || (c.req.method !== 'GET' && c.req.method !== 'HEAD')) return next();
      const found = await files(c, async () => {});
      if (!(found instanceof Response)) return next();
      // Vite puts a content hash in every asset's name: those never change; index.html always may.
      const immutable = c.req.path.startsWith('/assets/');
      found.headers.set('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) found.headers.set(name, value);
      return found;
    });
  }

  app.get('*', async (c, next) => {
    if (isApi(c.req.path)) return next();
    // A missing asset is a 404, not the page: a stale index.html must not get HTML for its script.
    if (c.req.path.startsWith('/assets/')) return c.text('not found', 404);
    if (root === undefined) return c.html(NOT_BUILT, 503);
    c.header('cache-control', 'no-cache');
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
    return c.html(await readFile(join(root, 'index.html'), 'utf8'));
  });
  return app;
}
