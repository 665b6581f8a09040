import { describe, expect, it } from 'vitest';
import {
  JOB_STATUSES,
  RUNNER_LOST,
  canTakeBack,
  canTransition,
  dependencyEnded,
  dependentsOf,
  endedWithRunner,
  isActive,
  isFinished,
  isJobStatus,
  isResumable,
  isTakenBack,
  leavesFailed,
  resumableFailure,
  takenBackStop,
  resumableJobs,
  runStatus,
  runnerRestarted,
  type JobStatus,
  type ResumeFacts,
} from '../../src/core/job-status.js';

/** DESIGN §3, written out once more so that a change to the table is a deliberate one. */
const ALLOWED: [JobStatus, JobStatus][] = [
  ['SUBMITTED', 'DOWNLOADING'],
  ['SUBMITTED', 'DONE'], // a job that joined an identical running one finishes with it
  ['SUBMITTED', 'FAILED'],
  ['SUBMITTED', 'STOPPED'],
  ['SUBMITTED', 'ABORTED'],
  ['DOWNLOADING', 'RUNNING'],
  ['DOWNLOADING', 'FAILED'],
  ['DOWNLOADING', 'STOPPING'],
  ['DOWNLOADING', 'ABORTING'],
  ['RUNNING', 'UPLOADING'],
  ['RUNNING', 'DONE'], // a job without artifacts has nothing to upload
  ['RUNNING', 'FAILED'],
  ['RUNNING', 'STOPPING'],
  ['RUNNING', 'ABORTING'],
  ['UPLOADING', 'DONE'],
  ['UPLOADING', 'FAILED'],
  ['UPLOADING', 'STOPPED'],
  ['UPLOADING', 'ABORTING'],
  ['STOPPING', 'UPLOADING'],
  ['STOPPING', 'STOPPED'],
  ['STOPPING', 'FAILED'],
  ['STOPPING', 'ABORTING'],
  ['ABORTING', 'ABORTED'],
  ['ABORTING', 'FAILED'],
  ['STOPPED', 'SUBMITTED'],
  ['FAILED', 'SUBMITTED'], // a resume that failed before the job's commands started (isResumable)
  ['FAILED', 'STOPPING'], // a job lost with its runner, taken back by it (canTakeBack)
  ['FAILED', 'STOPPED'], // a dependent failed with such a job, stopped with it (leavesFailed)
];

const FORBIDDEN: [JobStatus, JobStatus][] = [
  ['SUBMITTED', 'RUNNING'],
  ['DOWNLOADING', 'DONE'],
  ['RUNNING', 'SUBMITTED'],
  ['RUNNING', 'ABORTED'],
  ['UPLOADING', 'RUNNING'],
  ['DONE', 'SUBMITTED'],
  ['DONE', 'FAILED'],
  ['FAILED', 'DONE'],
  ['FAILED', 'RUNNING'],
  ['ABORTED', 'SUBMITTED'],
  ['STOPPED', 'RUNNING'],
  ['STOPPED', 'DONE'],
  ['ABORTING', 'STOPPED'],
  ['ABORTING', 'UPLOADING'],
  ['STOPPING', 'DONE'],
  ['STOPPING', 'RUNNING'],
];

const FINISHED: JobStatus[] = ['DONE', 'FAILED', 'STOPPED', 'ABORTED'];
const UNFINISHED: JobStatus[] = ['SUBMITTED', 'DOWNLOADING', 'RUNNING', 'UPLOADING', 'STOPPING', 'ABORTING'];

describe('canTransition', () => {
  it.each(ALLOWED)('allows %s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });

  it.each(FORBIDDEN)('forbids %s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
  });

  it('allows exactly the transitions of the table and nothing else', () => {
    const allowed = new Set(ALLOWED.map(([f, t]) => `${f}->${t}`));
    for (const from of JOB_STATUSES) {
      for (const to of JOB_STATUSES) {
        expect(canTransition(from, to), `${from} -> ${to}`).toBe(allowed.has(`${from}->${to}`));
      }
    }
  });

  it('never lets a status go to itself', () => {
    for (const s of JOB_STATUSES) expect(canTransition(s, s)).toBe(false);
  });

  it('lets nothing leave DONE or ABORTED; STOPPED only back to SUBMITTED (resume), FAILED also to a stop', () => {
    for (const to of JOB_STATUSES) {
      expect(canTransition('DONE', to)).toBe(false);
      expect(canTransition('ABORTED', to)).toBe(false);
      expect(canTransition('FAILED', to)).toBe(['SUBMITTED', 'STOPPING', 'STOPPED'].includes(to));
      expect(canTransition('STOPPED', to)).toBe(to === 'SUBMITTED');
    }
  });
});

