/** What users do to runs and jobs once submitted: stop, abort, resume. */
import { ConflictError, NotFoundError, assertNever } from '../core/errors.js';
import { endedDependency, isFinished, isResumable, type TransitionResult } from '../core/job-status.js';
import type { JobRecord } from '../core/records.js';
import { runAgainCommand } from '../core/variables.js';
import { readCodeManifest } from './code.js';
import type { Engine } from './engine.js';
import { dependenciesOf } from './scheduler.js';
import type { TransitionPatch } from './store/store.js';
import type { RunRecord } from '../core/records.js';
import { codeDigests, jobKey, reuse } from './submit.js';
import { checkTagFree } from './tag-check.js';

export interface StopOptions {
  /** Kill at once and save nothing, rather than SIGTERM, the grace period, then the artifacts. */
  abort?: boolean;
  /** Who asks, for the job's events: `user:NAME`, `server`. */
  actor: string;
  graceMs?: number;
  /** The jobs' reason; by default "stopped by user" or "aborted by user". */
  reason?: string;
}

/**
 * Stop (or abort) jobs. Jobs not started end at once (STOPPED or ABORTED); running ones go
 * to STOPPING or ABORTING and their runner is told through its heartbeat.
 */
export async function stopJobs(engine: Engine, jobs: readonly JobRecord[], options: StopOptions): Promise<JobRecord[]> {
  const changed: JobRecord[] = [];
  // Dependents first, so that each job of a stopped run says it was stopped, not that its dependency was.
  for (const job of [...jobs].reverse()) {
    const current = await engine.store.getJob(job.id);
    if (!current) continue;
    const result = await stopOne(engine, current, options);
    if (result?.ok) changed.push(result.value);
  }
  return changed;
}

function stopOne(engine: Engine, job: JobRecord, { abort = false, actor, graceMs, reason: given }: StopOptions) {
  const reason = given ?? (abort ? 'aborted by user' : 'stopped by user');
  const signal = () =>
    engine.transition(
      job.id,
      job.status,
      abort ? 'ABORTING' : 'STOPPING',
      { stopRequest: abort ? 'abort' : 'stop', reason, ...(graceMs === undefined ? {} : { stopGraceMs: graceMs }) },
      actor,
    );
  switch (job.status) {
    case 'SUBMITTED':
      return engine.transition(job.id, 'SUBMITTED', abort ? 'ABORTED' : 'STOPPED', { reason, cachedFrom: null }, actor);
    case 'DOWNLOADING':
    case 'RUNNING':
      return signal();
    case 'UPLOADING': // its work is done: a stop lets the upload finish, an abort does not
    case 'STOPPING': // already stopping: only an abort changes it
      return abort ? signal() : undefined;
    case 'ABORTING':
    case 'DONE':
    case 'FAILED':
    case 'STOPPED':
    case 'ABORTED':
      return undefined;
    default:
      return assertNever(job.status, 'job status');
  }
}

/**
 * Resume jobs (job-status.ts `isResumable`: stopped ones, and failed ones whose resume failed
 * before their commands started): again from SUBMITTED, with their saved artifacts restored first.
 */
export async function resumeJobs(
  engine: Engine,
  jobs: readonly JobRecord[],
  all: readonly JobRecord[],
  actor: string,
  { noTag = false, overrides = {} }: { noTag?: boolean; overrides?: Record<string, string> } = {},
): Promise<JobRecord[]> {
  const resumed: JobRecord[] = [];
  const taken = new Set(jobs.map((j) => j.id));
  for (const job of jobs) {
    if (!isResumable(job)) {
      const it = `${job.status}${job.reason && job.status !== 'DONE' ? `: ${job.reason}` : ''}`;
      // A job that ended any other way has no saved state to go on from: a new run is the way.
      const instead = isFinished(job.status)
        ? `; only a stopped job resumes, or one whose resume failed before its commands started: run it again with ${runAgainCommand(job, overrides)}`
        : '';
      throw new ConflictError(`job ${job.id} (${job.workflow}) is not stopped (it is ${it})${instead}`);
    }
    // A dependency that ended other than DONE and is not resumed with it would leave it waiting for good.
    const ended = endedDependency(job, all, taken);
    if (ended) {
      const instead = isResumable(ended)
        ? `resume it too (dstack resume ${job.runName})`
        : `run the workflow again with ${runAgainCommand(job, overrides)}`;
      throw new ConflictError(
        `job ${job.id} (${job.workflow}) cannot be resumed: its dependency ${ended.workflow} (${ended.id}) is ${ended.status}; ${instead}`,
      );
    }
    const blocking = all.filter((j) => j.dependsOn.includes(job.id) && !isFinished(j.status));
    if (blocking.length > 0) {
      throw new ConflictError(
        `job ${job.id} (${job.workflow}) cannot be resumed: other jobs depend on it (${blocking.map((j) => j.id).join(', ')})`,
      );
    }
  }
  // Serialised as submissions are: a job decided afresh joins an identical one submitted at the same time.
  return engine.serialize(async () => {
    for (const name of new Set(jobs.map((j) => j.runName))) await checkTagStillFree(engine, name, noTag);
    // A run and its code are read once for all its jobs decided afresh (a stopped 1,000-job DAG's).
    const runs = new Map<string, Promise<RunCode>>();
    const runCode = (name: string) => {
      let found = runs.get(name);
      if (!found) runs.set(name, (found = readRunCode(engine, name)));
      return found;
    };
    for (const job of jobs) {
      const result =
        job.startedAt === undefined
          ? await resumeUnstarted(engine, job, actor, await runCode(job.runName))
          : await engine.transition(job.id, job.status, 'SUBMITTED', RESUMED, actor);
      if (!result.ok) throw new ConflictError(`job ${job.id} changed while resuming it; try again`);
      resumed.push(result.value);
    }
    return resumed;
  });
}

