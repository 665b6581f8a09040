/**
 * `GET /api/runner/jobs/:id/assignment`: a job's assignment for the runner it was given to.
 * A one-shot runner (`dstack runner exec`, started by a Slurm batch job) fetches its job here
 * instead of claiming one, with the run's code manifest in it.
 */
import { Hono } from 'hono';
import { ConflictError, ForbiddenError, NotFoundError } from '../../core/errors.js';
import { isActive } from '../../core/job-status.js';
import type { JobRecord } from '../../core/records.js';
import { readCodeManifest } from '../code.js';
import { assignmentFor } from '../scheduler.js';
import type { ApiDeps, ApiEnv } from './context.js';

export function assignmentRoutes({ engine }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/jobs/:id/assignment', async (c) => {
    const id = c.req.param('id');
    const job = await engine.store.getJob(id);
    if (!job) throw new NotFoundError(`no job '${id}'`);
    if (job.runner !== c.get('caller').name) throw new ForbiddenError(`job ${id} is not assigned to this runner`);
    if (!isActive(job.status)) throw new ConflictError(`job ${id} is ${job.status}: there is nothing to run`);
    const deps: JobRecord[] = [];
    for (const depId of job.dependsOn) {
      const dep = await engine.store.getJob(depId);
      if (!dep) throw new ConflictError(`job ${id} depends on job ${depId}, which no longer exists`);
      deps.push(dep);
    }
    const assignment = await assignmentFor(engine, job, deps);
    // Sent along: one round trip fewer between the batch job's start and its first command.
    // A manifest that cannot be read here is left for the runner to fetch (and report).
    const code = await readCodeManifest(engine.blobs, assignment.run.codeDigest).catch(() => undefined);
    return c.json({ assignment: code ? { ...assignment, code } : assignment });
  });
  return app;
}
