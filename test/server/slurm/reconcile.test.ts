/** What the tracker does about a submitted job, for each pair of dstack's and Slurm's views. */
import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../../src/core/job-status.js';
import type { JobRecord } from '../../../src/core/records.js';
import {
  decide,
  LAST_WORDS_MS,
  LOST_AFTER_MS,
  STOP_MARGIN_MS,
  type Situation,
} from '../../../src/server/backends/slurm/reconcile.js';
import type { SlurmJobState } from '../../../src/server/backends/slurm/types.js';
import { makeJob, makeRun } from '../../store/fixtures.js';

const NOW = 1_800_000_000_000;
/** What a reason adds when the runner ended without reporting: where its own messages are. */
const SEE = "; the runner did not report the job's end, see /shared/jobs/x/slurm-12.out";
const job = (status: JobStatus, fields: Partial<JobRecord> = {}) =>
  makeJob(makeRun('calm-owl-1'), 'train', { status, runner: 'slurm', ...fields });
const slurm = (state: string, reason?: string, exitCode?: number): SlurmJobState => ({
  slurmId: '12',
  state,
  ...(reason ? { reason } : {}),
  ...(exitCode === undefined ? {} : { exitCode }),
});
const situation = (j: JobRecord | undefined, s: SlurmJobState | undefined, fields: Partial<Situation> = {}) =>
  decide({
    tracked: { jobId: 'calm-owl-1-train', slurmId: '12', submittedAt: NOW - 60_000 },
    job: j,
    slurm: s,
    now: NOW,
    defaultGraceMs: 10_000,
    outputFile: '/shared/jobs/x/slurm-12.out',
    ...fields,
  });

