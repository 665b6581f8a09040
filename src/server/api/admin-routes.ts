/**
 * Admin routes: users and runner tokens, and new tokens in place of old ones (a leaked token's
 * way out). Each answer shows a new token once; the store keeps only its hash.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { ACCOUNT_NAME, ACCOUNT_NAME_RULE } from '../../core/account-names.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../core/errors.js';
import { LOCAL_RUNNER } from '../../core/api.js';
import { isFinished } from '../../core/job-status.js';
import { issueToken, replaceToken } from '../auth.js';
import { SLURM_RUNNER } from '../backends/slurm/options.js';
import { stopJobs } from '../control.js';
import type { Engine } from '../engine.js';
import type { ApiDeps, ApiEnv } from './context.js';
import { body } from './validate.js';

/** The reason of a deleted user's jobs, stopped with them. */
export const USER_DELETED = 'stopped: its user was deleted';

const named = z.object({ name: z.string().regex(ACCOUNT_NAME, ACCOUNT_NAME_RULE) });
/** A new user; `admin`: theirs is an admin's token (`dstack users add NAME --admin`). */
const newUser = named.extend({ admin: z.boolean().optional() });
const adminFlag = z.object({ admin: z.boolean() });

/** A server keeps an admin: deleting or demoting the last one is refused, saying how to make another. */
function lastAdmin(name: string): ConflictError {
  return new ConflictError(`'${name}' is the last admin; make another one first, with: dstack users promote NAME`);
}

function requireAdmin(c: Context<ApiEnv>): void {
  if (!c.get('caller').admin) throw new ForbiddenError('only an admin can do this');
}

