/**
 * The job status machine: the one place that knows which transitions exist.
 * Stores apply a transition as a guarded update (`WHERE id = ? AND status = ?`).
 */
import { assertNever } from './errors.js';
import type { JobRecord } from './records.js';

export const JOB_STATUSES = [
  'SUBMITTED',
  'DOWNLOADING',
  'RUNNING',
  'UPLOADING',
  'DONE',
  'FAILED',
  'STOPPING',
  'STOPPED',
  'ABORTING',
  'ABORTED',
] as const;

export type JobStatus = (typeof JOB_STATUSES)[number];

/** The reason of a job FAILED because its runner went silent (or left without reporting its end). */
export const RUNNER_LOST = 'runner lost';

/** How the reason of a job FAILED because its runner registered again without it begins (`runnerRestarted`). */
const RESTARTED_PREFIX = 'runner restarted: ';

/**
 * The reason of a job FAILED because its runner registered again without it (it crashed, or
 * its server did, and the job's workspace could not be saved: docs/decisions.md), saying what
 * the job was doing then.
 */
export function runnerRestarted(status: JobStatus): string {
  const doing: Partial<Record<JobStatus, string>> = {
    DOWNLOADING: 'was being prepared (its commands had not started)',
    UPLOADING: 'was saving its artifacts',
    STOPPING: 'was stopping',
    ABORTING: 'was being aborted',
  };
  return `${RESTARTED_PREFIX}the job ${doing[status] ?? 'was running'} when it stopped`;
}

/**
 * The reason of a job that a restarted runner found running under its previous process and
 * stopped, its artifacts saved as a stop saves them (agent.ts `recover`): resumable.
 */
export function restartedStop(run: string, hasArtifacts: boolean): string {
  return stoppedBecause('its runner restarted', run, hasArtifacts);
}

/** The reason of a job stopped by something outside it (`why`), not by a user: saved, and resumable. */
export function stoppedBecause(why: string, run: string, hasArtifacts: boolean): string {
  return hasArtifacts
    ? `stopped: ${why}; its artifacts were saved (dstack resume ${run})`
    : `stopped: ${why} (dstack resume ${run} runs it again)`;
}

/**
 * The reason of a job FAILED because its runner, still heartbeating, no longer has it: the job
 * ended there, but its last report never reached the server (server/dropped-jobs.ts).
 */
export const RUNNER_DROPPED =
  "runner no longer has the job: how it ended never reached the server; see the runner's log";

/**
 * Whether a job FAILED with `reason` ended with its runner, not by a report of the runner's:
 * the lines its restarted runner had spooled are still taken.
 */
export function endedWithRunner(reason: string | undefined): boolean {
  // Prefixes: a resumable failure's reason says so after them (resumableFailure).
  return reason !== undefined && (reason.startsWith(RUNNER_LOST) || reason.startsWith(RESTARTED_PREFIX));
}

/**
 * The reason of a Slurm job's dstack job that its one-shot runner stopped, artifacts saved, because
 * Slurm was ending the batch job (SIGTERM not asked for by dstack): resumable, as after `dstack stop`.
 */
export const SLURM_ENDED = 'stopped: Slurm ended the batch job (time limit, preemption or scancel)';

/** SLURM_ENDED once Slurm has shown how it ended the job: `slurm 12: NODE_FAIL`, `slurm 12: TIMEOUT (TimeLimit)`. */
export function slurmStopped(ending: string): string {
  return `stopped: Slurm ended the batch job (${ending})`;
}

const TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  // SUBMITTED -> DONE: a job that joined an identical running job finishes with it (the cache).
  SUBMITTED: ['DOWNLOADING', 'DONE', 'FAILED', 'STOPPED', 'ABORTED'],
  DOWNLOADING: ['RUNNING', 'FAILED', 'STOPPING', 'ABORTING'],
  // RUNNING -> DONE: a job that declares no artifacts has nothing to upload.
  RUNNING: ['UPLOADING', 'DONE', 'FAILED', 'STOPPING', 'ABORTING'],
  UPLOADING: ['DONE', 'FAILED', 'STOPPED', 'ABORTING'],
  STOPPING: ['UPLOADING', 'STOPPED', 'FAILED', 'ABORTING'],
  ABORTING: ['ABORTED', 'FAILED'],
  DONE: [],
  // FAILED -> SUBMITTED: only a job whose resume failed before its commands started (isResumable).
  // FAILED -> STOPPING, -> STOPPED: a job lost with its runner that the runner took back, and its
  // dependents failed with it (leavesFailed).
  FAILED: ['SUBMITTED', 'STOPPING', 'STOPPED'],
  STOPPED: ['SUBMITTED'],
  ABORTED: [],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isFinished(status: JobStatus): boolean {
  switch (status) {
    case 'DONE':
    case 'FAILED':
    case 'STOPPED':
    case 'ABORTED':
      return true;
    case 'SUBMITTED':
    case 'DOWNLOADING':
    case 'RUNNING':
    case 'UPLOADING':
    case 'STOPPING':
    case 'ABORTING':
      return false;
    default:
      return assertNever(status, 'job status');
  }
}

/**
 * Why a job that ended other than DONE ended its dependents (`word`: stopped, failed, aborted):
 * their reason, which names it.
 */
export function dependencyEnded(word: 'stopped' | 'failed' | 'aborted', job: { workflow: string; id: string }): string {
  return `dependency ${word}: ${job.workflow} (${job.id})`;
}

/**
 * The reason of a job FAILED `runner lost` whose runner came back with its workspace and took it
 * back (`canTakeBack`): stopped, its artifacts saved, resumable.
 */
export function takenBackStop(run: string, hasArtifacts: boolean): string {
  return stoppedBecause(TAKEN_BACK, run, hasArtifacts);
}

const TAKEN_BACK = 'its runner was lost and came back';

/** Whether `reason` is a job's taken back by its runner (`takenBackStop`). */
export function isTakenBack(reason: string | undefined): boolean {
  return reason?.startsWith(`stopped: ${TAKEN_BACK}`) === true;
}

/**
 * Whether a job FAILED as lost with its runner can be taken back by that runner, back with the
 * job's workspace (a reboot outlasting the runner timeout): its commands had run, so there is
 * work to save, and no user was aborting it. It is then stopped as `dstack stop` stops it.
 */
export function canTakeBack(job: ResumeFacts & Pick<JobRecord, 'reason'>): boolean {
  return (
    job.status === 'FAILED' &&
    job.reason?.startsWith(RUNNER_LOST) === true &&
    job.commandsStarted === true &&
    job.stopRequest !== 'abort'
  );
}

/**
 * Whether a FAILED job may go `to`: SUBMITTED when resumed (`isResumable`); STOPPING when its
 * runner takes it back (`canTakeBack`); STOPPED when it never started and failed because a
 * dependency did, which has since been taken back and stopped (engine.ts `reviveDependents`).
 */
export function leavesFailed(job: ResumeFacts & Pick<JobRecord, 'reason'>, to: JobStatus): boolean {
  switch (to) {
    case 'SUBMITTED':
      return isResumable(job);
    case 'STOPPING':
      return canTakeBack(job);
    case 'STOPPED':
      return job.commandsStarted !== true && job.reason?.startsWith('dependency failed: ') === true;
    default:
      return false;
  }
}

/** What of a job's record says whether it can be resumed (`isResumable`). */
export type ResumeFacts = Pick<JobRecord, 'status' | 'resumed' | 'commandsStarted' | 'stopRequest'>;

/**
 * Whether `dstack resume` takes the job, by its own record: STOPPED (its work paused, its
 * artifacts saved), or FAILED in a resume before its commands started (its dependencies' or its
 * own saved artifacts could not be fetched, its runner was lost while preparing it, its image
 * could not be pulled). Such an attempt changed nothing: artifacts are saved only once the
 * commands have run, so those it was resumed with are still the ones its last commands saved,
 * and it is resumed again from them. A job that failed in its first attempt has nothing to go
 * on from (`dstack run` runs it again), and one that was being aborted keeps nothing, by its
 * user's word.
 */
export function isResumable(job: ResumeFacts): boolean {
  switch (job.status) {
    case 'STOPPED':
      return true;
    case 'FAILED':
      return job.resumed === true && job.commandsStarted === false && job.stopRequest !== 'abort';
    default:
      return false;
  }
}

