/**
 * Why a job that has not started waits: the one answer `dstack status`, `dstack logs` and the
 * notes of a followed run (`dstack run`, `dstack logs -f`) all give.
 */
import type { JobRecord } from './records.js';

export type WaitingReason =
  /** The server said why (`no runner has 2 GPUs`, `waiting for the same job in …`, a Slurm queue's state). */
  | { by: 'server'; reason: string }
  /** Dependencies not DONE yet (`waiting for prepare`): their ids. */
  | { by: 'dependencies'; reason: string; dependencies: string[] }
  /**
   * Ready, and no reason from the server, which names the runners only when none could ever take
   * the job: those that could are busy, or one is about to take it.
   */
  | { by: 'runners'; reason: string };

/** The reason of a ready job that no runner has taken yet. */
export const FREE_RUNNER = 'waiting for a free runner';

/**
 * Why `job` waits, given the jobs of its run by id; undefined when it does not (it started or
 * ended), or when it is being prepared and the server says nothing of it.
 */
export function waitingReason(
  job: JobRecord,
  jobsById: ReadonlyMap<string, Pick<JobRecord, 'id' | 'ref' | 'status'>>,
): WaitingReason | undefined {
  if (job.status !== 'SUBMITTED' && job.status !== 'DOWNLOADING') return undefined;
  if (job.reason) return { by: 'server', reason: job.reason };
  if (job.status !== 'SUBMITTED') return undefined;
  // A dependency of another run (a tag's) is DONE, or the job would not have been submitted.
  const pending = job.dependsOn.flatMap((id) => {
    const dep = jobsById.get(id);
    return dep && dep.status !== 'DONE' ? [dep] : [];
  });
  if (pending.length > 0)
    return {
      by: 'dependencies',
      reason: `waiting for ${pending.map((d) => d.ref).join(', ')}`,
      dependencies: pending.map((d) => d.id),
    };
  return { by: 'runners', reason: FREE_RUNNER };
}
