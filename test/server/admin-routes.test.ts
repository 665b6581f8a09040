/**
 * Deleting a user leaves nothing of theirs that a new user of the same name would inherit:
 * their repo credentials go, and the name is refused while their runs are on the server; their
 * unfinished jobs are stopped.
 */
import { describe, expect, it } from 'vitest';
import { USER_DELETED } from '../../src/server/api/admin-routes.js';
import { issueToken } from '../../src/server/auth.js';
import { seedRun } from '../store/fixtures.js';
import { callApi, testApp } from './app-fixture.js';

const REMOTE = 'https://github.com/acme/x.git';

describe('admin routes: deleting a user', () => {
  it('deletes the repo credentials the user registered; a new user of the name has none', async () => {
    const { store, app } = await testApp('admin-routes');
    const admin = await issueToken(store, 'user', 'root', true);
    const added = await callApi(app, admin, 'POST', '/api/users', { name: 'alice' });
    const alice = added.json.token as string;
    const register = { remote: REMOTE, credential: { kind: 'token', token: 'ghp_secret' } };
    expect((await callApi(app, alice, 'POST', '/api/repos', register)).status).toBe(201);

    expect((await callApi(app, admin, 'DELETE', '/api/users/alice')).status).toBe(200);
    expect(await store.listRepos('alice')).toEqual([]);
    const again = await callApi(app, admin, 'POST', '/api/users', { name: 'alice' });
    expect(again.status).toBe(201);
    expect((await callApi(app, again.json.token as string, 'GET', '/api/repos')).json).toEqual([]);
  });

  it('forgets, at its creation, credentials that a deletion by an earlier version left under the name', async () => {
    const { store, app } = await testApp('admin-routes');
    const admin = await issueToken(store, 'user', 'root', true);
    await store.putRepo({ user: 'carol', remote: REMOTE, credential: 'none', createdAt: 1 });
    expect((await callApi(app, admin, 'POST', '/api/users', { name: 'carol' })).status).toBe(201);
    expect(await store.listRepos('carol')).toEqual([]);
  });

  it("refuses a new user of a deleted user's name while that user's runs are on the server", async () => {
    const { store, app } = await testApp('admin-routes');
    const admin = await issueToken(store, 'user', 'root', true);
    await callApi(app, admin, 'POST', '/api/users', { name: 'bob' });
    await seedRun(store, 'bobs-run', ['train'], { user: 'bob' });
    expect((await callApi(app, admin, 'DELETE', '/api/users/bob')).status).toBe(200);

    const again = await callApi(app, admin, 'POST', '/api/users', { name: 'bob' });
    expect(again).toEqual({
      status: 409,
      json: {
        error: {
          code: 'conflict',
          message:
            "user 'bob' was deleted, and their runs are still on this server: a new user of that name would own " +
            'them; choose another name',
        },
      },
    });
    expect(await store.listTokens('user')).toHaveLength(1);
  });

  it("stops the user's unfinished jobs, saying why, and leaves their finished ones and others' alone", async () => {
    const { store, app } = await testApp('admin-routes');
    const admin = await issueToken(store, 'user', 'root', true);
    await callApi(app, admin, 'POST', '/api/users', { name: 'bob' });
    const bobs = await seedRun(store, 'bobs-run', ['prepare', 'train'], { user: 'bob' });
    const [prepare, train] = bobs.jobs.map((j) => j.id);
    await store.transition(prepare!, 'SUBMITTED', 'DOWNLOADING', { runner: 'r1' }, 'test');
    await store.transition(prepare!, 'DOWNLOADING', 'RUNNING', {}, 'test');
    const done = await seedRun(store, 'bobs-old-run', ['eval'], { user: 'bob' });
    await store.transition(done.jobs[0]!.id, 'SUBMITTED', 'DONE', {}, 'test');
    const alices = await seedRun(store, 'alices-run', ['train'], { user: 'alice' });

    const deleted = await callApi(app, admin, 'DELETE', '/api/users/bob');
    expect(deleted).toEqual({ status: 200, json: { ok: true, stopped: 2 } });
    // The running one is told to stop through its runner (artifacts saved); the waiting one ends at once.
    expect(await store.getJob(prepare!)).toMatchObject({ status: 'STOPPING', reason: USER_DELETED });
    expect(await store.getJob(train!)).toMatchObject({ status: 'STOPPED', reason: USER_DELETED });
    expect((await store.getJob(done.jobs[0]!.id))?.status).toBe('DONE');
    expect((await store.getJob(alices.jobs[0]!.id))?.status).toBe('SUBMITTED');
  });
});

describe('admin routes: listing users', () => {
  it('lists each user once, with how many tokens they have (an admin whose token file went stale has two)', async () => {
    const { store, app } = await testApp('admin-routes');
    const first = await issueToken(store, 'user', 'admin', true);
    await issueToken(store, 'user', 'admin', true); // the next start's, for a stale DATA_DIR/token
    await issueToken(store, 'user', 'alice', false);
    const listed = await callApi(app, first, 'GET', '/api/users');
    expect(listed.json).toEqual([
      { name: 'admin', admin: true, createdAt: expect.any(Number), tokens: 2 },
      { name: 'alice', admin: false, createdAt: expect.any(Number), tokens: 1 },
    ]);
  });
});

