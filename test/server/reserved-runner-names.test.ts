/**
 * The names of the server's own runners (`local`, `slurm`) are not an admin's to give: a start
 * with either would take the token. A runner of such a name an earlier version let an admin add
 * is listed, given a new token and deleted as any, on a server that has no own runner of the name.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { hashToken, issueToken } from '../../src/server/auth.js';
import type { Store } from '../../src/server/store/store.js';
import { callApi, testApp, type TestApp } from './app-fixture.js';

describe("the server's own runners' names", () => {
  let app: TestApp;
  let store: Store;
  let admin: string;

  beforeEach(async () => {
    ({ store, app } = await testApp('reserved-runners'));
    admin = await issueToken(store, 'user', 'root', true);
  });

  it("refuses to add a runner named 'local' or 'slurm', saying whose name it is", async () => {
    expect(await callApi(app, admin, 'POST', '/api/runners', { name: 'local' })).toEqual({
      status: 409,
      json: {
        error: {
          code: 'conflict',
          message:
            "runner name 'local' is reserved for the server's own runner on its machine (a start without --no-local-runner); choose another name",
        },
      },
    });
    expect(await callApi(app, admin, 'POST', '/api/runners', { name: 'slurm' })).toEqual({
      status: 409,
      json: {
        error: {
          code: 'conflict',
          message:
            "runner name 'slurm' is reserved for the server's Slurm backend (a start with --backend slurm); choose another name",
        },
      },
    });
    expect(await store.listTokens('runner')).toEqual([]);
  });

  it("lists, replaces the token of and deletes a 'local' an admin added, on a server without a local runner", async () => {
    const leaked = await issueToken(store, 'runner', 'local', false); // added by an earlier version
    const listed = (await callApi(app, admin, 'GET', '/api/runners')).json as unknown as {
      name: string;
      status: string;
    }[];
    expect(listed.map((r) => [r.name, r.status])).toEqual([['local', 'NOT STARTED']]);

    const replaced = await callApi(app, admin, 'POST', '/api/runners/local/token');
    expect(replaced.status).toBe(200);
    expect(replaced.json).toMatchObject({ name: 'local', token: expect.stringMatching(/^dst_/) as string });
    expect(await store.findToken(hashToken(leaked))).toBeUndefined();

    expect(await callApi(app, admin, 'DELETE', '/api/runners/local')).toEqual({ status: 200, json: { ok: true } });
    expect(await store.listTokens('runner')).toEqual([]);
    expect(await store.findToken(hashToken(replaced.json.token as string))).toBeUndefined();
  });
});