describe('Slurm reconciliation', () => {
  it("shows Slurm's pending reason on the waiting job, and clears it once Slurm runs it", () => {
    expect(situation(job('DOWNLOADING'), slurm('PENDING', 'Resources'))).toEqual([
      { kind: 'reason', reason: 'slurm 12: PENDING (Resources)' },
    ]);
    expect(
      situation(job('DOWNLOADING', { reason: 'slurm 12: PENDING (Resources)' }), slurm('PENDING', 'Resources')),
    ).toEqual([]);
    expect(situation(job('RUNNING', { reason: 'slurm 12: PENDING (Priority)' }), slurm('RUNNING'))).toEqual([
      { kind: 'reason', reason: null },
    ]);
    expect(situation(job('RUNNING'), slurm('RUNNING'))).toEqual([]);
  });

  it('ends a job that Slurm ended with its state and reason', () => {
    // Seen ended a while ago: the runner has had its time to send its last lines.
    const seen = {
      tracked: { jobId: 'calm-owl-1-train', slurmId: '12', submittedAt: NOW - 60_000, endedAt: NOW - LAST_WORDS_MS },
    };
    expect(situation(job('RUNNING'), slurm('TIMEOUT', 'TimeLimit'), seen)).toEqual([
      { kind: 'end', to: 'FAILED', reason: `slurm 12: TIMEOUT (TimeLimit)${SEE}` },
      { kind: 'forget' },
    ]);
    expect(situation(job('RUNNING'), slurm('CANCELLED', undefined, 1), seen)[0]).toEqual({
      kind: 'end',
      to: 'FAILED',
      reason: `slurm 12: CANCELLED${SEE}`,
    });
    expect(situation(job('UPLOADING'), slurm('NODE_FAIL'), seen)[0]).toMatchObject({
      reason: `slurm 12: NODE_FAIL${SEE}`,
    });
    expect(situation(job('RUNNING'), slurm('PREEMPTED'), seen)[0]).toMatchObject({
      reason: `slurm 12: PREEMPTED${SEE}`,
    });
  });

  it('says that a job Slurm ended in its queue ended while it waited, not that its wait was the cause', () => {
    const seen = {
      tracked: { jobId: 'calm-owl-1-train', slurmId: '12', submittedAt: NOW - 60_000, endedAt: NOW - LAST_WORDS_MS },
    };
    // Slurm keeps the pending reason on a job cancelled in the queue.
    const waiting = job('DOWNLOADING', { reason: 'slurm 12: PENDING (Resources)' });
    expect(situation(waiting, slurm('CANCELLED', 'Resources'), seen)[0]).toEqual({
      kind: 'end',
      to: 'FAILED',
      reason: 'slurm 12: CANCELLED while PENDING (Resources)',
    });
    // A reason of its own (not the one it waited for) is Slurm's cause, and stays.
    expect(situation(waiting, slurm('CANCELLED', 'DependencyNeverSatisfied'), seen)[0]).toMatchObject({
      reason: 'slurm 12: CANCELLED (DependencyNeverSatisfied)',
    });
    // Another Slurm job's wait says nothing of this one, whose runner may have run.
    const earlier = job('DOWNLOADING', { reason: 'slurm 11: PENDING (Resources)' });
    expect(situation(earlier, slurm('CANCELLED', 'Resources'), seen)[0]).toMatchObject({
      reason: `slurm 12: CANCELLED (Resources)${SEE}`,
    });
  });

  it("leaves the runner of a job Slurm is ending its time to send the job's last log lines", () => {
    // Slurm shows CANCELLED the moment it signals the job: its trap's goodbye is still on its way.
    expect(situation(job('RUNNING'), slurm('CANCELLED'))).toEqual([{ kind: 'ended' }]);
    const tracked = { jobId: 'calm-owl-1-train', slurmId: '12', submittedAt: NOW - 60_000, endedAt: NOW - 1 };
    expect(situation(job('RUNNING'), slurm('CANCELLED'), { tracked })).toEqual([]);
    // The runner reported meanwhile: nothing is left to end.
    expect(situation(job('FAILED'), slurm('CANCELLED'), { tracked })).toEqual([{ kind: 'forget' }]);
    // A batch script that exited (COMPLETED, FAILED) has said all it will: ended at once.
    expect(situation(job('RUNNING'), slurm('COMPLETED'))[0]).toMatchObject({ kind: 'end', to: 'FAILED' });
  });

  it("names Slurm's output file of a batch script that failed between two looks, though last seen waiting", () => {
    // `--slurm-dstack` naming no program on the node: the script exits 127 within a second of its start.
    const seenPending = job('DOWNLOADING', { reason: 'slurm 12: PENDING' });
    expect(situation(seenPending, slurm('FAILED', 'NonZeroExitCode'))[0]).toEqual({
      kind: 'end',
      to: 'FAILED',
      reason: `slurm 12: FAILED (NonZeroExitCode)${SEE}`,
    });
  });

  it("names Slurm's output file when the runner itself died without reporting", () => {
    expect(situation(job('DOWNLOADING'), slurm('FAILED', undefined, 127))[0]).toEqual({
      kind: 'end',
      to: 'FAILED',
      reason:
        "slurm 12: FAILED (exit code 127); the runner did not report the job's end, see /shared/jobs/x/slurm-12.out",
    });
  });

  it('fails a job that Slurm no longer knows as runner lost, after a moment for squeue to catch up', () => {
    expect(situation(job('RUNNING'), undefined)).toEqual([
      { kind: 'end', to: 'FAILED', reason: 'runner lost' },
      { kind: 'forget' },
    ]);
    const fresh = { tracked: { jobId: 'calm-owl-1-train', slurmId: '12', submittedAt: NOW - LOST_AFTER_MS + 1 } };
    expect(situation(job('DOWNLOADING'), undefined, fresh)).toEqual([]);
  });

  it('stops a running job with SIGTERM to its runner, then cancels it once the grace period is over', () => {
    expect(situation(job('STOPPING'), slurm('RUNNING'))).toEqual([{ kind: 'signal' }]);
    const signalled = (at: number) => ({
      tracked: { jobId: 'calm-owl-1-train', slurmId: '12', submittedAt: NOW - 60_000, termAt: at },
    });
    expect(situation(job('STOPPING', { stopGraceMs: 2000 }), slurm('RUNNING'), signalled(NOW - 2000))).toEqual([]);
    expect(
      situation(job('STOPPING', { stopGraceMs: 2000 }), slurm('RUNNING'), signalled(NOW - 2001 - STOP_MARGIN_MS)),
    ).toEqual([{ kind: 'cancel' }]);
    // Saving artifacts after the stop: left to finish.
    expect(situation(job('UPLOADING'), slurm('RUNNING'), signalled(NOW - 60_000))).toEqual([]);
    // Cancelled after the grace period: stopped, with whatever was saved.
    expect(situation(job('STOPPING'), slurm('CANCELLED'), signalled(NOW - 60_000))).toEqual([
      { kind: 'end', to: 'STOPPED', reason: 'stopped by user' },
      { kind: 'forget' },
    ]);
  });

  it('leaves a job its runner stops for Slurm (a time limit) to that runner while Slurm lets it run', () => {
    const forSlurm = {
      reason: 'stopped: Slurm ended the batch job (time limit, preemption or scancel)',
      stopGraceMs: 10_000,
    };
    // Its processes being signalled (COMPLETING) or long past its grace period: no SIGTERM, no scancel.
    expect(situation(job('STOPPING', forSlurm), slurm('COMPLETING'))).toEqual([]);
    expect(situation(job('UPLOADING', forSlurm), slurm('RUNNING'))).toEqual([]);
    // 23.02+ show the ending beside COMPLETING while the runner still saves: it has until KillWait's SIGKILL.
    const ended = (at: number) => ({
      tracked: { jobId: 'calm-owl-1-train', slurmId: '12', submittedAt: NOW - 60_000, endedAt: at },
    });
    const completing = { ...slurm('TIMEOUT', 'TimeLimit'), completing: true };
    expect(situation(job('UPLOADING', forSlurm), completing, ended(NOW - 600_000))).toEqual([]);
    expect(situation(job('STOPPING', forSlurm), completing)).toEqual([]);
    // Its processes gone (no longer COMPLETING): only the reports sent before its SIGKILL are waited for, not KillWait again.
    expect(situation(job('UPLOADING', forSlurm), slurm('TIMEOUT', 'TimeLimit'))).toEqual([{ kind: 'ended' }]);
    expect(
      situation(job('UPLOADING', forSlurm), slurm('TIMEOUT', 'TimeLimit'), ended(NOW - LAST_WORDS_MS + 1)),
    ).toEqual([]);
    // Killed before it reported: failed as any job Slurm ended, nothing saved to resume from, and said so.
    expect(situation(job('UPLOADING', forSlurm), slurm('TIMEOUT', 'TimeLimit'), ended(NOW - LAST_WORDS_MS))).toEqual([
      {
        kind: 'end',
        to: 'FAILED',
        reason: "slurm 12: TIMEOUT (TimeLimit); its runner was killed (KillWait) before it saved the job's artifacts",
      },
      { kind: 'forget' },
    ]);
    // Once it reported STOPPED, the Slurm job's end only names the cause.
    expect(situation(job('STOPPED', forSlurm), slurm('TIMEOUT', 'TimeLimit'))).toEqual([
      { kind: 'reason', reason: 'stopped: Slurm ended the batch job (slurm 12: TIMEOUT (TimeLimit))' },
      { kind: 'forget' },
    ]);
  });

  it("waits for a cancelled job's processes to be gone before it records a stop or forgets the job", () => {
    const cancelled = { ...slurm('CANCELLED'), completing: true };
    const cancelledAt = {
      tracked: {
        jobId: 'calm-owl-1-train',
        slurmId: '12',
        submittedAt: NOW - 60_000,
        termAt: NOW - 60_000,
        cancelAt: NOW - 1000,
      },
    };
    // The runner may still report what it saved: not STOPPED over its head, nor its folder removed under it.
    expect(situation(job('STOPPING'), cancelled, cancelledAt)).toEqual([]);
    expect(situation(job('DONE', { finishedAt: NOW - 60_000 }), cancelled)).toEqual([]);
    expect(situation(job('STOPPING'), slurm('CANCELLED'), cancelledAt)).toEqual([
      { kind: 'end', to: 'STOPPED', reason: 'stopped by user' },
      { kind: 'forget' },
    ]);
  });

  it('says a job failed for going over its memory once Slurm shows OUT_OF_MEMORY, and how to fix it', () => {
    const oom =
      "slurm 12: OUT_OF_MEMORY: a process went over the job's memory and was killed; ask for more with " +
      "resources.memory (--mem; without it, the partition's default)";
    // The kernel killed the command, whose runner reported the failure: Slurm's state adds the cause.
    expect(situation(job('FAILED', { reason: 'exit code 137', exitCode: 137 }), slurm('OUT_OF_MEMORY'))).toEqual([
      { kind: 'reason', reason: `exit code 137; ${oom}` },
      { kind: 'forget' },
    ]);
    expect(situation(job('FAILED', { reason: `exit code 137; ${oom}` }), slurm('OUT_OF_MEMORY'))).toEqual([
      { kind: 'forget' },
    ]);
    // The runner itself killed before it reported: the same words.
    const seen = {
      tracked: { jobId: 'calm-owl-1-train', slurmId: '12', submittedAt: NOW - 60_000, endedAt: NOW - LAST_WORDS_MS },
    };
    expect(situation(job('RUNNING'), slurm('OUT_OF_MEMORY', 'OutOfMemory'), seen)[0]).toEqual({
      kind: 'end',
      to: 'FAILED',
      reason: oom,
    });
  });

  it('aborts a running job with scancel at once', () => {
    expect(situation(job('ABORTING'), slurm('RUNNING'))).toEqual([{ kind: 'cancel' }]);
    expect(situation(job('ABORTING'), slurm('CANCELLED'))).toEqual([
      { kind: 'end', to: 'ABORTED', reason: 'aborted by user' },
      { kind: 'forget' },
    ]);
  });

  it('ends a job stopped or aborted while Slurm still holds it, cancelling it there', () => {
    expect(situation(job('STOPPING'), slurm('PENDING', 'Priority'))).toEqual([
      { kind: 'cancel' },
      { kind: 'end', to: 'STOPPED', reason: 'stopped by user' },
      { kind: 'forget' },
    ]);
    expect(situation(job('ABORTING'), slurm('PENDING', 'Priority'))[1]).toEqual({
      kind: 'end',
      to: 'ABORTED',
      reason: 'aborted by user',
    });
  });

  it('shows a running job that Slurm suspended, and says that a stop then cancels it without saving', () => {
    expect(situation(job('RUNNING'), slurm('SUSPENDED'))).toEqual([{ kind: 'reason', reason: 'slurm 12: SUSPENDED' }]);
    // Resumed by Slurm: the reason goes.
    expect(situation(job('RUNNING', { reason: 'slurm 12: SUSPENDED' }), slurm('RUNNING'))).toEqual([
      { kind: 'reason', reason: null },
    ]);
    expect(situation(job('STOPPING', { reason: 'stopped by user' }), slurm('SUSPENDED'))).toEqual([
      { kind: 'cancel' },
      { kind: 'end', to: 'STOPPED', reason: 'stopped by user; slurm 12 was SUSPENDED: cancelled, nothing saved' },
      { kind: 'forget' },
    ]);
  });

  it("keeps the stop's own reason (an admin's) when it ends the job", () => {
    const byAdmin = (status: JobStatus) =>
      job(status, { reason: `${status === 'STOPPING' ? 'stopped' : 'aborted'} by admin (root)` });
    expect(situation(byAdmin('ABORTING'), slurm('CANCELLED'))[0]).toEqual({
      kind: 'end',
      to: 'ABORTED',
      reason: 'aborted by admin (root)',
    });
    expect(situation(byAdmin('STOPPING'), slurm('PENDING', 'Priority'))[1]).toEqual({
      kind: 'end',
      to: 'STOPPED',
      reason: 'stopped by admin (root)',
    });
  });

  it("forgets an earlier attempt's Slurm job once the job is resumed, whatever Slurm says of it", () => {
    const resumed = job('SUBMITTED', { runner: undefined });
    for (const state of ['COMPLETED', 'FAILED', 'CANCELLED'])
      expect(situation(resumed, slurm(state))).toEqual([{ kind: 'forget' }]);
    expect(situation(resumed, undefined, { now: NOW + LOST_AFTER_MS * 10 })).toEqual([{ kind: 'forget' }]);
    // Its runner lingering after its report: cancelled there, once.
    expect(situation(resumed, slurm('COMPLETING'))).toEqual([{ kind: 'cancel' }, { kind: 'forget' }]);
  });

  it('names how Slurm ended a job its runner stopped for Slurm, once Slurm shows it', () => {
    const forSlurm = job('STOPPED', {
      reason: 'stopped: Slurm ended the batch job (time limit, preemption or scancel)',
    });
    expect(situation(forSlurm, slurm('NODE_FAIL'))).toEqual([
      { kind: 'reason', reason: 'stopped: Slurm ended the batch job (slurm 12: NODE_FAIL)' },
      { kind: 'forget' },
    ]);
    expect(situation(forSlurm, slurm('TIMEOUT', 'TimeLimit'))[0]).toEqual({
      kind: 'reason',
      reason: 'stopped: Slurm ended the batch job (slurm 12: TIMEOUT (TimeLimit))',
    });
    expect(situation(forSlurm, slurm('CANCELLED'))[0]).toMatchObject({
      reason: 'stopped: Slurm ended the batch job (slurm 12: CANCELLED)',
    });
    // Still ending in Slurm: named at a later look; a batch script that exited by itself, or gone: nothing to name.
    expect(situation(forSlurm, slurm('COMPLETING'))).toEqual([]);
    expect(situation(forSlurm, slurm('COMPLETED'))).toEqual([{ kind: 'forget' }]);
    expect(situation(forSlurm, undefined)).toEqual([{ kind: 'forget' }]);
    // A user's stop says whose it was already.
    expect(situation(job('STOPPED', { reason: 'stopped by user' }), slurm('CANCELLED'))).toEqual([{ kind: 'forget' }]);
  });

  it('forgets finished jobs once Slurm is done with them, cancelling what is left in the queue', () => {
    expect(situation(job('DONE', { finishedAt: NOW }), slurm('COMPLETED'))).toEqual([{ kind: 'forget' }]);
    expect(situation(job('DONE', { finishedAt: NOW }), undefined)).toEqual([{ kind: 'forget' }]);
    expect(situation(job('DONE', { finishedAt: NOW }), slurm('RUNNING'))).toEqual([]);
    expect(situation(job('DONE', { finishedAt: NOW - 60_000 }), slurm('RUNNING'))).toEqual([{ kind: 'cancel' }]);
    expect(situation(job('FAILED', { finishedAt: NOW }), slurm('PENDING'))).toEqual([{ kind: 'cancel' }]);
    expect(situation(undefined, slurm('RUNNING'))).toEqual([{ kind: 'cancel' }, { kind: 'forget' }]);
  });
});
