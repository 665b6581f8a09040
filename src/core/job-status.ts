/**
 * The job status machine: the one place that knows which transitions exist.
 * Stores apply a transition as a guarded update (`WHERE id = ? AND status = ?`).
 */
import { assertNever } from './errors.js';

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
  return hasArtifacts
    ? `stopped: its runner restarted; its artifacts were saved (dstack resume ${run})`
    : `stopped: its runner restarted (dstack resume ${run} runs it again)`;
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
  return reason === RUNNER_LOST || (reason?.startsWith(RESTARTED_PREFIX) ?? false);
}

/**
 * The reason of a Slurm job's dstack job that its one-shot runner stopped, artifacts saved, because
 * Slurm was ending the batch job (SIGTERM not asked for by dstack): resumable, as after `dstack stop`.
 */
export const SLURM_ENDED = 'stopped: Slurm ended the batch job (time limit, preemption or scancel)';

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
  FAILED: [],
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

/** A job a runner holds: it has a process or is moving files for one. */
export function isActive(status: JobStatus): boolean {
  return !isFinished(status) && status !== 'SUBMITTED';
}

export function isJobStatus(value: string): value is JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(value);
}

/** What a run's status is, given its jobs' statuses. */
export function runStatus(jobs: readonly JobStatus[]): JobStatus {
  if (jobs.length === 0) return 'SUBMITTED';
  const unfinished = jobs.filter((s) => !isFinished(s));
  if (unfinished.length > 0) {
    // The most advanced activity wins: a run with one job running is RUNNING.
    for (const s of ['ABORTING', 'STOPPING', 'UPLOADING', 'RUNNING', 'DOWNLOADING'] as const) {
      if (unfinished.includes(s)) return s;
    }
    return 'SUBMITTED';
  }
  for (const s of ['FAILED', 'ABORTED', 'STOPPED'] as const) {
    if (jobs.includes(s)) return s;
  }
  return 'DONE';
}

/** The result of a guarded transition: a mismatch is a value, never a silent no-op. */
export type TransitionResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'status_mismatch'; actual: JobStatus }
  | { ok: false; reason: 'not_allowed'; from: JobStatus; to: JobStatus };
