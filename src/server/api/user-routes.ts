/** Routes for users (the CLI): submit and inspect runs, stop and resume them. */
import { Hono } from 'hono';
import { NotFoundError } from '../../core/errors.js';
import { isResumable, resumableJobs } from '../../core/job-status.js';
import { producer, type JobRecord } from '../../core/records.js';
import { JOB_ID, JOB_ID_PREFIX } from '../../core/run-names.js';
import { runCommand } from '../../core/variables.js';
import { resumeJobs, stopJobs } from '../control.js';
import { listRuns, resolveTarget, runViews } from '../queries.js';
import { previewRun, submitRun } from '../submit.js';
import type { ApiDeps, ApiEnv } from './context.js';
import { resolveJob } from './job-target.js';
import { runBody } from './run-body.js';
import * as schemas from './schemas.js';
import { body, query } from './validate.js';

export function userRoutes({ engine }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { store } = engine;

  app.post('/runs', async (c) => {
    const request = await runBody(c, schemas.submitRun);
    return c.json(await submitRun(engine, c.get('caller').name, request), 201);
  });

  app.post('/runs/preview', async (c) => {
    const request = await runBody(c, schemas.preview);
    return c.json(await previewRun(engine, c.get('caller').name, request));
  });

  app.get('/runs', async (c) => {
    const { mine, ...filters } = query(c, schemas.runsQuery);
    return c.json(await listRuns(store, c.get('caller'), { ...filters, mine: mine !== undefined }));
  });

  // What the dashboard's workflow and project filters offer: every one the caller's runs have, old ones too.
  app.get('/workflows', async (c) => {
    const { mine } = query(c, schemas.workflowsQuery);
    const caller = c.get('caller');
    return c.json(await store.runWorkflows(caller.admin && mine === undefined ? undefined : caller.name));
  });

  app.get('/runs/:name', async (c) => {
    const target = await resolveTarget(store, c.get('caller'), c.req.param('name'));
    const [view] = await runViews(store, [target.run]);
    return c.json(view);
  });

  app.get('/jobs/:id', async (c) => {
    const id = c.req.param('id');
    if (!JOB_ID.test(id) && !JOB_ID_PREFIX.test(id)) throw new NotFoundError(`no job '${id}'`);
    const target = await resolveTarget(store, c.get('caller'), id);
    const job = target.selected[0]!;
    return c.json({ job, run: target.run, events: await store.events(job.id) });
  });

  app.get('/jobs/:id/artifacts', async (c) => {
    const { job } = await resolveJob(store, c.get('caller'), c.req.param('id'));
    const manifest = await store.getArtifacts(producer(job));
    return c.json(manifest ?? { artifacts: [] });
  });

  app.post('/stop', async (c) => {
    const { target, abort, grace } = await body(c, schemas.target);
    const caller = c.get('caller');
    const found = await resolveTarget(store, caller, target);
    const graceMs = grace === undefined ? undefined : grace * 1000;
    // Another's run is an admin's to stop: its owner reads who did, not "stopped by user" as if they had.
    const by = caller.name === found.run.user ? 'user' : `admin (${caller.name})`;
    const reason = `${abort ? 'aborted' : 'stopped'} by ${by}`;
    return c.json(await stopJobs(engine, found.selected, { abort, actor: `user:${caller.name}`, graceMs, reason }));
  });

  app.post('/resume', async (c) => {
    const { target, noTag } = await body(c, schemas.resume);
    const caller = c.get('caller');
    const found = await resolveTarget(store, caller, target);
    // A run is resumed as a run even when it has one job: its refusal speaks of the run.
    const taken = found.job ? [found.job] : resumableOf(found.selected);
    if (taken.length === 0) {
      // A job that failed in its first attempt (its runner restarted as it prepared it) has nothing to go on from.
      const failed = found.selected.some((j) => j.status === 'FAILED' || j.status === 'ABORTED');
      const again = failed ? `; run it again with ${runCommand(found.run.workflow, found.run.overrides)}` : '';
      // A run of one job names it, as `dstack resume JOB` would: the user typed the run, not the job.
      const [only, ...others] = found.selected;
      const it = only && others.length === 0 ? ` (its job ${only.ref} ${only.id} is ${endedAs(only)})` : '';
      throw new NotFoundError(
        `run '${found.run.name}' has no jobs to resume: none is stopped, or failed in a resume before its commands started${it}${again}`,
      );
    }
    const options = { noTag: noTag === true, overrides: found.run.overrides };
    return c.json(await resumeJobs(engine, taken, found.jobs, `user:${caller.name}`, options));
  });

  return app;
}

/** A job's status, and its reason when it ended other than DONE: `FAILED: exit code 3`. */
function endedAs(job: JobRecord): string {
  return `${job.status}${job.reason && job.status !== 'DONE' ? `: ${job.reason}` : ''}`;
}

/**
 * The jobs of a run that `dstack resume RUN` takes; when none can be taken with its dependencies,
 * those resumable by themselves, for resumeJobs to say which dependency holds them back.
 */
function resumableOf(jobs: readonly JobRecord[]): JobRecord[] {
  const taken = resumableJobs(jobs);
  return taken.length > 0 ? taken : jobs.filter(isResumable);
}
