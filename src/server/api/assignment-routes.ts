/**
 * A job's assignment for the runner it was given to, outside a claim:
 * - `GET /api/runner/jobs/:id/assignment`: a one-shot runner (`dstack runner exec`, started by a
 *   Slurm batch job) fetches its job here, and a restarted runner each job its previous process
 *   left (agent.ts `takeUp`);
 * - `POST /api/runner/jobs/:id/take-back`: a runner back with the workspace of a job the server
 *   failed as lost meanwhile takes it back to save it (core/job-status.ts `canTakeBack`).
 * Either comes with the run's code manifest in it.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { ConflictError, ForbiddenError, NotFoundError } from '../../core/errors.js';
import { canTakeBack, isActive, takenBackStop } from '../../core/job-status.js';
import type { JobRecord } from '../../core/records.js';
import { readCodeManifest } from '../code.js';
import type { Engine } from '../engine.js';
import { assignmentFor } from '../scheduler.js';
import type { ApiDeps, ApiEnv } from './context.js';

export function assignmentRoutes({ engine }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  /** The job, given to the calling runner. */
  const ownJob = async (c: Context<ApiEnv>): Promise<JobRecord> => {
    const id = c.req.param('id')!;
    const job = await engine.store.getJob(id);
    if (!job) throw new NotFoundError(`no job '${id}'`);
    if (job.runner !== c.get('caller').name) throw new ForbiddenError(`job ${id} is not assigned to this runner`);
    return job;
  };

  app.get('/jobs/:id/assignment', async (c) => {
    const job = await ownJob(c);
    if (!isActive(job.status)) throw new ConflictError(`job ${job.id} is ${job.status}: there is nothing to run`);
    return c.json({ assignment: await withCode(engine, job) });
  });

  app.post('/jobs/:id/take-back', async (c) => {
    const job = await ownJob(c);
    if (!canTakeBack(job))
      throw new ConflictError(
        `job ${job.id} is ${job.status}${job.reason ? ` (${job.reason})` : ''}: it is not taken back`,
      );
    const runner = c.get('caller').name;
    // Stopped as `dstack stop` stops it: its processes have ended, and its artifacts are saved next.
    const reason = takenBackStop(job.runName, job.spec.artifacts.length > 0);
    const patch = { stopRequest: 'stop' as const, reason, stopGraceMs: 0, finishedAt: null };
    const result = await engine.transition(job.id, 'FAILED', 'STOPPING', patch, `runner:${runner}`, { runner });
    if (!result.ok) throw new ConflictError(`job ${job.id} changed meanwhile: it is not taken back`);
    return c.json({ assignment: await withCode(engine, result.value) });
  });
  return app;
}

/** `job`'s assignment; the run's code manifest is sent along, one round trip fewer before its first command. */
async function withCode(engine: Engine, job: JobRecord) {
  const deps: JobRecord[] = [];
  for (const depId of job.dependsOn) {
    const dep = await engine.store.getJob(depId);
    if (!dep) throw new ConflictError(`job ${job.id} depends on job ${depId}, which no longer exists`);
    deps.push(dep);
  }
  const assignment = await assignmentFor(engine, job, deps);
  // A manifest that cannot be read here is left for the runner to fetch (and report).
  const code = await readCodeManifest(engine.blobs, assignment.run.codeDigest).catch(() => undefined);
  return code ? { ...assignment, code } : assignment;
}