/**
 * A run submitted with --tag gets it once DONE: resumed, it must still be able to. Another run
 * may have taken the tag, or been submitted to, while this one was stopped; `noTag` (its user's
 * choice then) drops the promise instead.
 */
async function checkTagStillFree(engine: Engine, runName: string, noTag: boolean): Promise<void> {
  const run = await engine.store.getRun(runName);
  if (!run?.tagOnDone || run.tag === run.tagOnDone) return;
  // Resumed without it, by its user's word: it ends untagged, and the tag stays the other run's.
  if (noTag) return engine.store.dropTagPromise(run.name);
  try {
    await checkTagFree(engine, { user: run.user, project: run.project }, run.tagOnDone, run.name);
  } catch (e) {
    if (!(e instanceof ConflictError)) throw e;
    throw new ConflictError(
      `run ${run.name} was submitted with --tag ${run.tagOnDone}: ${e.message}; ` +
        `resume it without the tag with dstack resume --no-tag ${run.name}`,
      { cause: e },
    );
  }
}

const RESUMED = {
  resumed: true,
  commandsStarted: false,
  reason: null,
  exitCode: null,
  runner: null,
  gpus: null,
  finishedAt: null,
  stopRequest: null,
} satisfies TransitionPatch;

/**
 * A job that never reached RUNNING in any attempt (`startedAt` unset: stopped while it waited or
 * while its workspace was made, or failed so in a resume) has nothing saved to go on from: it is
 * decided afresh, as a submission decides. One that reached RUNNING once is resumed as it is,
 * even where its commands did not start then (an image that could not be pulled).
 * Its key is made again from the jobs that now make its dependencies' artifacts (one it
 * followed may have run itself since, or it may follow another now), and unless its run was
 * submitted with --no-cache it takes a DONE job with that key, or joins a running one.
 */
async function resumeUnstarted(
  engine: Engine,
  job: JobRecord,
  actor: string,
  { run, code }: RunCode,
): Promise<TransitionResult<JobRecord>> {
  // Its code is no longer stored: it resumes as it was, and its runner says what is missing.
  if (!code) return engine.transition(job.id, job.status, 'SUBMITTED', RESUMED, actor);
  const deps = await dependenciesOf(engine, job);
  const fresh: JobRecord = {
    ...job,
    status: 'SUBMITTED',
    cacheKey: jobKey(engine, code(job.spec.inputs), job.spec, deps),
    cachedFrom: undefined,
    reason: undefined,
  };
  if (!run.noCache) await reuse(engine, run.user, [fresh], Date.now());
  // Its source set at once: a job that is to be DONE from the cache is never ready for a runner meanwhile.
  const cached = fresh.status === 'DONE';
  const patch: TransitionPatch = {
    ...RESUMED,
    cacheKey: fresh.cacheKey,
    cachedFrom: fresh.cachedFrom ?? null,
    ...(fresh.cachedFromAnotherUser ? { cachedFromAnotherUser: true } : {}),
    reason: cached ? null : (fresh.reason ?? null),
  };
  const result = await engine.transition(job.id, job.status, 'SUBMITTED', patch, actor);
  if (!result.ok) return result;
  if (cached) return engine.transition(job.id, 'SUBMITTED', 'DONE', { reason: 'cached', exitCode: 0 }, actor);
  await engine.settleLateFollowers([result.value]);
  return result;
}

/** A run, and the digests of its code as its jobs count it; no `code` when its code is no longer stored. */
interface RunCode {
  run: RunRecord;
  code?: (inputs: string[] | undefined) => string;
}

async function readRunCode(engine: Engine, name: string): Promise<RunCode> {
  const run = await engine.store.getRun(name);
  if (!run) throw new NotFoundError(`no run '${name}'`);
  const manifest = await readCodeManifest(engine.blobs, run.codeDigest).catch((e: unknown) => {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  });
  return manifest ? { run, code: codeDigests(manifest) } : { run };
}
