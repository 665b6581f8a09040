import { describe, expect, it } from 'vitest';
import {
  JOB_STATUSES,
  canTransition,
  isActive,
  isFinished,
  isJobStatus,
  runStatus,
  type JobStatus,
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
];

const FORBIDDEN: [JobStatus, JobStatus][] = [
  ['SUBMITTED', 'RUNNING'],
  ['DOWNLOADING', 'DONE'],
  ['RUNNING', 'SUBMITTED'],
  ['RUNNING', 'ABORTED'],
  ['UPLOADING', 'RUNNING'],
  ['DONE', 'SUBMITTED'],
  ['DONE', 'FAILED'],
  ['FAILED', 'SUBMITTED'],
  ['FAILED', 'DONE'],
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

  it('lets nothing leave DONE, FAILED or ABORTED; STOPPED only back to SUBMITTED (resume)', () => {
    for (const to of JOB_STATUSES) {
      expect(canTransition('DONE', to)).toBe(false);
      expect(canTransition('FAILED', to)).toBe(false);
      expect(canTransition('ABORTED', to)).toBe(false);
      expect(canTransition('STOPPED', to)).toBe(to === 'SUBMITTED');
    }
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
