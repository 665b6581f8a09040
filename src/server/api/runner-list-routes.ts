/** `GET /api/runners`: the runners, what each runs now and what it has free (for users, not runners). */
import { Hono } from 'hono';
import type { RunnerView } from '../../core/api.js';
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
    for (const runner of await store.listRunners()) {
      const active = await store.activeJobsOfRunner(runner.name);
      // A user sees the jobs of their own runs; the others' only as a count, as `GET /api/runs` does.
      const jobs = [];
      for (const job of active) if (caller.admin || (await ownerOf(job.runName)) === caller.name) jobs.push(job);
      const free = (await freeCapacity(engine, runner.name)) ?? runner.total;
      views.push({ ...runner, free, jobs, otherJobs: active.length - jobs.length });
    }
    return c.json(views);
  });
  return app;
}
