/**
 * A run's submission or preview is planned on the server's one thread, so a run's jobs are
 * counted before any is checked: past the bound, refused with a 413 that says what to do; up to
 * it (the benchmarks' 10,000-job DAG), planned. Through the real app over a real SQLite store.
 */
import { describe, expect, it } from 'vitest';
import { MAX_RUN_JOBS } from '../../src/server/api/run-body.js';
import { issueToken } from '../../src/server/auth.js';
import { makeSpec } from '../store/fixtures.js';
import { putBlob } from './engine-fixture.js';
import { callApi, testApp } from './app-fixture.js';

/** A fan-out as the benchmarks plan it: a start job, `n - 2` jobs after it, a last job after them all. */
function fanOut(n: number) {
  const middle = Array.from({ length: n - 2 }, (_, i) => makeSpec(`j${i + 1}`, { dependsOn: [{ ref: 'start' }] }));
  return [makeSpec('start'), ...middle, makeSpec('final', { dependsOn: middle.map((m) => ({ ref: m.ref })) })];
}

const tooMany = (n: number) =>
  `the run has ${n} jobs, over ${MAX_RUN_JOBS}, the most one run may have: split the workflow into smaller ` +
  "runs (a job depends on another run's through its tag: depends-on: [WORKFLOW:TAG])";

describe("a run's number of jobs", () => {
  it('plans and submits a 10,000-job DAG, the largest the benchmarks plan', async () => {
    const { engine, app } = await testApp('run-body-10k');
    const user = await issueToken(engine.store, 'user', 'ada', false);
    const jobs = fanOut(10_000);
    const repo = { root: '/p' };

    const preview = await callApi(app, user, 'POST', '/api/runs/preview', { jobs, code: { files: [] }, repo });
    expect(preview.status).toBe(200);
    expect(preview.json).toMatchObject({ tags: {}, cached: {} });

    const codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
    const submitted = await callApi(app, user, 'POST', '/api/runs', {
      workflow: 'final',
      overrides: {},
      repo,
      codeDigest,
      jobs,
    });
    expect(submitted.status).toBe(201);
    expect((submitted.json as { jobs: unknown[] }).jobs).toHaveLength(10_000);
  });

  it('refuses a run of more jobs than the bound with a 413 that says to split it, and stores no run', async () => {
    const { engine, app } = await testApp('run-body-over');
    const user = await issueToken(engine.store, 'user', 'ada', false);
    const jobs = fanOut(MAX_RUN_JOBS + 1);
    const refusal = { status: 413, json: { error: { code: 'too_large', message: tooMany(MAX_RUN_JOBS + 1) } } };
    const repo = { root: '/p' };

    expect(await callApi(app, user, 'POST', '/api/runs/preview', { jobs, code: { files: [] }, repo })).toStrictEqual(
      refusal,
    );
    const codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
    const submission = { workflow: 'final', overrides: {}, repo, codeDigest, jobs };
    expect(await callApi(app, user, 'POST', '/api/runs', submission)).toStrictEqual(refusal);
    expect(await engine.store.listRuns({ user: 'ada', limit: 1 })).toEqual([]);
  });
});
