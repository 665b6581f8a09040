/**
 * Handing jobs to runners. Runners pull: a runner asks with its free capacity and gets
 * the oldest waiting job whose dependencies are DONE and whose request fits.
 */
import type { Assignment } from '../core/api.js';
import { fit, subtract, type Capacity, type ResourceRequest } from '../core/resources.js';
import type { JobRecord } from '../core/records.js';
import type { Engine } from './engine.js';

/**
 * What a runner has free: its registered capacity less what its unfinished jobs hold.
 * The server computes it, so a long-polling claim never works from a stale figure.
 */
export async function freeCapacity(engine: Engine, runner: string): Promise<Capacity | undefined> {
  const record = await engine.store.getRunner(runner);
  if (!record || record.status !== 'ACTIVE') return undefined;
  let free = record.total;
  for (const job of await engine.store.activeJobsOfRunner(runner)) {
    free = subtract(free, job.spec.resources, job.gpus ?? []);
  }
  return free;
}

/** Pick and take one job for the runner, or undefined when none is ready and fits. */
export async function claimOnce(engine: Engine, runner: string): Promise<Assignment | undefined> {
  const waiting = (await engine.store.jobsByStatus(['SUBMITTED'])).filter((j) => !j.cachedFrom);
  if (waiting.length === 0) return undefined;
  const free = await freeCapacity(engine, runner);
  if (!free) return undefined;
  const statusOf = new Map<string, JobRecord>();
  // Dependencies are mostly jobs of the same runs: fetch those runs' jobs at once, then the rest one by one.
  for (const job of await engine.store.jobsOfRuns([...new Set(waiting.map((j) => j.runName))]))
    statusOf.set(job.id, job);
  for (const id of new Set(waiting.flatMap((j) => j.dependsOn))) {
    if (statusOf.has(id)) continue;
    const dep = await engine.store.getJob(id);
    if (dep) statusOf.set(id, dep);
  }
  const total = (await engine.store.getRunner(runner))!.total;
  let left = free;
  for (const job of waiting) {
    if (!job.dependsOn.every((id) => statusOf.get(id)?.status === 'DONE')) continue;
    const gpus = fit(job.spec.resources, left);
    if (gpus === null) {
      // It does not fit now but would on this runner once jobs finish: hold its share back,
      // so that a stream of younger, smaller jobs cannot starve it.
      if (fit(job.spec.resources, total) !== null) left = reserve(left, job.spec.resources);
      continue;
    }
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

function reserve(free: Capacity, request: ResourceRequest): Capacity {
  return { cpu: free.cpu - request.cpu, memory: free.memory - request.memory, gpus: free.gpus.slice(request.gpu) };
}

/** What a runner needs to run `job` (already assigned to it): its run, its dependencies' artifacts, what to restore. */
export async function assignmentFor(engine: Engine, job: JobRecord, deps: JobRecord[]): Promise<Assignment> {
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
  held: readonly string[],
  waitMs: number,
  signal?: AbortSignal,
): Promise<Assignment | undefined> {
  const unanswered = await lostAssignment(engine, runner, held);
  if (unanswered) return unanswered;
  // Only new work wakes a claim (a submission, a finished job, a runner back): not every status change.
  return engine.waitFor(() => claimOnce(engine, runner), waitMs, signal, ['work']);
}

/**
 * A job given to this runner whose answer never reached it (the connection dropped on the
 * way back): the runner does not hold it, so it is offered again rather than stranded.
 */
async function lostAssignment(
  engine: Engine,
  runner: string,
  held: readonly string[],
): Promise<Assignment | undefined> {
  const lost = (await engine.store.activeJobsOfRunner(runner)).find(
    (j) => j.status === 'DOWNLOADING' && !held.includes(j.id),
  );
  if (!lost) return undefined;
  const deps = await Promise.all(lost.dependsOn.map((id) => engine.store.getJob(id)));
  return assignmentFor(
    engine,
    lost,
    deps.filter((d) => d !== undefined),
  );
}
