/**
 * What to do about one submitted job, given dstack's view and Slurm's. Pure: the backend
 * carries the actions out. The one-shot runner reports a job's progress itself; this covers
 * what it cannot: waiting in Slurm's queue, a stop or abort (scancel), and endings that Slurm
 * decides (time limit, node failure, preemption, a cancel by someone else, a lost job).
 */
import { isFinished, RUNNER_LOST, SLURM_ENDED, slurmStopped } from '../../../core/job-status.js';
import type { JobRecord } from '../../../core/records.js';
import type { TrackedJob } from './tracked-jobs.js';
import { FINAL_STATES, WAITING_STATES, type SlurmJobState } from './types.js';

export type Action =
  /** Set (or with null clear) the dstack job's reason, its status unchanged. */
  | { kind: 'reason'; reason: string | null }
  /** End the dstack job from its current status. */
  | { kind: 'end'; to: 'FAILED' | 'STOPPED' | 'ABORTED'; reason: string }
  /** `scancel --signal=TERM --batch`: the one-shot runner stops the job and saves its artifacts. */
  | { kind: 'signal' }
  /** `scancel`: Slurm ends the job (SIGTERM to every process, SIGKILL after KillWait). */
  | { kind: 'cancel' }
  /** Note when Slurm first showed it ended: its runner may still be sending its last reports. */
  | { kind: 'ended' }
  /** Stop tracking it (and remove its folder): Slurm is done with this submission, and so is dstack. */
  | { kind: 'forget' };

export interface Situation {
  tracked: TrackedJob;
  /** dstack's job; undefined when it was deleted (prune). */
  job: JobRecord | undefined;
  /** Slurm's view; undefined when neither squeue nor sacct knows the job. */
  slurm: SlurmJobState | undefined;
  now: number;
  /** A stop's grace period when the stop did not set one, ms. */
  defaultGraceMs: number;
  /** Slurm's output file of the job, named in the reason when the runner died without a word. */
  outputFile?: string;
}

/** A submission Slurm does not know for this long is lost (squeue may lag a moment after sbatch). */
export const LOST_AFTER_MS = 10_000;
/** After a stop's grace period, how long the one-shot runner has to report before Slurm cancels the job. */
export const STOP_MARGIN_MS = 5_000;
/**
 * How long a job that Slurm shows CANCELLED, TIMEOUT, PREEMPTED, … (Slurm's own ending, its
 * processes gone: no longer COMPLETING) is left for the reports its runner sent just before
 * its end (the job's last log lines, a trap's goodbye) before the server records the end.
 */
export const LAST_WORDS_MS = 3_000;
/** A Slurm job still running this long after its dstack job ended is cancelled (its runner hung). */
export const FINISHED_CANCEL_AFTER_MS = 30_000;

// The stop's own reason when it gave one (`stopped by admin (root)`, a deleted user's), else these.
const USER_STOP = 'stopped by user';
const USER_ABORT = 'aborted by user';

