/**
 * New tokens in place of old ones, on the real app over a real SQLite store: the old token is
 * refused from the next request (though the token cache had it), an admin replaces anyone's,
 * a user only their own, and a runner's replaced token ends its jobs and frees its name.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import type { Engine } from '../../src/server/engine.js';
import type { Store } from '../../src/server/store/store.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { callApi, testApp, type TestApp } from './app-fixture.js';

const total = { cpu: 2, memory: 1 << 30, gpus: [] };
const JOB = 'aaaaaaaaaaaa';

describe('replacing tokens', () => {
  let app: TestApp;
  let store: Store;
  let engine: Engine;
  let admin: string;
  let alice: string;

  beforeEach(async () => {
    ({ store, app, engine } = await testApp('token-routes'));
    admin = await issueToken(store, 'user', 'root', true);
    alice = await issueToken(store, 'user', 'alice', false);
  });

  const refusal = {
    status: 401,
    json: {
      error: { code: 'unauthorized', message: 'missing or invalid token (pass it as "Authorization: Bearer TOKEN")' },
    },
  };

  it("an admin replaces a user's token: the old one is refused at once, though a request just had it remembered", async () => {
    expect((await callApi(app, alice, 'GET', '/api/runs')).status).toBe(200); // now in the 5 s token cache
    const answer = await callApi(app, admin, 'POST', '/api/users/alice/token');
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ name: 'alice', token: expect.stringMatching(/^dst_/) as string });
    expect(await callApi(app, alice, 'GET', '/api/runs')).toEqual(refusal);
    expect((await callApi(app, answer.json.token as string, 'GET', '/api/runs')).status).toBe(200);
    // Still one user of that name, not an admin, created when she was.
    const users = (await callApi(app, admin, 'GET', '/api/users')).json as unknown as { name: string }[];
    expect(users.filter((u) => u.name === 'alice')).toEqual([
      { name: 'alice', admin: false, createdAt: expect.any(Number), tokens: 1 },
    ]);
  });

  it('a user replaces their own token, and an admin theirs, admin still', async () => {
    const own = await callApi(app, alice, 'POST', '/api/users/alice/token');
    expect(own.status).toBe(200);
    expect(await callApi(app, alice, 'GET', '/api/health')).toEqual(refusal);
    const root = await callApi(app, admin, 'POST', '/api/users/root/token');
    expect(await callApi(app, admin, 'GET', '/api/users')).toEqual(refusal);
    expect((await callApi(app, root.json.token as string, 'GET', '/api/users')).status).toBe(200);
  });

  it("refuses a user another's token, and runner tokens either kind; an admin an unknown name", async () => {
    const bob = await issueToken(store, 'user', 'bob', false);
    const forbidden = {
      status: 403,
      json: {
        error: {
          code: 'forbidden',
          message: "only an admin can replace another user's token; replace your own with: dstack users token",
        },
      },
    };
    expect(await callApi(app, alice, 'POST', '/api/users/bob/token')).toEqual(forbidden);
    // Whether a name exists is not a non-admin's to learn.
    expect(await callApi(app, alice, 'POST', '/api/users/nobody/token')).toEqual(forbidden);
    expect((await callApi(app, bob, 'GET', '/api/health')).status).toBe(200);
    expect(await callApi(app, alice, 'POST', '/api/runners/gpu-1/token')).toEqual({
      status: 403,
      json: { error: { code: 'forbidden', message: 'only an admin can do this' } },
    });
    const runner = await issueToken(store, 'runner', 'gpu-1', false);
    const asRunner = await callApi(app, runner, 'POST', '/api/runners/gpu-1/token');
    expect(asRunner.status).toBe(403);
    expect((asRunner.json.error as { message: string }).message).toContain('this route is for user tokens');
    expect(await callApi(app, admin, 'POST', '/api/users/nobody/token')).toEqual({
      status: 404,
      json: { error: { code: 'not_found', message: "no user 'nobody'" } },
    });
    expect(await callApi(app, admin, 'POST', '/api/runners/nobody/token')).toEqual({
      status: 404,
      json: { error: { code: 'not_found', message: "no runner 'nobody'" } },
    });
  });

  it("refuses the server's own runner, whose token the server makes at each start", async () => {
    engine.runsLocalRunner = true;
    await issueToken(store, 'runner', 'local', false);
    expect(await callApi(app, admin, 'POST', '/api/runners/local/token')).toEqual({
      status: 409,
      json: {
        error: {
          code: 'conflict',
          message:
            "runner 'local' is this server's own: the server gives it a new token at every start, and that token never leaves it",
        },
      },
    });
  });

  it("fails a replaced runner's jobs and lists it OFFLINE: its old process is refused, a new one gets in at once", async () => {
    const old = await issueToken(store, 'runner', 'gpu-1', false);
    const register = (token: string, session: string) =>
      callApi(app, token, 'POST', '/api/runner/register', { name: 'gpu-1', session, host: 'h', total, jobIds: [] });
    expect((await register(old, 'a'.repeat(32))).status).toBe(200);
    const run = makeRun('busy-run');
    await store.createRun(run, [makeJob(run, 'a', { id: JOB })], 'test');
    await store.transition(JOB, 'SUBMITTED', 'DOWNLOADING', { runner: 'gpu-1' }, 'test');

    const answer = await callApi(app, admin, 'POST', '/api/runners/gpu-1/token');
    expect(answer).toEqual({
      status: 200,
      json: { name: 'gpu-1', token: expect.stringMatching(/^dst_/) as string, failed: 1 },
    });
    expect(await store.getJob(JOB)).toMatchObject({ status: 'FAILED', reason: 'runner token replaced' });
    expect((await store.getRunner('gpu-1'))?.status).toBe('OFFLINE');
    const heartbeat = { name: 'gpu-1', session: 'a'.repeat(32), jobIds: [JOB], waitMs: 0 };
    expect(await callApi(app, old, 'POST', '/api/runner/heartbeat', heartbeat)).toEqual(refusal);
    // Another process (another session) with the new token: not kept waiting for the old one's timeout.
    expect((await register(answer.json.token as string, 'b'.repeat(32))).status).toBe(200);
    expect((await store.getRunner('gpu-1'))?.status).toBe('ACTIVE');
  });
});
