/** Tags name finished runs, so that workflows can depend on them (`depends-on: prepare:latest`). */
import { Hono } from 'hono';
import { ConflictError, ForbiddenError, NotFoundError } from '../../core/errors.js';
import type { TagDeleted, TaggedRun } from '../../core/api.js';
import { tagHeld } from '../../core/projects.js';
import type { RunRecord } from '../../core/records.js';
import { prune } from '../prune.js';
import { resolveTarget, runViews } from '../queries.js';
import { checkTagFree } from '../tag-check.js';
import type { Store } from '../store/store.js';
import type { ApiDeps, ApiEnv } from './context.js';
import * as schemas from './schemas.js';
import { body, query } from './validate.js';

export function tagRoutes({ engine }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { store } = engine;

  app.get('/tags', async (c) => {
    const { project, mine, promised } = query(c, schemas.tagsQuery);
    const caller = c.get('caller');
    const listed = promised ? await taggedOrPromised(store) : await store.taggedRuns();
    const runs = listed.filter(
      (r) =>
        ((caller.admin && mine === undefined) || r.user === caller.name) &&
        (project === undefined || r.project === project),
    );
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
    // A tag is unique among its user's runs of one project: the tagged run's. Serialised with
    // submissions, which check the same: a run submitted with --tag meanwhile is refused, or refuses this.
    const scope = { user: target.run.user, project: target.run.project };
    return engine.serialize(async () => {
      if (await checkTagFree(engine, scope, tag, target.run.name))
        return c.json({ ...view!, tag, unchanged: true } satisfies TaggedRun);
      // Another tag of this run is not moved in passing: a depends-on that names it would break unseen.
      if (view!.tag) throw new ConflictError(tagHeld(tag, target.run.project, target.run.name, view!.tag));
      await store.setTag(target.run.name, tag);
      return c.json({ ...view!, tag } satisfies TaggedRun, 201);
    });
  });

  /**
   * The caller's tag of that name in `project` (from the CLI standing in it), or in whichever
   * one project has it; an admin's reach extends to other users' tags when the caller has none,
   * and to one user's (`user`) when several have it, or a deleted user's is in the way.
   */
  app.delete('/tags/:tag', async (c) => {
    const tag = c.req.param('tag');
    const { project, user } = query(c, schemas.tagDeleteQuery);
    const caller = c.get('caller');
    if (user !== undefined && user !== caller.name && !caller.admin)
      throw new ForbiddenError("only an admin deletes another user's tag");
    const named = (await taggedOrPromised(store)).filter((r) => (r.tag ?? r.tagOnDone) === tag);
    const inScope = named.filter((r) => project === undefined || r.project === project);
    const own = inScope.filter((r) => r.user === (user ?? caller.name));
    const candidates = own.length > 0 || !caller.admin || user !== undefined ? own : inScope;
    if (candidates.length === 0)
      throw new NotFoundError(missingTag(tag, project, named, caller.admin ? undefined : caller.name));
    if (candidates.length > 1) {
      const users = new Set(candidates.map((r) => r.user)).size > 1; // an admin's reach
      const where = candidates.map(
        (r) => `${users ? `${r.user}, ` : ''}${r.project} (run ${r.name}${r.tag === undefined ? ', promised' : ''})`,
      );
      const how = users
        ? `add --user NAME to say whose`
        : `run 'dstack tags delete ${tag}' in its project, or add --project KEY`;
      throw new ConflictError(`tag '${tag}' is on ${candidates.length} runs: ${where.join('; ')}; ${how}`);
    }
    const chosen = candidates[0]!;
    const which = {
      run: chosen.name,
      project: chosen.project,
      ...(chosen.user === caller.name ? {} : { user: chosen.user }),
    };
    // A promise (the run not finished): dropped as `dstack resume --no-tag` does; the run ends untagged.
    // Serialised with submissions and tags add, which check for promises. A run that ended DONE
    // while this waited its turn has the tag by then: that tag is deleted, as any other.
    if (chosen.tag === undefined) {
      const promisedTo = await engine.serialize(async () => {
        if ((await store.getRun(chosen.name))?.tag === tag) return undefined;
        await store.dropTagPromise(chosen.name);
        return chosen.name;
      });
      if (promisedTo !== undefined) return c.json({ ok: true, promisedTo, ...which } satisfies TagDeleted);
    }
    await store.setTag(chosen.name, null);
    return c.json({ ok: true, ...which } satisfies TagDeleted);
  });

  app.post('/prune', async (c) => {
    const { olderThanMs, project, dryRun, includeStopped } = await body(c, schemas.prune);
    const caller = c.get('caller');
    // A user prunes their own runs; an admin every user's, as `dstack status` shows them every user's.
    const whose = caller.admin ? {} : { user: caller.name };
    return c.json(await prune(engine, olderThanMs, { ...whose, project, caller: caller.name, dryRun, includeStopped }));
  });
  return app;
}

/** Tagged runs and the unfinished runs promised a tag (their `tag` unset), newest first (runs of one ms by name). */
async function taggedOrPromised(store: Store): Promise<RunRecord[]> {
  const [tagged, promised] = await Promise.all([store.taggedRuns(), store.promisedTagRuns()]);
  return [...tagged, ...promised].sort((a, b) => b.submittedAt - a.submittedAt || a.name.localeCompare(b.name));
}

/** Why no tag of that name is there to delete; where the caller has it elsewhere, where. */
function missingTag(tag: string, project: string | undefined, named: readonly RunRecord[], user?: string): string {
  const elsewhere = named.filter((r) => user === undefined || r.user === user).map((r) => r.project);
  const where = elsewhere.length > 0 ? `; it is in ${elsewhere.join(', ')}` : '';
  return project === undefined
    ? `tag '${tag}' does not exist; see 'dstack tags list'`
    : `tag '${tag}' does not exist in project ${project}${where}; see 'dstack tags list --all'`;
}
