/** Tags name finished runs, so that workflows can depend on them (`depends-on: prepare:latest`). */
import { Hono } from 'hono';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import { prune } from '../prune.js';
import { resolveTarget, runViews } from '../queries.js';
import type { ApiDeps, ApiEnv } from './context.js';
import * as schemas from './schemas.js';
import { body } from './validate.js';

export function tagRoutes({ engine }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { store } = engine;

  app.get('/tags', async (c) => {
    const caller = c.get('caller');
    const runs = (await store.taggedRuns()).filter((r) => caller.admin || r.user === caller.name);
    return c.json(await runViews(store, runs));
  });

  app.post('/tags', async (c) => {
    const { tag, run } = await body(c, schemas.tag);
    const target = await resolveTarget(store, c.get('caller'), run);
    const [view] = await runViews(store, [target.run]);
    if (view!.status !== 'DONE') {
      throw new ConflictError(
        `run '${target.run.name}' is ${view!.status}: only a run whose jobs are all DONE can be tagged`,
      );
    }
    const owner = await store.getRunByTag(target.run.user, tag); // a tag is unique among its user's runs
    if (owner)
      throw new ConflictError(
        `tag '${tag}' already exists (run ${owner.name}); delete it first: dstack tags delete ${tag}`,
      );
    await store.setTag(target.run.name, tag);
    return c.json({ ...view!, tag }, 201);
  });

  app.delete('/tags/:tag', async (c) => {
    const tag = c.req.param('tag');
    const caller = c.get('caller');
    const run = (await store.getRunByTag(caller.name, tag)) ?? (caller.admin ? await onlyTagged(tag) : undefined);
    if (!run) throw new NotFoundError(`tag '${tag}' does not exist; see 'dstack tags list'`);
    await store.setTag(run.name, null);
    return c.json({ ok: true });
  });

  /** An admin deletes another user's tag by its name when no one else has it (`tags list` shows them all). */
  const onlyTagged = async (tag: string) => {
    const runs = (await store.taggedRuns()).filter((r) => r.tag === tag);
    if (runs.length > 1) {
      const owners = runs.map((r) => `${r.user} (run ${r.name})`).join(', ');
      throw new ConflictError(`tag '${tag}' is on runs of several users: ${owners}; each deletes their own`);
    }
    return runs[0];
  };

  app.post('/prune', async (c) => {
    const { olderThanMs, dryRun } = await body(c, schemas.prune);
    const caller = c.get('caller');
    return c.json(await prune(engine, olderThanMs, { ...(caller.admin ? {} : { user: caller.name }), dryRun }));
  });
  return app;
}
