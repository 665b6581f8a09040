import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/core/job-status.js';
import { planPrune } from '../../src/server/prune-plan.js';
import type { JobFacts } from '../../src/server/store/store.js';
import { makeRun } from '../store/fixtures.js';

const job = (id: string, runName: string, fields: Partial<JobFacts> = {}): JobFacts => ({
  id,
  runName,
  status: 'DONE' as JobStatus,
  dependsOn: [],
  ...fields,
});

describe('planPrune', () => {
  it('keeps every run down a chain of reuse from a kept one, and orders the rest dependents first', () => {
    const runs = ['r1', 'r2', 'r3', 'r4', 'r5', 'new'].map((name, i) =>
      makeRun(name, { submittedAt: name === 'new' ? 10_000 : i + 1 }),
    );
    const jobs = [
      job('j1', 'r1'),
      job('j2', 'r2', { cachedFrom: 'j1' }), // r2 reuses r1
      job('j3', 'r3', { dependsOn: ['j2'] }), // r3 depends on r2
      job('j4', 'r4', { cachedFrom: 'j3' }),
      job('j5', 'r5', { cachedFrom: 'j4' }), // r5 -> r4 -> r3 -> r2 -> r1, all old
      job('jn', 'new', { cachedFrom: 'j3', status: 'RUNNING' }), // the new run keeps r3 and what it needs
    ];
    const plan = planPrune(runs, jobs, { includeStopped: false, cutoff: 100 });
    expect(plan.doomed).toEqual(['r5', 'r4']);
    expect([...plan.neededBy.keys()].sort()).toEqual(['r1', 'r2', 'r3']);
    expect(plan.neededBy.get('r3')).toBe('new');
    expect(plan.needs.get('r5')).toEqual(new Set(['r4']));

    const all = planPrune(runs.slice(0, 5), jobs.slice(0, 5), { includeStopped: false, cutoff: 100 });
    expect(all.doomed).toEqual(['r5', 'r4', 'r3', 'r2', 'r1']); // each before the run it needs
    expect(all.neededBy.size).toBe(0);
  });

  it('keeps old runs with a resumable job unless asked, and never an unfinished, tagged or new one', () => {
    const runs = [
      makeRun('stopped', { submittedAt: 1 }),
      makeRun('running', { submittedAt: 2 }),
      makeRun('tagged', { submittedAt: 3, tag: 'best' }),
      makeRun('recent', { submittedAt: 500 }),
    ];
    const jobs = [
      job('a', 'stopped', { status: 'STOPPED' }),
      job('b', 'running', { status: 'RUNNING' }),
      job('c', 'tagged'),
      job('d', 'recent'),
    ];
    const plan = planPrune(runs, jobs, { includeStopped: false, cutoff: 100 });
    expect(plan.doomed).toEqual([]);
    expect(plan.keptStopped).toEqual(['stopped']);
    expect(planPrune(runs, jobs, { includeStopped: true, cutoff: 100 }).doomed).toEqual(['stopped']);
  });
});
