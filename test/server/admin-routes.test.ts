/**
 * Deleting a user leaves nothing of theirs that a new user of the same name would inherit:
 * their repo credentials go, and the name is refused while their runs are on the server.
 */
import { describe, expect, it } from 'vitest';
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
});
