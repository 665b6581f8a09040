/**
 * Handing jobs to runners. Runners pull: a runner asks with its free capacity and gets
 * the oldest waiting job whose dependencies are DONE and whose request fits.
 */
import type { Assignment } from '../core/api.js';
import { fit, type Capacity } from '../core/resources.js';
import type { JobRecord } from '../core/records.js';
import type { Engine } from './engine.js';

/** Pick and take one job for the runner, or undefined when none is ready and fits. */
export async function claimOnce(engine: Engine, runner: string, free: Capacity): Promise<Assignment | undefined> {
  const waiting = await engine.store.jobsByStatus(['SUBMITTED']);
  if (waiting.length === 0) return undefined;
  const statusOf = new Map<string, JobRecord>();
  const depIds = [...new Set(waiting.flatMap((j) => j.dependsOn))];
  for (const id of depIds) {
    const dep = await engine.store.getJob(id);
    if (dep) statusOf.set(id, dep);
  }
  for (const job of waiting) {
    if (!job.dependsOn.every((id) => statusOf.get(id)?.status === 'DONE')) continue;
    const gpus = fit(job.spec.resources, free);
    if (gpus === null) continue;
    const taken = await engine.transition(
      job.id,
      'SUBMITTED',
      'DOWNLOADING',
      { runner, gpus, reason: null },
      `runner:${runner}`,
    );
    if (!taken.ok) continue; // another runner was faster
    return assignmentFor(
      engine,
      taken.value,
      job.dependsOn.map((id) => statusOf.get(id)!),
    );
  }
  return undefined;
}

async function assignmentFor(engine: Engine, job: JobRecord, deps: JobRecord[]): Promise<Assignment> {
  const run = await engine.store.getRun(job.runName);
  if (!run) throw new Error(`run ${job.runName} of job ${job.id} is missing`);
  const dependencies = await Promise.all(
    deps.map(async (dep) => ({
      job: dep,
      manifest: (await engine.store.getArtifacts(dep.cachedFrom ?? dep.id)) ?? { artifacts: [] },
    })),
  );
  const assignment: Assignment = { job, run, dependencies, logSeq: await engine.logs.lastSequence(job.id) };
  if (job.resumed) {
    const own = await engine.store.getArtifacts(job.id);
    if (own) assignment.restore = own;
  }
  return assignment;
}

export async function claim(
  engine: Engine,
  runner: string,
  free: Capacity,
  waitMs: number,
  signal?: AbortSignal,
): Promise<Assignment | undefined> {
  return engine.waitFor(() => claimOnce(engine, runner, free), waitMs, signal);
}
