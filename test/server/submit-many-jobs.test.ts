/**
 * A big run's submission on a busy team server: its writes are a few statements and
 * transactions, not some per job, since SQLite's writes hold the server's one thread.
 */
import { describe, expect, it } from 'vitest';
import { submitRun } from '../../src/server/submit.js';
import { makeSpec } from '../store/fixtures.js';
import { testApp } from './app-fixture.js';
import { putBlob } from './engine-fixture.js';
import { tracedStore } from './traced-store.js';

describe('a submission of many jobs', () => {
  it('tells its 600 waiting jobs why they wait in one transaction, not one a job', async () => {
    const executed: string[] = [];
    const { engine } = await testApp('submit-many-jobs', tracedStore(executed));
    const codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
    const jobs = Array.from({ length: 600 }, (_, i) => makeSpec(`j${i}`));
    executed.length = 0;
    const run = await submitRun(engine, 'ada', {
      workflow: 'big',
      overrides: {},
      repo: { root: '/' },
      codeDigest,
      jobs,
    });
    expect(new Set(run.jobs.map((j) => j.reason))).toEqual(new Set(['no runner is registered']));
    expect((await engine.store.jobsOfRuns([run.name])).every((j) => j.reason === run.jobs[0]!.reason)).toBe(true);
    const commits = executed.filter((sql) => /^commit/i.test(sql.trim()));
    expect(commits.length).toBeLessThanOrEqual(3); // the run's insert and the reasons' update
    await engine.store.close();
  });
});
