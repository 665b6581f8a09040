/** What users do to runs and jobs once submitted: stop, abort, resume. */
import { ConflictError } from '../core/errors.js';
import { isFinished } from '../core/job-status.js';
import type { JobRecord } from '../core/records.js';
import type { Engine } from './engine.js';

/** Stop (or abort) jobs. Jobs not started end at once; running ones are signalled through their runner. */
export async function stopJobs(
  engine: Engine,
  jobs: readonly JobRecord[],
  abort: boolean,
  actor: string,
): Promise<JobRecord[]> {
  const reason = abort ? 'aborted by user' : 'stopped by user';
  const changed: JobRecord[] = [];
  // Dependents first, so that stopping a run never fails a job as "dependency stopped" that was itself stopped.
  for (const job of [...jobs].reverse()) {
    const current = await engine.store.getJob(job.id);
    if (!current || isFinished(current.status)) continue;
    const to = abort ? 'ABORTING' : 'STOPPING';
    const result =
      current.status === 'SUBMITTED'
        ? await engine.transition(current.id, 'SUBMITTED', abort ? 'ABORTED' : 'STOPPED', { reason }, actor)
        : current.status === 'UPLOADING' && !abort
          ? undefined // its work is done; let the upload finish
          : current.status === 'ABORTING' || (current.status === 'STOPPING' && !abort)
            ? undefined
            : await engine.transition(
                current.id,
                current.status,
                to,
                { stopRequest: abort ? 'abort' : 'stop', reason },
                actor,
              );
    if (result?.ok) changed.push(result.value);
  }
  return changed;
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
    if (job.status !== 'STOPPED')
      throw new ConflictError(`job ${job.id} (${job.workflow}) is not stopped (it is ${job.status})`);
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
