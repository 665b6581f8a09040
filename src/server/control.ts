/** What users do to runs and jobs once submitted: stop, abort, resume. */
import { ConflictError, assertNever } from '../core/errors.js';
import { isFinished } from '../core/job-status.js';
import type { JobRecord } from '../core/records.js';
import type { Engine } from './engine.js';

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

/** Resume stopped jobs: again from SUBMITTED, with their saved artifacts restored first. */
export async function resumeJobs(
  engine: Engine,
  jobs: readonly JobRecord[],
  all: readonly JobRecord[],
  actor: string,
): Promise<JobRecord[]> {
  const resumed: JobRecord[] = [];
  for (const job of jobs) {
    if (job.status !== 'STOPPED') {
      const it = `${job.status}${job.reason && job.status !== 'DONE' ? `: ${job.reason}` : ''}`;
      // A job that ended any other way has no saved state to go on from: a new run is the way.
      const instead = isFinished(job.status)
        ? `; only a stopped job resumes: run it again with dstack run ${job.workflow}`
        : '';
      throw new ConflictError(`job ${job.id} (${job.workflow}) is not stopped (it is ${it})${instead}`);
    }
    // A dependency that ended other than DONE and is not resumed with it would leave it waiting for good.
    const ended = all.find(
      (d) =>
        job.dependsOn.includes(d.id) && isFinished(d.status) && d.status !== 'DONE' && !jobs.some((j) => j.id === d.id),
    );
    if (ended) {
      const instead =
        ended.status === 'STOPPED'
          ? `resume it too (dstack resume ${job.runName})`
          : `run the workflow again with dstack run ${job.workflow}`;
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
  for (const job of jobs) {
    const result = await engine.transition(
      job.id,
      'STOPPED',
      'SUBMITTED',
      { resumed: true, reason: null, exitCode: null, runner: null, gpus: null, finishedAt: null, stopRequest: null },
      actor,
    );
    if (!result.ok) throw new ConflictError(`job ${job.id} changed while resuming it; try again`);
    resumed.push(result.value);
  }
  return resumed;
}
