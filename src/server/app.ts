/** The HTTP API: every route under /api needs a bearer token; errors are mapped in one place. */
import { Hono } from 'hono';
import { ForbiddenError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { adminRoutes } from './api/admin-routes.js';
import { assignmentRoutes } from './api/assignment-routes.js';
import { blobRoutes } from './api/blob-routes.js';
import { downloadRoutes } from './api/download-routes.js';
import { limitBodies } from './api/body-limit.js';
import type { ApiEnv } from './api/context.js';
import { errorResponse } from './api/http-errors.js';
import { logRoutes } from './api/log-routes.js';
import { repoRoutes } from './api/repo-routes.js';
import { runnerListRoutes } from './api/runner-list-routes.js';
import { runnerRoutes } from './api/runner-routes.js';
import { StreamSlots } from './api/stream-slots.js';
import { tagRoutes } from './api/tag-routes.js';
import { invalidToken } from './api/token-watch.js';
import { userRoutes } from './api/user-routes.js';
import { authenticate } from './auth.js';
import type { ServerKey } from './crypto.js';
import type { Engine } from './engine.js';
import { webRoutes } from './web.js';

export interface AppOptions {
  /** Log streams (`GET /api/logs/stream`) one user may hold open at once (default 64: stream-slots.ts). */
  maxLogStreamsPerUser?: number;
}

/** `key` is the server key (`<dataDir>/server.key`) that seals stored credentials. */
export function createApp(engine: Engine, key: ServerKey, options: AppOptions = {}): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.onError((error, c) => errorResponse(c, error, engine.logger));
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404));

  const api = new Hono<ApiEnv>();
  api.use(async (c, next) => {
    c.set('receivedAt', Date.now());
    const caller = await authenticate(engine.store, c.req.header('authorization'));
    if (!caller) throw invalidToken();
    c.set('caller', caller);
    if (caller.kind === 'runner') engine.presence.heardFrom(caller.name);
    // Who may call what: runner tokens only the runner routes, user tokens everything else but those.
    const kind = whoMayCall(c.req.path);
    if (kind !== 'any' && caller.kind !== kind) throw new ForbiddenError(wrongKind(kind, caller));
    await next();
  });
  api.use(limitBodies());
  api.get('/health', (c) => c.json({ ok: true, version: VERSION, caller: c.get('caller').name }));
  api.route('/', blobRoutes({ engine }));
  api.route('/', logRoutes({ engine, streams: new StreamSlots(options.maxLogStreamsPerUser) }));
  api.route('/', downloadRoutes({ engine }));
  api.route('/runner', runnerRoutes({ engine }));
  api.route('/runner', assignmentRoutes({ engine }));
  api.route('/', userRoutes({ engine }));
  api.route('/', tagRoutes({ engine }));
  api.route('/', repoRoutes({ engine, key }));
  api.route('/', runnerListRoutes({ engine }));
  api.route('/', adminRoutes({ engine }));
  app.route('/api', api);
  app.route('/', webRoutes());
  return app;
}

function whoMayCall(path: string): 'user' | 'runner' | 'any' {
  if (path.startsWith('/api/runner/')) return 'runner';
  if (path.startsWith('/api/blobs') || path === '/api/health') return 'any';
  return 'user';
}

/** Why a token of one kind cannot call another kind's route, and which token the caller needs. */
function wrongKind(kind: 'user' | 'runner', caller: { kind: string; name: string }): string {
  return kind === 'user'
    ? `this route is for user tokens, and this is the token of runner '${caller.name}': the CLI and the dashboard ` +
        "need a user's token (dstack users add NAME prints one)"
    : `this route is for runner tokens, and this is the token of user '${caller.name}': a runner needs its own ` +
        '(dstack runners add NAME prints it)';
}
