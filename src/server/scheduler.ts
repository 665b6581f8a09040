/**
 * Handing jobs to runners. Runners pull: a runner asks with its free capacity and gets
 * the oldest waiting job whose dependencies are DONE, whose request fits, and that it can run
 * (a Docker engine for a job with an image: core/job-needs.ts, told in its registered capacity).
 */
import type { Assignment } from '../core/api.js';
import { lacks, neverRuns } from '../core/job-needs.js';
import { fit, subtract, type Capacity, type ResourceRequest } from '../core/resources.js';
import { producer, type JobRecord, type RunnerRecord } from '../core/records.js';
import type { Engine } from './engine.js';

/**
 * What a runner has free: its registered capacity less what its unfinished jobs hold.
 * The server computes it, so a long-polling claim never works from a stale figure.
 */
export async function freeCapacity(engine: Engine, runner: string): Promise<Capacity | undefined> {
  const record = await engine.store.getRunner(runner);
  if (!record || record.status !== 'ACTIVE') return undefined;
  return freeOf(engine, runner, record.total);
}

/**
 * Ready jobs read in the first page: a claim nearly always takes the first one, or finds the
 * runner full at the first one; later pages grow (each row read is a full job, spec parsed).
 */
const FIRST_PAGE = 2;
const MAX_PAGE = 64;

/** A claim within more than the runner's registered capacity, for some jobs only (the Slurm backend's queue). */
export interface ClaimWithin {
  /** The capacity to fill instead of the registered one (it keeps the registered one's abilities). */
  total?: Capacity;
  /** Only jobs for which this holds are taken; the others are passed over, holding nothing back. */
  only?: (job: JobRecord) => boolean;
}

/**
 * Pick and take one job for the runner, or undefined when none is ready and fits. Only
 * ready jobs are read (the store checks dependencies), a page at a time, so a claim costs
 * what it takes rather than a read of every waiting job and their runs.
 */
