/**
 * `POST /api/runner/jobs/:id/transition` on the real app over a real SQLite store: only the
 * runner a job is assigned to moves it, and a refusal says why.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import { callApi, testApp, type TestApp } from './app-fixture.js';
import type { Store } from '../../src/server/store/store.js';
import { makeJob, makeRun } from '../store/fixtures.js';

const JOB = 'aaaaaaaaaaaa';

describe('the runner transition route', () => {
  let app: TestApp;
  let store: Store;
  let ada: string;
  let runner: string;
  let other: string;

  const move = (token: string, id: string, body: Record<string, unknown>) =>
    callApi(app, token, 'POST', `/api/runner/jobs/${id}/transition`, body);

  beforeAll(async () => {
    ({ store, app } = await testApp('transition-route'));
    [ada, runner, other] = await Promise.all([
      issueToken(store, 'user', 'ada', false),
      issueToken(store, 'runner', 'gpu-1', false),
      issueToken(store, 'runner', 'gpu-2', false),
    ]);
    const run = makeRun('moving-run');
    await store.createRun(run, [makeJob(run, 'a', { id: JOB })], 'test');
    await store.transition(JOB, 'SUBMITTED', 'DOWNLOADING', { runner: 'gpu-1' }, 'test');
  });

  it('refuses another runner, a user and an unknown job, and leaves the job as it was', async () => {
    expect(await move(other, JOB, { from: 'DOWNLOADING', to: 'RUNNING' })).toStrictEqual({
      status: 403,
      json: { error: { code: 'forbidden', message: `job ${JOB} is not assigned to this runner` } },
    });
    expect((await move(ada, JOB, { from: 'DOWNLOADING', to: 'RUNNING' })).status).toBe(403);
    expect(await move(runner, 'ffffffffffff', { from: 'DOWNLOADING', to: 'RUNNING' })).toStrictEqual({
      status: 404,
      json: { error: { code: 'not_found', message: "no job 'ffffffffffff'" } },
    });
    expect((await store.getJob(JOB))?.status).toBe('DOWNLOADING');
    expect((await store.events(JOB)).map((e) => e.to)).toEqual(['SUBMITTED', 'DOWNLOADING']);
  });

  it("moves the runner's own job, and answers a stale or impossible move with the actual status", async () => {
    const moved = await move(runner, JOB, { from: 'DOWNLOADING', to: 'RUNNING' });
    expect(moved).toMatchObject({ status: 200, json: { ok: true, job: { id: JOB, status: 'RUNNING' } } });
    expect(await move(runner, JOB, { from: 'DOWNLOADING', to: 'RUNNING' })).toStrictEqual({
      status: 200,
      json: { ok: false, actual: 'RUNNING' },
    });
  });

  it("refuses a move back to SUBMITTED (a resume is a user's) or to a stop a user asks for, before it reads the job", async () => {
    for (const to of ['SUBMITTED', 'STOPPING', 'ABORTING']) {
      expect(await move(runner, JOB, { from: 'STOPPED', to })).toStrictEqual({
        status: 400,
        json: {
          error: {
            code: 'invalid',
            message:
              'invalid request: to: Invalid option: expected one of ' +
              '"RUNNING"|"UPLOADING"|"DONE"|"FAILED"|"STOPPED"|"ABORTED"',
          },
        },
      });
    }
    const status = (await store.getJob(JOB))?.status;
    await store.transition(JOB, status!, 'STOPPING', {}, 'test');
    await store.transition(JOB, 'STOPPING', 'STOPPED', {}, 'test');
    // Its own stopped job stays stopped: only its user resumes it.
    expect((await move(runner, JOB, { from: 'STOPPED', to: 'SUBMITTED' })).status).toBe(400);
    expect((await store.getJob(JOB))?.status).toBe('STOPPED');
  });
});