describe('admin routes: a second admin', () => {
  it('adds an admin user (admin: true), who may then delete the first admin; the last one is refused, naming how', async () => {
    const { store, app } = await testApp('admin-routes');
    const root = await issueToken(store, 'user', 'root', true);
    const lastAdmin = {
      status: 409,
      json: {
        error: {
          code: 'conflict',
          message: "'root' is the last admin; make another one first, with: dstack users promote NAME",
        },
      },
    };
    expect(await callApi(app, root, 'DELETE', '/api/users/root')).toEqual(lastAdmin);

    const added = await callApi(app, root, 'POST', '/api/users', { name: 'ops', admin: true });
    expect(added).toEqual({ status: 201, json: { name: 'ops', admin: true, token: expect.stringMatching(/^dst_/) } });
    const plain = await callApi(app, root, 'POST', '/api/users', { name: 'alice' });
    expect(plain.json).toMatchObject({ name: 'alice', admin: false });
    const ops = added.json.token as string;
    // A replaced token keeps the flag.
    const replaced = (await callApi(app, root, 'POST', '/api/users/ops/token')).json.token as string;
    expect((await callApi(app, ops, 'GET', '/api/users')).status).toBe(401);
    const users = (await callApi(app, replaced, 'GET', '/api/users')).json as unknown as {
      name: string;
      admin: boolean;
    }[];
    expect(users.map((u) => [u.name, u.admin]).sort()).toEqual([
      ['alice', false],
      ['ops', true],
      ['root', true],
    ]);
    expect((await callApi(app, replaced, 'DELETE', '/api/users/root')).status).toBe(200);
    expect(await callApi(app, replaced, 'DELETE', '/api/users/ops')).toEqual({
      ...lastAdmin,
      json: { error: { ...lastAdmin.json.error, message: lastAdmin.json.error.message.replace('root', 'ops') } },
    });
  });

  it("refuses a non-admin's admin user, and an admin flag that is not true or false", async () => {
    const { store, app } = await testApp('admin-routes');
    const root = await issueToken(store, 'user', 'root', true);
    const alice = await issueToken(store, 'user', 'alice', false);
    expect(await callApi(app, alice, 'POST', '/api/users', { name: 'mallory', admin: true })).toEqual({
      status: 403,
      json: { error: { code: 'forbidden', message: 'only an admin can do this' } },
    });
    expect((await callApi(app, root, 'POST', '/api/users', { name: 'bob', admin: 'yes' })).status).toBe(400);
    expect((await store.listTokens('user')).map((t) => t.name).sort()).toEqual(['alice', 'root']);
  });
});

describe('admin routes: promoting and demoting a user in place', () => {
  it('makes a user an admin and back, on their token as it is, from their next request', async () => {
    const { store, app } = await testApp('admin-routes');
    const root = await issueToken(store, 'user', 'root', true);
    const alice = await issueToken(store, 'user', 'alice', false);
    await seedRun(store, 'roots-run', ['train'], { user: 'root' });
    expect((await callApi(app, alice, 'GET', '/api/users')).status).toBe(403);
    expect((await callApi(app, alice, 'GET', '/api/runs/roots-run')).status).toBe(404);

    const promoted = await callApi(app, root, 'PUT', '/api/users/alice/admin', { admin: true });
    expect(promoted).toEqual({ status: 200, json: { name: 'alice', admin: true, changed: true } });
    expect((await callApi(app, alice, 'GET', '/api/users')).status).toBe(200);
    expect((await callApi(app, alice, 'GET', '/api/runs/roots-run')).status).toBe(200);
    const again = await callApi(app, root, 'PUT', '/api/users/alice/admin', { admin: true });
    expect(again.json).toEqual({ name: 'alice', admin: true, changed: false });

    // The new admin may demote the first; then the last one is refused, naming how to make another.
    expect((await callApi(app, alice, 'PUT', '/api/users/root/admin', { admin: false })).status).toBe(200);
    expect(await callApi(app, alice, 'PUT', '/api/users/alice/admin', { admin: false })).toEqual({
      status: 409,
      json: {
        error: {
          code: 'conflict',
          message: "'alice' is the last admin; make another one first, with: dstack users promote NAME",
        },
      },
    });
    expect((await callApi(app, root, 'GET', '/api/users')).status).toBe(403);
  });

  it('refuses a non-admin, an unknown user, and a flag that is not true or false', async () => {
    const { store, app } = await testApp('admin-routes');
    const root = await issueToken(store, 'user', 'root', true);
    const alice = await issueToken(store, 'user', 'alice', false);
    expect(await callApi(app, alice, 'PUT', '/api/users/alice/admin', { admin: true })).toEqual({
      status: 403,
      json: { error: { code: 'forbidden', message: 'only an admin can do this' } },
    });
    expect(await callApi(app, root, 'PUT', '/api/users/carol/admin', { admin: true })).toEqual({
      status: 404,
      json: { error: { code: 'not_found', message: "no user 'carol'" } },
    });
    expect(await callApi(app, root, 'PUT', '/api/users/alice/admin', { admin: 'yes' })).toEqual({
      status: 400,
      json: {
        error: { code: 'invalid', message: 'invalid request: admin: Invalid input: expected boolean, received string' },
      },
    });
    expect((await store.listTokens('user')).filter((t) => t.admin).map((t) => t.name)).toEqual(['root']);
  });
});