export async function claimOnce(
  engine: Engine,
  runner: string,
  within: ClaimWithin = {},
): Promise<Assignment | undefined> {
  const version = engine.workVersion;
  const nothing = () => {
    noteNothingFits(engine, runner, version);
    return undefined;
  };
  let record: RunnerRecord | undefined;
  let total: Capacity | undefined;
  let left: Capacity | undefined;
  for (let offset = 0, page = FIRST_PAGE; ; offset += page, page = Math.min(page * 4, MAX_PAGE)) {
    const ready = await engine.store.readyJobs(page, offset);
    if (ready.length === 0) return nothing();
    if (!record) {
      record = await engine.store.getRunner(runner);
      if (!record || record.status !== 'ACTIVE') return undefined;
      total = within.total ?? record.total;
      left = await freeOf(engine, runner, total);
    }
    for (const [i, job] of ready.entries()) {
      if (within.only && !within.only(job)) continue;
      // Told with its registered capacity, already read: no read more per claim.
      if (lacks(job.spec, total!) !== null) continue;
      const gpus = fit(job.spec.resources, left!);
      if (gpus === null) {
        left = holdBack(left!, job, total!);
        // Requests are never negative: once CPU or memory is overdrawn no later job fits, so
        // a full runner stops here instead of paging through every ready job.
        if (overdrawn(left)) return nothing();
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
      const rest = subtract(left!, job.spec.resources, gpus);
      if (!within.only && nothingElseFits(ready.slice(i + 1), rest, total!, ready.length < page)) nothing();
      return assignmentFor(engine, taken.value, await dependenciesOf(engine, taken.value));
    }
    if (ready.length < page) return nothing();
  }
}

/**
 * Whether, with `left` after a job was taken, none of the ready jobs after it fits, and none
 * after those could (the same rule as claimOnce's: a share held back that overdraws the runner,
 * or no more ready jobs). Undecided is false.
 */
function nothingElseFits(rest: readonly JobRecord[], left: Capacity, total: Capacity, lastPage: boolean): boolean {
  for (const job of rest) {
    // As claimOnce takes one: nothing it lacks (neverRuns's other half is implied: it fits `left`).
    if (lacks(job.spec, total) === null && fit(job.spec.resources, left) !== null) return false;
    left = holdBack(left, job, total);
    if (overdrawn(left)) return true;
  }
  return lastPage;
}

/**
 * `left` less the share of a job that does not fit now but would on this runner once jobs
 * finish, so that a stream of younger, smaller jobs cannot starve it; `left` as it is for a
 * job this runner can never take.
 */
function holdBack(left: Capacity, job: JobRecord, total: Capacity): Capacity {
  return neverRuns(job.spec, total) === null ? reserve(left, job.spec.resources) : left;
}

const overdrawn = (left: Capacity) => left.cpu < 0 || left.memory < 0;

/**
 * When a claim last found that no ready job fits a runner: the engine's work version then, and
 * the time. Until new work comes (everything that can make a job fit wakes runners: a
 * submission, a finished or resumed job, a runner registered or back), another look finds the
 * same; so a runner's claim right after a launch, when it is full, waits for work before it
 * looks. A note older than NOTHING_FITS_MS is not trusted, so that a change that woke no one
 * (another server process on the same database) is seen by the runner's next claim.
 */
const nothingFits = new WeakMap<Engine, Map<string, { version: number; at: number }>>();
const NOTHING_FITS_MS = 1000;

function noteNothingFits(engine: Engine, runner: string, version: number): void {
  let notes = nothingFits.get(engine);
  if (!notes) nothingFits.set(engine, (notes = new Map()));
  notes.set(runner, { version, at: Date.now() });
}

function nothingFitsNow(engine: Engine, runner: string): boolean {
  const note = nothingFits.get(engine)?.get(runner);
  return note !== undefined && note.version === engine.workVersion && Date.now() - note.at < NOTHING_FITS_MS;
}

async function freeOf(engine: Engine, runner: string, total: Capacity): Promise<Capacity> {
  let free = total;
  for (const job of await engine.store.activeJobsOfRunner(runner)) {
    free = subtract(free, job.spec.resources, job.gpus ?? []);
  }
  return free;
}

/** A job's dependencies in its `dependsOn` order; ids no longer stored are left out. */
export async function dependenciesOf(engine: Engine, job: JobRecord): Promise<JobRecord[]> {
  const found = await engine.store.jobsByIds(job.dependsOn);
  return job.dependsOn.flatMap((id) => found.get(id) ?? []);
}

function reserve(free: Capacity, request: ResourceRequest): Capacity {
  return { cpu: free.cpu - request.cpu, memory: free.memory - request.memory, gpus: free.gpus.slice(request.gpu) };
}

/** What a runner needs to run `job` (already assigned to it): its run, its dependencies' artifacts, what to restore. */
export async function assignmentFor(engine: Engine, job: JobRecord, deps: JobRecord[]): Promise<Assignment> {
  const run = await engine.store.getRun(job.runName);
  if (!run) throw new Error(`run ${job.runName} of job ${job.id} is missing`);
  // One read for all of them: a job that gathers 1,000 others would otherwise wait on 1,000.
  const manifests = await engine.store.artifactsOf(deps.map(producer));
  const dependencies = deps.map((dep) => ({
    job: dep,
    manifest: manifests.get(producer(dep)) ?? { artifacts: [] },
  }));
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
  // Only new work wakes a claim (a submission, a finished or resumed job, a runner back): not every
  // status change. Found full at the last look with no work since: it waits for work before looking.
  // A draining runner's claim ends with none (null), as soon as the drain wakes it.
  const found = await engine.waitFor(
    async () => (engine.presence.isDraining(runner) ? null : claimOnce(engine, runner)),
    waitMs,
    signal,
    ['work'],
    nothingFitsNow(engine, runner),
  );
  return found ?? undefined;
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
  return assignmentFor(engine, lost, await dependenciesOf(engine, lost));
}
