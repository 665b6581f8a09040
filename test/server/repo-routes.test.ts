/**
 * The repo routes on the real app over a real SQLite store: users register and list (never
 * seeing a credential), and a runner gets credentials only for a job it holds now.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord, RunRecord } from '../../src/core/records.js';
import { createApp } from '../../src/server/app.js';
import { issueToken } from '../../src/server/auth.js';
import { ServerKey } from '../../src/server/crypto.js';
import { callApi, testApp, type TestApp } from './app-fixture.js';
import { makeRun } from '../store/fixtures.js';

const REMOTE = 'https://github.com/ada/gpt-2.git';
const KEY =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n';

function job(id: string, runName: string): JobRecord {
  return {
    id,
    runName,
    ref: 'train',
    workflow: 'train',
    spec: {
      ref: 'train',
      workflow: 'train',
      provider: 'bash',
      commands: ['true'],
      env: {},
      variables: {},
      artifacts: [],
      resources: { cpu: 1, memory: 0, gpu: 0 },
      dependsOn: [],
      params: {},
    },
    cacheKey: id.repeat(2),
    dependsOn: [],
    status: 'SUBMITTED',
    submittedAt: 1,
  };
}

describe('repo routes', () => {
  let app: TestApp;
  let fixture: Awaited<ReturnType<typeof testApp>>;
  let ada: string;
  let bob: string;
  let runner: string;
  let other: string;

  const call = (token: string, method: string, path: string, body?: unknown) => callApi(app, token, method, path, body);

  beforeAll(async () => {
    fixture = await testApp('repo-routes');
    const store = fixture.store;
    app = fixture.app;
    [ada, bob, runner, other] = await Promise.all([
      issueToken(store, 'user', 'ada', false),
      issueToken(store, 'user', 'bob', false),
      issueToken(store, 'runner', 'gpu-1', false),
      issueToken(store, 'runner', 'gpu-2', false),
    ]);
    const run = (name: string, user: string, remote?: string): RunRecord =>
      makeRun(name, {
        repo: { root: '/p', ...(remote ? { remote, commit: 'a'.repeat(40) } : {}) },
        codeDigest: 'c'.repeat(64),
        submittedAt: 1,
        user,
      });
    await store.createRun(run('ada-run', 'ada', REMOTE), [job('aaaaaaaaaaaa', 'ada-run')], 'test');
    await store.createRun(run('bob-run', 'bob', REMOTE), [job('bbbbbbbbbbbb', 'bob-run')], 'test');
    await store.createRun(run('plain-run', 'ada'), [job('cccccccccccc', 'plain-run')], 'test');
    await store.createRun(run('idle-run', 'ada', REMOTE), [job('dddddddddddd', 'idle-run')], 'test');
    for (const id of ['aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'cccccccccccc']) {
      await store.transition(id, 'SUBMITTED', 'DOWNLOADING', { runner: 'gpu-1' }, 'test');
    }
  });

  it('POST /api/repos registers and answers only the remote, the kind of credential and the time', async () => {
    const r = await call(ada, 'POST', '/api/repos', { remote: REMOTE, credential: { kind: 'token', token: 'ghp_x1' } });
    expect(r.status).toBe(201);
    expect(r.json).toStrictEqual({ remote: REMOTE, credential: 'token', createdAt: expect.any(Number) });
    const listed = await call(ada, 'GET', '/api/repos');
    expect(JSON.stringify(listed.json)).not.toContain('ghp_x1');
    expect(listed.json).toStrictEqual([{ remote: REMOTE, credential: 'token', createdAt: expect.any(Number) }]);
    expect((await call(bob, 'GET', '/api/repos')).json).toStrictEqual([]);
  });

  it('the runner holding a job gets its run user’s credential in the clear', async () => {
    await call(ada, 'POST', '/api/repos', { remote: REMOTE, credential: { kind: 'ssh-key', privateKey: KEY } });
    const r = await call(runner, 'GET', '/api/runner/jobs/aaaaaaaaaaaa/code-source');
    expect(r).toStrictEqual({
      status: 200,
      json: { source: { remote: REMOTE, user: 'ada', credential: { kind: 'ssh-key', privateKey: KEY } } },
    });
  });

  it('no source for a run whose user did not register its remote, or a run without a remote', async () => {
    expect((await call(runner, 'GET', '/api/runner/jobs/bbbbbbbbbbbb/code-source')).json).toStrictEqual({
      source: null,
    });
    expect((await call(runner, 'GET', '/api/runner/jobs/cccccccccccc/code-source')).json).toStrictEqual({
      source: null,
    });
  });

  it("says at once, not as a server error to retry, that a credential does not open with the server's key", async () => {
    await call(ada, 'POST', '/api/repos', { remote: REMOTE, credential: { kind: 'token', token: 'ghp_x1' } });
    const other = await mkdtemp(join(tmpdir(), 'dstack-other-key-'));
    const moved = createApp(fixture.engine, ServerKey.forDataDir(other)); // the database without its key file
    const r = await callApi(moved, runner, 'GET', '/api/runner/jobs/aaaaaaaaaaaa/code-source');
    expect(r).toStrictEqual({
      status: 409,
      json: {
        error: {
          code: 'conflict',
          message:
            `the credential ada registered for ${REMOTE} does not open with ${join(other, 'server.key')} (the ` +
            "server's key was replaced, or the database moved without it): run 'dstack init' in that repository again",
        },
      },
    });
  });

  it('refuses another runner, a job not assigned, an unknown job, and user tokens', async () => {
    expect(await call(other, 'GET', '/api/runner/jobs/aaaaaaaaaaaa/code-source')).toStrictEqual({
      status: 403,
      json: { error: { code: 'forbidden', message: 'job aaaaaaaaaaaa is not running on this runner' } },
    });
    expect((await call(runner, 'GET', '/api/runner/jobs/dddddddddddd/code-source')).status).toBe(403);
    expect((await call(runner, 'GET', '/api/runner/jobs/eeeeeeeeeeee/code-source')).json).toStrictEqual({
      error: { code: 'not_found', message: "no job 'eeeeeeeeeeee'" },
    });
    expect((await call(ada, 'GET', '/api/runner/jobs/aaaaaaaaaaaa/code-source')).status).toBe(403);
  });

  it('runner tokens cannot register or list repos', async () => {
    expect((await call(runner, 'GET', '/api/repos')).status).toBe(403);
    expect((await call(runner, 'POST', '/api/repos', { remote: REMOTE, credential: { kind: 'none' } })).status).toBe(
      403,
    );
  });

  it('a bad body is a 400 naming the field, without echoing the credential', async () => {
    const r = await call(ada, 'POST', '/api/repos', {
      remote: REMOTE,
      credential: { kind: 'password', pw: 'hunter2' },
    });
    expect(r.status).toBe(400);
    expect((r.json.error as { message: string }).message).toMatch(/^invalid request: credential/);
    expect(JSON.stringify(r.json)).not.toContain('hunter2');
  });

  it('refuses a remote whose URL holds credentials, for a repo or a run, without echoing them', async () => {
    const remote = 'https://alice:ghp_X9secret@github.com/acme/x.git';
    const refused = {
      status: 400,
      json: {
        error: {
          code: 'invalid',
          message:
            "invalid request: remote: the remote's URL holds credentials (USER:TOKEN@); send it without them, " +
            'and the token with dstack init --token',
        },
      },
    };
    expect(await call(bob, 'POST', '/api/repos', { remote, credential: { kind: 'none' } })).toStrictEqual(refused);
    expect(await fixture.store.listRepos('bob')).toStrictEqual([]);
    const run = {
      workflow: 'train',
      overrides: {},
      repo: { root: '/p', remote },
      codeDigest: 'c'.repeat(64),
      jobs: [job('ffffffffffff', 'x').spec],
    };
    const submitted = await call(bob, 'POST', '/api/runs', run);
    expect(submitted.status).toBe(400);
    expect((submitted.json.error as { message: string }).message).toBe(
      refused.json.error.message.replace('remote:', 'repo.remote:'),
    );
  });
});
