/**
 * Repos: users register their remote with its credentials (`dstack init`) and list what
 * they registered; a runner asks how to clone the code of a job it holds. Credentials
 * leave the server only on that runner route, never in a user response or a log line.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { ForbiddenError, NotFoundError } from '../../core/errors.js';
import { isFinished } from '../../core/job-status.js';
import type { ServerKey } from '../crypto.js';
import { codeSource, registerRepo, repoView } from '../repos/registry.js';
import type { ApiDeps, ApiEnv } from './context.js';
import { remoteUrl } from './schemas.js';
import { body } from './validate.js';

const credential = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }),
  z.object({ kind: z.literal('token'), token: z.string().min(1).max(4096) }),
  z.object({
    kind: z.literal('ssh-key'),
    privateKey: z
      .string()
      .min(1)
      .max(64 * 1024),
    passphrase: z.string().max(1024).optional(),
  }),
]);

const registerRequest = z.object({ remote: remoteUrl.min(1).max(2048), credential });

/** `key` seals and opens credentials: the server's own, from its data dir. */
export function repoRoutes({ engine, key }: ApiDeps & { key: ServerKey }): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { store, logger } = engine;

  app.post('/repos', async (c) => {
    const request = await body(c, registerRequest);
    const user = c.get('caller').name;
    const view = await registerRepo(store, key, user, request);
    logger.info(`repo ${view.remote} registered`, { user, credential: view.credential });
    return c.json(view, 201);
  });

  app.get('/repos', async (c) => c.json((await store.listRepos(c.get('caller').name)).map(repoView)));

  // Under /runner/, so only runner tokens reach it; and only for a job this runner holds now.
  app.get('/runner/jobs/:id/code-source', async (c) => {
    const id = c.req.param('id');
    const job = await store.getJob(id);
    if (!job) throw new NotFoundError(`no job '${id}'`);
    const runner = c.get('caller').name;
    if (job.runner !== runner || isFinished(job.status)) {
      throw new ForbiddenError(`job ${id} is not running on this runner`);
    }
    const run = await store.getRun(job.runName);
    const remote = run?.repo.remote;
    const source = run && remote ? await codeSource(store, key, run.user, remote) : undefined;
    if (source) logger.info(`runner ${runner} gets the clone credentials of ${remote} for job ${id}`);
    return c.json({ source: source ?? null });
  });

  return app;
}
