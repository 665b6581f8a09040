import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/core/records.js';
import { FollowedJobs, logOf } from '../../src/server/api/followed-jobs.js';

const job = (id: string, fields: Partial<JobRecord> = {}): JobRecord =>
  ({
    id,
    runName: 'r',
    ref: id,
    workflow: id,
    cacheKey: id,
    dependsOn: [],
    status: 'SUBMITTED',
    submittedAt: 1,
    ...fields,
  }) as JobRecord;

describe('FollowedJobs', () => {
  it('keeps the list as JSON.stringify would write it, in order, as records change', () => {
    const jobs = [job('a'), job('b'), job('c')];
    const followed = new FollowedJobs(jobs);
    followed.apply(job('b', { status: 'RUNNING', startedAt: 5 }));
    followed.apply(job('zz', { status: 'DONE' })); // not followed: ignored
    expect(followed.toJson()).toBe(JSON.stringify([jobs[0], job('b', { status: 'RUNNING', startedAt: 5 }), jobs[2]]));
    followed.apply(job('b', { status: 'DONE', startedAt: 5 })); // after its JSON was made: made anew
    expect(followed.toJson()).toBe(JSON.stringify([jobs[0], job('b', { status: 'DONE', startedAt: 5 }), jobs[2]]));
  });

  it('reports a status change once, and only status or reason changes', () => {
    const followed = new FollowedJobs([job('a')]);
    expect(followed.takeStatusChange()).toBe(true); // the first list is always sent
    expect(followed.takeStatusChange()).toBe(false);
    followed.apply(job('a', { runner: 'r1' }));
    expect(followed.takeStatusChange()).toBe(false);
    followed.apply(job('a', { reason: 'no runner is registered' }));
    expect(followed.takeStatusChange()).toBe(true);
    followed.apply(job('a', { status: 'DOWNLOADING', reason: 'no runner is registered' }));
    expect(followed.takeStatusChange()).toBe(true);
  });

  it('is all finished once every job is, however often each changes', () => {
    const followed = new FollowedJobs([job('a'), job('b', { status: 'DONE' })]);
    expect(followed.allFinished()).toBe(false);
    followed.apply(job('a', { status: 'FAILED' }));
    followed.apply(job('a', { status: 'FAILED', reason: 'x' }));
    expect(followed.allFinished()).toBe(true);
    expect(new FollowedJobs([]).allFinished()).toBe(true);
  });

  it('names, for each changed log, the first job showing it; a cached job shows the log it reuses', () => {
    const followed = new FollowedJobs([
      job('a'),
      job('b', { cachedFrom: 'x', status: 'DONE' }),
      job('c', { cachedFrom: 'x', status: 'DONE' }),
      job('d'),
    ]);
    expect(followed.showing(new Set(['d', 'x', 'nobody'])).map((j) => j.id)).toEqual(['b', 'd']);
  });

  it('shows a job that joined a running one by its own log until that one is DONE', () => {
    const followed = new FollowedJobs([job('a', { cachedFrom: 'x' }), job('b', { cachedFrom: 'x' })]);
    expect(followed.showing(new Set(['a', 'x'])).map((j) => j.id)).toEqual(['a']);
    // x failed: a runs itself, on its own log; x ended DONE for b: b shows x's log.
    followed.apply(job('a'));
    followed.apply(job('b', { cachedFrom: 'x', status: 'DONE' }));
    expect(followed.showing(new Set(['a', 'b', 'x'])).map((j) => j.id)).toEqual(['a', 'b']);
    expect(logOf(followed.showing(new Set(['x']))[0]!)).toBe('x');
  });
});