export function decide(s: Situation): Action[] {
  const { tracked, job, slurm, now } = s;
  // Ended for Slurm once its processes are gone: a job still COMPLETING (23.02+ show the final
  // state beside that flag) may have a runner saving the job's artifacts until KillWait's SIGKILL.
  const ended = slurm !== undefined && FINAL_STATES.has(slurm.state) && !slurm.completing;
  const alive = slurm !== undefined && !ended;
  if (!job) return alive && !tracked.cancelAt ? [{ kind: 'cancel' }, { kind: 'forget' }] : [{ kind: 'forget' }];
  // Back in SUBMITTED, the job was resumed after this Slurm job ran it (a record is made only once
  // the job is claimed and submitted): what Slurm says of this one is no news of the new attempt.
  if (job.status === 'SUBMITTED')
    return alive && !tracked.cancelAt ? [{ kind: 'cancel' }, { kind: 'forget' }] : [{ kind: 'forget' }];

  if (isFinished(job.status)) {
    if (!alive) return [...slurmCause(tracked.slurmId, job, slurm), { kind: 'forget' }];
    if (tracked.cancelAt || slurm.completing) return [];
    const waiting = WAITING_STATES.has(slurm.state);
    const hung = now - (job.finishedAt ?? now) > FINISHED_CANCEL_AFTER_MS;
    return waiting || hung ? [{ kind: 'cancel' }] : [];
  }

  if (!slurm) {
    return now - tracked.submittedAt > LOST_AFTER_MS
      ? [{ kind: 'end', to: 'FAILED', reason: RUNNER_LOST }, { kind: 'forget' }]
      : [];
  }

  // Slurm is ending it and its runner is stopping it, saving its artifacts: not a stop to carry
  // out (no SIGTERM, no scancel), and an end that the runner reports, as long as Slurm lets it run.
  const stoppedForSlurm = job.reason === SLURM_ENDED && (job.status === 'STOPPING' || job.status === 'UPLOADING');

  if (ended) {
    if (job.status === 'STOPPING' && !stoppedForSlurm)
      return [{ kind: 'end', to: 'STOPPED', reason: job.reason ?? USER_STOP }, { kind: 'forget' }];
    if (job.status === 'ABORTING')
      return [{ kind: 'end', to: 'ABORTED', reason: job.reason ?? USER_ABORT }, { kind: 'forget' }];
    // COMPLETED or FAILED: the batch script (the runner) has exited, so it has said all it will.
    // Signalled: its processes are gone too, but a report sent just before its SIGKILL may be on the way.
    const signalled = slurm.state !== 'COMPLETED' && slurm.state !== 'FAILED';
    if (signalled && tracked.endedAt === undefined) return [{ kind: 'ended' }];
    if (signalled && now - tracked.endedAt! < LAST_WORDS_MS) return [];
    const reason =
      slurm.state === OUT_OF_MEMORY
        ? outOfMemory(tracked.slurmId)
        : stoppedForSlurm
          ? `${slurmEnding(tracked.slurmId, slurm)}; its runner was killed (KillWait) before it saved the job's artifacts`
          : slurmEnding(tracked.slurmId, slurm, s.outputFile, job.reason);
    return [{ kind: 'end', to: 'FAILED', reason }, { kind: 'forget' }];
  }

  if (WAITING_STATES.has(slurm.state)) {
    // Nothing ran yet, or (SUSPENDED: an admin's scontrol suspend, a preemption that suspends) its
    // runner is frozen with the job and can save nothing, nor be signalled (Slurm refuses a signal
    // to a suspended job): a stop or abort ends it here and now, and a stop says it saved nothing.
    if (job.status === 'STOPPING' || job.status === 'ABORTING') {
      const unsaved =
        slurm.state === 'SUSPENDED' ? `; slurm ${tracked.slurmId} was SUSPENDED: cancelled, nothing saved` : '';
      const end: Action =
        job.status === 'STOPPING'
          ? { kind: 'end', to: 'STOPPED', reason: `${job.reason ?? USER_STOP}${unsaved}` }
          : { kind: 'end', to: 'ABORTED', reason: job.reason ?? USER_ABORT };
      return [...(tracked.cancelAt ? [] : [{ kind: 'cancel' } as const]), end, { kind: 'forget' }];
    }
    const reason = waitingReason(tracked.slurmId, slurm);
    return job.reason === reason ? [] : [{ kind: 'reason', reason }];
  }

  // Running (or configuring, completing): the one-shot runner has it.
  if (job.status === 'ABORTING') return tracked.cancelAt ? [] : [{ kind: 'cancel' }];
  if (stoppedForSlurm) return [];
  if (job.status === 'STOPPING') {
    if (!tracked.termAt) return [{ kind: 'signal' }];
    const grace = job.stopGraceMs ?? s.defaultGraceMs;
    return !tracked.cancelAt && now - tracked.termAt > grace + STOP_MARGIN_MS ? [{ kind: 'cancel' }] : [];
  }
  if (job.reason?.startsWith(`slurm ${tracked.slurmId}: `)) return [{ kind: 'reason', reason: null }];
  return [];
}

/**
 * A job its runner stopped for Slurm's SIGTERM could only guess why (SLURM_ENDED); once Slurm
 * shows the end, its reason names it: a node set down (NODE_FAIL) is no time limit or scancel.
 */