describe('leavesFailed', () => {
  const lost: Parameters<typeof leavesFailed>[0] = {
    status: 'FAILED',
    reason: `${RUNNER_LOST} (last heard 70 s ago)`,
    commandsStarted: true,
  };

  it('lets a job lost with its runner, its commands started, be taken back, and no other', () => {
    expect(canTakeBack(lost)).toBe(true);
    expect(leavesFailed(lost, 'STOPPING')).toBe(true);
    expect(canTakeBack({ ...lost, commandsStarted: false })).toBe(false); // nothing of its own to save
    expect(canTakeBack({ ...lost, stopRequest: 'abort' })).toBe(false); // its user was throwing it away
    expect(canTakeBack({ ...lost, reason: 'exit code 1' })).toBe(false);
    expect(canTakeBack({ ...lost, status: 'STOPPED' })).toBe(false);
    expect(leavesFailed(lost, 'SUBMITTED')).toBe(false); // not resumable as it is
    expect(leavesFailed(lost, 'RUNNING')).toBe(false);
  });

  it('lets a dependent that never started, failed by its dependency, be stopped', () => {
    const dependent = { status: 'FAILED' as const, reason: dependencyEnded('failed', { workflow: 'train', id: 'j1' }) };
    expect(dependent.reason).toBe('dependency failed: train (j1)');
    expect(leavesFailed(dependent, 'STOPPED')).toBe(true);
    expect(leavesFailed({ ...dependent, commandsStarted: true }, 'STOPPED')).toBe(false);
    expect(leavesFailed({ ...dependent, reason: 'exit code 1' }, 'STOPPED')).toBe(false);
  });

  it('says a taken-back job is one', () => {
    expect(takenBackStop('r1', true)).toBe(
      'stopped: its runner was lost and came back; its artifacts were saved (dstack resume r1)',
    );
    expect(isTakenBack(takenBackStop('r1', false))).toBe(true);
    expect(isTakenBack('stopped by user')).toBe(false);
  });
});

describe('isResumable', () => {
  const failedInResume: ResumeFacts = { status: 'FAILED', resumed: true, commandsStarted: false };

  it('takes a stopped job, and a failed one whose resume failed before its commands started', () => {
    expect(isResumable({ status: 'STOPPED' })).toBe(true);
    expect(isResumable(failedInResume)).toBe(true);
    // A stop under way when it failed (its runner lost, say) leaves it as resumable as the stop would have.
    expect(isResumable({ ...failedInResume, stopRequest: 'stop' })).toBe(true);
  });

  it('refuses a failure whose commands had started, one in a first attempt, one being aborted, one from before 0013', () => {
    expect(isResumable({ ...failedInResume, commandsStarted: true })).toBe(false);
    expect(isResumable({ status: 'FAILED', commandsStarted: false })).toBe(false);
    expect(isResumable({ ...failedInResume, resumed: false })).toBe(false);
    expect(isResumable({ ...failedInResume, stopRequest: 'abort' })).toBe(false);
    expect(isResumable({ status: 'FAILED', resumed: true })).toBe(false);
  });

  it('refuses every other status, whatever its record says', () => {
    for (const status of JOB_STATUSES.filter((s) => s !== 'STOPPED' && s !== 'FAILED')) {
      expect(isResumable({ ...failedInResume, status }), status).toBe(false);
    }
  });
});

describe('resumableJobs', () => {
  type Job = ResumeFacts & { id: string; dependsOn: string[] };
  const job = (id: string, status: JobStatus, dependsOn: string[] = [], resumedUnstarted = false): Job => ({
    id,
    status,
    dependsOn,
    ...(resumedUnstarted ? { resumed: true, commandsStarted: false } : {}),
  });
  const ids = (jobs: Job[]) => resumableJobs(jobs).map((j) => j.id);

  it('takes a job failed because its dependency failed resumably, with that dependency', () => {
    expect(ids([job('a', 'DONE'), job('b', 'FAILED', ['a'], true), job('c', 'FAILED', ['b'], true)])).toEqual([
      'b',
      'c',
    ]);
  });

  it('leaves out, down the chain, a job whose dependency ended for good', () => {
    const jobs = [job('a', 'FAILED'), job('b', 'FAILED', ['a'], true), job('c', 'STOPPED', ['b']), job('d', 'STOPPED')];
    expect(ids(jobs)).toEqual(['d']);
  });

  it('takes a job whose dependency is unfinished or outside the jobs given (a tagged run’s)', () => {
    expect(ids([job('a', 'SUBMITTED'), job('b', 'STOPPED', ['a', 'elsewhere'])])).toEqual(['b']);
  });
});

