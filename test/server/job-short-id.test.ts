/**
 * A job named by the start of its id, as git takes a short commit id: the one job of the caller's
 * it starts is taken; several are listed; another user's job is never counted. On the real API
 * over a real SQLite store.
 */
import { describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { callApi, testApp } from './app-fixture.js';

async function twoUsers() {
  const { store, app } = await testApp('short-ids');
  const ada = makeRun('calm-owl-1', { user: 'ada' });
  await store.createRun(
    ada,
    [
      makeJob(ada, 'prepare', { id: 'abcd00000001', status: 'DONE' }),
      makeJob(ada, 'train', { id: 'abcd00000002', status: 'DONE' }),
      makeJob(ada, 'eval', { id: 'abce00000003', status: 'DONE' }),
    ],
    'test',
  );
  const bob = makeRun('keen-fox-1', { user: 'bob' });
  await store.createRun(bob, [makeJob(bob, 'train', { id: 'abcf00000004', status: 'DONE' })], 'test');
  const [user, admin] = await Promise.all([
    issueToken(store, 'user', 'ada', false),
    issueToken(store, 'user', 'root', true),
  ]);
  return {
    as: (token: string, method: string, path: string, body?: unknown) => callApi(app, token, method, path, body),
    user,
    admin,
  };
}

const message = (answer: { json: Record<string, unknown> }) => (answer.json.error as { message: string }).message;

describe('a short job id', () => {
  it('names the one job of the caller whose id it starts, for a job route and a RUN | JOB target', async () => {
    const { as, user } = await twoUsers();
    const job = await as(user, 'GET', '/api/jobs/abce');
    expect(job).toMatchObject({ status: 200, json: { job: { id: 'abce00000003', ref: 'eval' } } });
    expect(await as(user, 'GET', '/api/jobs/abce0/artifacts')).toMatchObject({ status: 200, json: { artifacts: [] } });
    // A finished job: the stop changes nothing, but the job was found.
    expect(await as(user, 'POST', '/api/stop', { target: 'abce000' })).toEqual({ status: 200, json: [] });
  });

  it('that starts several jobs is refused, listing them, so the user can type more', async () => {
    const { as, user } = await twoUsers();
    const answer = await as(user, 'GET', '/api/logs?target=abcd');
    expect(answer.status).toBe(409);
    expect(message(answer)).toBe(
      "job id 'abcd' is ambiguous: it starts the ids of abcd00000001 prepare (run calm-owl-1), " +
        'abcd00000002 train (run calm-owl-1); type more of the id',
    );
  });

  it("never counts another user's job, nor takes fewer than 4 digits; an admin's reach is every user's", async () => {
    const { as, user, admin } = await twoUsers();
    // 'abc' starts all four ids, but only ada's three count for her, and 3 digits are no short id.
    expect(message(await as(user, 'POST', '/api/stop', { target: 'abcf' }))).toBe(
      "no run or job named 'abcf', nor a job whose id starts with it (see 'dstack status --last 10')",
    );
    expect(message(await as(user, 'GET', '/api/runs/abc'))).toBe(
      "no run or job named 'abc' (see 'dstack status --last 10')",
    );
    expect(await as(admin, 'GET', '/api/jobs/abcf')).toMatchObject({ json: { job: { id: 'abcf00000004' } } });
    expect(message(await as(admin, 'GET', '/api/jobs/abc'))).toBe("no job 'abc'");
  });
});
