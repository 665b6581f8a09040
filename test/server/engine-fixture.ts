/** A real engine over a real SQLite store, holding one run whose jobs have the given ids, statuses and dependencies. */
import type { JobStatus } from '../../src/core/job-status.js';
import type { JobRecord, RunRecord } from '../../src/core/records.js';
import { makeJob, makeRun, makeSpec } from '../store/fixtures.js';
import { testApp } from './app-fixture.js';

/** Each job: id, status, dependencies, and optionally the CPUs it asks for (default 1). */
export async function engineWith(statuses: [string, JobStatus, string[], number?][], run: Partial<RunRecord> = {}) {
  const { store, engine } = await testApp('control');
  const runRecord = makeRun('calm-owl-1', {
    workflow: 'w1',
    repo: { root: '/' },
    codeDigest: 'c'.repeat(64),
    submittedAt: 1,
    user: 'u',
    ...run,
  });
  const jobs: JobRecord[] = statuses.map(([id, status, deps, cpu], i) =>
    makeJob(runRecord, `w${i}`, {
      id,
      spec: makeSpec(`w${i}`, { commands: ['true'], resources: { cpu: cpu ?? 1, memory: 0, gpu: 0 } }),
      cacheKey: id.repeat(2),
      dependsOn: deps,
      status,
      submittedAt: 1,
    }),
  );
  await store.createRun(runRecord, jobs, 'test');
  return { engine, jobs };
}