describe('dependentsOf', () => {
  const job = (id: string, dependsOn: string[] = []) => ({ id, dependsOn });
  const ids = (jobs: ReturnType<typeof job>[], of: string[]) => dependentsOf(jobs, of).map((j) => j.id);

  it("takes the jobs that depend on the given ones through others too, in the run's order", () => {
    // Stored after its dependent: the order of the run's jobs is no guide.
    const jobs = [job('c', ['b']), job('a'), job('b', ['a']), job('d'), job('e', ['d', 'c'])];
    expect(ids(jobs, ['a'])).toEqual(['c', 'b', 'e']);
  });

  it('leaves out the given jobs and those that depend on none of them', () => {
    expect(ids([job('a'), job('b', ['a']), job('c')], ['a', 'b'])).toEqual([]);
    expect(ids([job('a'), job('b')], ['a'])).toEqual([]);
  });
});

describe('resumableFailure', () => {
  it('says what failed, then that the job can still be resumed', () => {
    expect(resumableFailure('runner lost', 'calm-owl-1')).toBe(
      'runner lost; its commands had not started, so it can still be resumed (dstack resume calm-owl-1)',
    );
  });

  it('keeps a lost or restarted runner’s failure one that takes its spooled lines', () => {
    expect(endedWithRunner(resumableFailure(RUNNER_LOST, 'r'))).toBe(true);
    expect(endedWithRunner(resumableFailure(runnerRestarted('DOWNLOADING'), 'r'))).toBe(true);
    expect(endedWithRunner('exit code 1')).toBe(false);
    expect(endedWithRunner(undefined)).toBe(false);
  });
});

describe('isFinished', () => {
  it.each(FINISHED)('%s is finished', (s) => expect(isFinished(s)).toBe(true));
  it.each(UNFINISHED)('%s is not finished', (s) => expect(isFinished(s)).toBe(false));

  it('covers every status', () => {
    expect([...FINISHED, ...UNFINISHED].sort()).toEqual([...JOB_STATUSES].sort());
  });
});

describe('isActive', () => {
  it('is true only for a job a runner holds', () => {
    expect(JOB_STATUSES.filter(isActive)).toEqual(['DOWNLOADING', 'RUNNING', 'UPLOADING', 'STOPPING', 'ABORTING']);
  });
});

describe('isJobStatus', () => {
  it('accepts the statuses and nothing else', () => {
    for (const s of JOB_STATUSES) expect(isJobStatus(s)).toBe(true);
    expect(isJobStatus('running')).toBe(false);
    expect(isJobStatus('QUEUED')).toBe(false);
    expect(isJobStatus('')).toBe(false);
  });
});

describe('runStatus', () => {
  it('is SUBMITTED for a run without jobs', () => {
    expect(runStatus([])).toBe('SUBMITTED');
  });

  it('is DONE when every job is DONE', () => {
    expect(runStatus(['DONE'])).toBe('DONE');
    expect(runStatus(['DONE', 'DONE', 'DONE'])).toBe('DONE');
  });

  it('is the most active status while any job is unfinished', () => {
    expect(runStatus(['DONE', 'RUNNING', 'SUBMITTED'])).toBe('RUNNING');
    expect(runStatus(['DONE', 'SUBMITTED'])).toBe('SUBMITTED');
    expect(runStatus(['SUBMITTED', 'DOWNLOADING'])).toBe('DOWNLOADING');
    expect(runStatus(['RUNNING', 'UPLOADING'])).toBe('UPLOADING');
    expect(runStatus(['RUNNING', 'STOPPING'])).toBe('STOPPING');
    expect(runStatus(['STOPPING', 'ABORTING'])).toBe('ABORTING');
  });

  it('is unfinished while any job is, even when another has failed', () => {
    expect(runStatus(['FAILED', 'RUNNING'])).toBe('RUNNING');
    expect(runStatus(['FAILED', 'SUBMITTED'])).toBe('SUBMITTED');
  });

  it('lets FAILED beat ABORTED and STOPPED once all are finished', () => {
    expect(runStatus(['DONE', 'STOPPED', 'FAILED'])).toBe('FAILED');
    expect(runStatus(['ABORTED', 'FAILED'])).toBe('FAILED');
    expect(runStatus(['STOPPED', 'ABORTED'])).toBe('ABORTED');
    expect(runStatus(['DONE', 'STOPPED'])).toBe('STOPPED');
  });

  it('does not depend on the order of the jobs', () => {
    expect(runStatus(['FAILED', 'STOPPED'])).toBe(runStatus(['STOPPED', 'FAILED']));
    expect(runStatus(['SUBMITTED', 'RUNNING', 'DONE'])).toBe(runStatus(['DONE', 'RUNNING', 'SUBMITTED']));
  });
});
