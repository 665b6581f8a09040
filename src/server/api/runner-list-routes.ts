/** `GET /api/runners`: the runners, what each runs now and what it has free (for users, not runners). */
import { Hono } from 'hono';
import { LOCAL_RUNNER, type RunnerView } from '../../core/api.js';
import { freeCapacity } from '../scheduler.js';
import type { ApiDeps, ApiEnv } from './context.js';

export function runnerListRoutes({ engine }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { store } = engine;

  app.get('/runners', async (c) => {
    const caller = c.get('caller');
    const owners = new Map<string, string | undefined>();
    const ownerOf = async (runName: string) => {
      if (!owners.has(runName)) owners.set(runName, (await store.getRun(runName))?.user);
      return owners.get(runName);
    };
    const views: RunnerView[] = [];
    // A runner's session stays between it and the server: it is what tells its process from another.
    for (const { session: _session, ...runner } of await store.listRunners()) {
      const active = await store.activeJobsOfRunner(runner.name);
      // A user sees the jobs of their own runs; the others' only as a count, as `GET /api/runs` does.
      const jobs = [];
      for (const job of active) if (caller.admin || (await ownerOf(job.runName)) === caller.name) jobs.push(job);
      const free = (await freeCapacity(engine, runner.name)) ?? runner.total;
      views.push({ ...runner, free, jobs, otherJobs: active.length - jobs.length });
    }
    // Runners added but never started: an admin sees which tokens are out, else nothing lists them.
    if (caller.admin) {
      const known = new Set(views.map((v) => v.name));
      const none = { cpu: 0, memory: 0, gpus: [] };
      for (const token of await store.listTokens('runner')) {
        // The server's own local runner registers as it starts: its token alone is no runner to start.
        if (known.has(token.name) || (token.name === LOCAL_RUNNER && engine.runsLocalRunner)) continue;
        views.push({
          name: token.name,
          host: '',
          total: none,
          free: none,
          status: 'NOT STARTED',
          updatedAt: token.createdAt,
          registeredAt: token.createdAt,
          jobs: [],
          otherJobs: 0,
        });
      }
    }
    return c.json(views);
  });
  return app;
}