function slurmCause(slurmId: string, job: JobRecord, slurm: SlurmJobState | undefined): Action[] {
  if (job.status === 'FAILED' && slurm?.state === 'OUT_OF_MEMORY' && !job.reason?.includes(OUT_OF_MEMORY))
    return [{ kind: 'reason', reason: `${job.reason ?? 'failed'}; ${outOfMemory(slurmId)}` }];
  if (job.status !== 'STOPPED' || job.reason !== SLURM_ENDED || !slurm) return [];
  // The batch script exited by itself: no ending of Slurm's to name.
  if (slurm.state === 'COMPLETED' || slurm.state === 'FAILED') return [];
  return [{ kind: 'reason', reason: slurmStopped(slurmEnding(slurmId, slurm)) }];
}

const OUT_OF_MEMORY = 'OUT_OF_MEMORY';

/**
 * Where Slurm enforces memory (cgroups), the kernel kills the job's biggest process, usually the
 * command itself, which its runner reports as any failure (`exit code 137`); Slurm's state of the
 * ended batch job says why, and how to fix it.
 */
function outOfMemory(slurmId: string): string {
  return (
    `slurm ${slurmId}: ${OUT_OF_MEMORY}: a process went over the job's memory and was killed; ask for more ` +
    "with resources.memory (--mem; without it, the partition's default)"
  );
}

/** `slurm 12: PENDING (Resources)`: what `dstack status` shows while Slurm holds the job. */
export function waitingReason(slurmId: string, slurm: SlurmJobState): string {
  return `slurm ${slurmId}: ${slurm.state}${slurm.reason ? ` (${slurm.reason})` : ''}`;
}

/**
 * `slurm 12: TIMEOUT (TimeLimit)`, `slurm 12: CANCELLED`, `slurm 12: NODE_FAIL`: why Slurm ended it.
 * `shown` is the job's reason until then: `slurm 12: PENDING (Resources)` while it waited.
 */
export function slurmEnding(slurmId: string, slurm: SlurmJobState, outputFile?: string, shown?: string | null): string {
  let text = `slurm ${slurmId}: ${slurm.state}`;
  const waited = waitedFor(slurmId, slurm, shown);
  // Slurm keeps the reason a job waited for when it ends it in the queue (a scancel there):
  // `CANCELLED (Resources)` would read as a cause, so say that it ended while it waited.
  if (waited) text += ` while ${waited}`;
  else if (slurm.reason) text += ` (${slurm.reason})`;
  else if (slurm.state === 'FAILED' && slurm.exitCode) text += ` (exit code ${slurm.exitCode})`;
  // The runner ended without reporting the job's end (it died, erred, or was SIGKILLed at KillWait
  // while the server did not answer): its own output says why. A job ended in the queue ran no runner.
  // A batch script that exited (COMPLETED, FAILED) ran, whatever the last look saw (it may fail between two).
  const ran = slurm.state === 'COMPLETED' || slurm.state === 'FAILED' || !waitingWhenEnded(slurmId, shown);
  if (outputFile && ran) text += `; the runner did not report the job's end, see ${outputFile}`;
  return text;
}

/** Whether the job was last seen waiting in Slurm's queue (`slurm 12: PENDING (…)`): no runner of it ran. */
function waitingWhenEnded(slurmId: string, shown: string | null | undefined): boolean {
  const prefix = `slurm ${slurmId}: `;
  return !!shown?.startsWith(prefix) && WAITING_STATES.has(shown.slice(prefix.length).split(' ', 1)[0]!);
}

/** `PENDING (Resources)` when Slurm's reason for the ended job is the one it waited for (it never ran). */
function waitedFor(slurmId: string, slurm: SlurmJobState, shown: string | null | undefined): string | undefined {
  const prefix = `slurm ${slurmId}: `;
  if (!slurm.reason || !shown?.startsWith(prefix)) return undefined;
  const waited = shown.slice(prefix.length);
  const state = waited.split(' ', 1)[0]!;
  return WAITING_STATES.has(state) && waited === `${state} (${slurm.reason})` ? waited : undefined;
}