export function adminRoutes({ engine }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { store } = engine;

  app.get('/users', async (c) => {
    requireAdmin(c);
    // Tokens, not users, are rows: an admin whose token file went stale has two, as a user may.
    const users = new Map<string, { name: string; admin: boolean; createdAt: number; tokens: number }>();
    for (const t of await store.listTokens('user')) {
      const user = users.get(t.name);
      if (!user) users.set(t.name, { name: t.name, admin: t.admin, createdAt: t.createdAt, tokens: 1 });
      else {
        user.admin ||= t.admin;
        user.createdAt = Math.min(user.createdAt, t.createdAt);
        user.tokens++;
      }
    }
    return c.json([...users.values()]);
  });

  app.post('/users', async (c) => {
    requireAdmin(c);
    const { name, admin = false } = await body(c, newUser);
    if ((await store.listTokens('user')).some((u) => u.name === name))
      throw new ConflictError(`user '${name}' already exists`);
    // Runs are a user's by name: a new user of a deleted one's name would see, stop and tag them.
    if ((await store.listRuns({ user: name, limit: 1 })).length > 0) {
      throw new ConflictError(
        `user '${name}' was deleted, and their runs are still on this server: a new user of that name would ` +
          'own them; choose another name',
      );
    }
    await store.deleteRepos(name); // credentials that a deletion by an earlier version left behind
    // Admin is a flag of a user's tokens, set here for good: a replaced token keeps it.
    const token = await issueToken(store, 'user', name, admin);
    engine.logger.info(`user ${name} added`, { by: c.get('caller').name, admin });
    return c.json({ name, admin, token }, 201);
  });

  app.delete('/users/:name', async (c) => {
    requireAdmin(c);
    const name = c.req.param('name');
    // Demoted first: the store refuses the last admin's in one transaction, where two deletions at once race.
    const change = await store.setAdmin(name, false);
    if (change === 'unknown') throw new NotFoundError(`no user '${name}'`);
    if (change === 'last-admin') throw lastAdmin(name);
    await store.deleteTokens('user', name);
    // Their registered credentials go with them; their runs stay, for the admin and for others' cache.
    await store.deleteRepos(name);
    // Work nobody may watch, stop or resume any more (an offboarding, a leaked token) does not run on:
    // stopped as a user's stop is, its artifacts saved for the admin and the cache.
    const runs = await store.listRuns({ user: name, unfinished: true });
    const jobs = (await store.jobsOfRuns(runs.map((r) => r.name))).filter((j) => !isFinished(j.status));
    const stopped = await stopJobs(engine, jobs, { actor: `user:${c.get('caller').name}`, reason: USER_DELETED });
    return c.json({ ok: true, stopped: stopped.length });
  });

  // In place, on every token of theirs: the change holds from the user's next request.
  app.put('/users/:name/admin', async (c) => {
    requireAdmin(c);
    const name = c.req.param('name');
    const { admin } = await body(c, adminFlag);
    const change = await store.setAdmin(name, admin);
    if (change === 'unknown') throw new NotFoundError(`no user '${name}'`);
    if (change === 'last-admin') throw lastAdmin(name);
    if (change === 'changed')
      engine.logger.info(`user ${name} ${admin ? 'promoted' : 'demoted'}`, { by: c.get('caller').name });
    return c.json({ name, admin, changed: change === 'changed' });
  });

  // A user's own token, or (an admin) anyone's: the old one is refused from the next request.
  app.post('/users/:name/token', async (c) => {
    const caller = c.get('caller');
    const name = c.req.param('name');
    if (!caller.admin && caller.name !== name)
      throw new ForbiddenError(
        "only an admin can replace another user's token; replace your own with: dstack users token",
      );
    const token = await replaceToken(store, 'user', name);
    if (token === undefined) throw new NotFoundError(`no user '${name}'`);
    engine.logger.info(`user ${name}'s token replaced`, { by: caller.name });
    return c.json({ name, token });
  });

  app.post('/runners', async (c) => {
    requireAdmin(c);
    const { name } = await body(c, named);
    refuseReserved(engine, name);
    if ((await store.listTokens('runner')).some((r) => r.name === name))
      throw new ConflictError(`runner '${name}' already exists`);
    return c.json({ name, token: await issueToken(store, 'runner', name, false) }, 201);
  });

  // The runner process that has the old token is refused from its next request: it aborts its
  // jobs and exits (RunnerAgent.refused). Its jobs end here at once rather than a timeout later
  // as lost, and it is OFFLINE, so that a start with the new token gets in at once.
  app.post('/runners/:name/token', async (c) => {
    requireAdmin(c);
    const name = c.req.param('name');
    if (name === LOCAL_RUNNER && engine.runsLocalRunner)
      throw new ConflictError(
        `runner '${name}' is this server's own: the server gives it a new token at every start, and that token never leaves it`,
      );
    const actor = `user:${c.get('caller').name}`;
    const managed = engine.managedRunners.get(name);
    if (managed) {
      // The server's own backend (Slurm): it keeps the new token and gives it to its batch jobs.
      // Not shown: nobody starts this runner with it, so showing it would only expose it.
      await managed.replaceToken();
      const failed = await engine.failJobsOf(name, RUNNER_TOKEN_REPLACED, actor);
      engine.logger.info(`runner ${name}'s token replaced`, { by: c.get('caller').name, failed });
      return c.json({ name, failed, managed: true });
    }
    const token = await replaceToken(store, 'runner', name);
    if (token === undefined) throw new NotFoundError(`no runner '${name}'`);
    // OFFLINE first: a claim of the old process still under way then takes no job the failures free.
    if ((await store.getRunner(name))?.status === 'ACTIVE') await store.setRunnerStatus(name, 'OFFLINE');
    const failed = await engine.failJobsOf(name, RUNNER_TOKEN_REPLACED, actor);
    engine.logger.info(`runner ${name}'s token replaced`, { by: c.get('caller').name, failed });
    return c.json({ name, token, failed });
  });

  app.delete('/runners/:name', async (c) => {
    requireAdmin(c);
    const name = c.req.param('name');
    // Deleted, they would be gone until the server's next start, which makes them again. The local
    // runner an earlier start ran, on a server now started with --no-local-runner, is deleted as any.
    if (name === LOCAL_RUNNER && engine.runsLocalRunner)
      throw new ConflictError(
        `runner '${name}' is this server's own (this machine's): start the server with --no-local-runner to run nothing here`,
      );
    if (engine.managedRunners.has(name))
      throw new ConflictError(
        `runner '${name}' is this server's own (its Slurm backend): start the server without --backend slurm to submit nothing to Slurm`,
      );
    if ((await store.deleteTokens('runner', name)) === 0) throw new NotFoundError(`no runner '${name}'`);
    // Its jobs end here; the runner, refused from now on, aborts them and stops (RunnerAgent.refused).
    await engine.failJobsOf(name, 'runner deleted', `user:${c.get('caller').name}`);
    await store.deleteRunner(name);
    return c.json({ ok: true });
  });
  return app;
}

/**
 * The names of the server's own runners, which an admin's runner may not take: a start with the
 * local runner deletes every `local` token (its one live token is new at each start), and one with
 * the Slurm backend treats a `slurm` token as its own old one, revoked once its batch jobs end. So
 * an admin's runner of such a name lost its token at the next such start, and until then the
 * routes that refuse the server's own runners refused it too: its leaked token could not be revoked.
 */
function refuseReserved(engine: Engine, name: string): void {
  if (name === LOCAL_RUNNER)
    throw new ConflictError(
      `runner name '${name}' is reserved for the server's own runner on its machine (a start without --no-local-runner); choose another name`,
    );
  if (name === SLURM_RUNNER || engine.managedRunners.has(name))
    throw new ConflictError(
      `runner name '${name}' is reserved for the server's Slurm backend (a start with --backend slurm); choose another name`,
    );
}

/** Why the jobs of a runner whose token was replaced failed: its process can no longer report them. */
export const RUNNER_TOKEN_REPLACED = 'runner token replaced';