/**
 * The first of `job`'s dependencies among `jobs` that ended other than DONE, leaving out those
 * in `taken` (resumed with it): resumed without it, `job` would wait on it for good.
 */
export function endedDependency<T extends { id: string; status: JobStatus }>(
  job: { dependsOn: readonly string[] },
  jobs: readonly T[],
  taken: ReadonlySet<string> = new Set(),
): T | undefined {
  return jobs.find(
    (d) => job.dependsOn.includes(d.id) && isFinished(d.status) && d.status !== 'DONE' && !taken.has(d.id),
  );
}

/**
 * The jobs of `jobs` (a run's) that depend on one of `ids`, directly or through others, in
 * `jobs`' order: those a stop of them stops as it ends STOPPED (`dependency stopped: …`).
 */
export function dependentsOf<T extends { id: string; dependsOn: readonly string[] }>(
  jobs: readonly T[],
  ids: Iterable<string>,
): T[] {
  const given = new Set(ids);
  const reached = new Set(given);
  // Again until nothing is added: stored jobs need not come dependencies first.
  for (let grew = true; grew;) {
    grew = false;
    for (const job of jobs) {
      if (reached.has(job.id) || !job.dependsOn.some((id) => reached.has(id))) continue;
      reached.add(job.id);
      grew = true;
    }
  }
  return jobs.filter((j) => reached.has(j.id) && !given.has(j.id));
}

/**
 * The jobs of `jobs` (a run's) that `dstack resume RUN` takes: each resumable by its own record
 * whose dependencies among `jobs` are DONE, unfinished, or taken with it. A job resumed without
 * a dependency that ended otherwise would wait for good: one that failed because its dependency
 * failed resumes with that dependency, or not at all.
 */
export function resumableJobs<T extends ResumeFacts & { id: string; dependsOn: readonly string[] }>(
  jobs: readonly T[],
): T[] {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const known = new Map<string, boolean>();
  const takes = (job: T): boolean => {
    let answer = known.get(job.id);
    if (answer === undefined) {
      known.set(job.id, false); // a cycle (none is ever stored) resumes nothing rather than recursing
      answer =
        isResumable(job) &&
        job.dependsOn.every((id) => {
          const dep = byId.get(id);
          return dep === undefined || dep.status === 'DONE' || !isFinished(dep.status) || takes(dep);
        });
      known.set(job.id, answer);
    }
    return answer;
  };
  return jobs.filter(takes);
}

/**
 * The reason of a job that FAILED in a resume before its commands started, when it is resumable
 * (`isResumable`, its dependencies too): what went wrong, then that it can still be resumed.
 */
export function resumableFailure(reason: string, run: string): string {
  return `${reason}; its commands had not started, so it can still be resumed (dstack resume ${run})`;
}

/** A job a runner holds: it has a process or is moving files for one. */
export function isActive(status: JobStatus): boolean {
  return !isFinished(status) && status !== 'SUBMITTED';
}

export function isJobStatus(value: string): value is JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(value);
}

/**
 * A run's status is the first of these that one of its jobs has: the most advanced activity
 * while any job is unfinished, else the worst ending. One list, so the store can filter runs by
 * status in SQL (store/run-status-filter.ts) exactly as `runStatus` computes it.
 */
export const RUN_STATUS_ORDER: readonly JobStatus[] = [
  'ABORTING',
  'STOPPING',
  'UPLOADING',
  'RUNNING',
  'DOWNLOADING',
  'SUBMITTED',
  'FAILED',
  'ABORTED',
  'STOPPED',
  'DONE',
];

/** What a run's status is, given its jobs' statuses (a run without jobs: SUBMITTED). */
export function runStatus(jobs: readonly JobStatus[]): JobStatus {
  return RUN_STATUS_ORDER.find((s) => jobs.includes(s)) ?? 'SUBMITTED';
}

/** The result of a guarded transition: a mismatch is a value, never a silent no-op. */
export type TransitionResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'status_mismatch'; actual: JobStatus }
  | { ok: false; reason: 'not_allowed'; from: JobStatus; to: JobStatus };
