/**
 * A tag promised to an unfinished run (`dstack run --tag`) is listed with that run
 * (`GET /api/tags?promised=1`), and `DELETE /api/tags/TAG` lets the promise go: the run ends
 * untagged and the tag is free. Through the real app and engine over a real SQLite store.
 */
import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/core/job-spec.js';
import type { RunView } from '../../src/core/records.js';
import { issueToken } from '../../src/server/auth.js';
import { submitRun } from '../../src/server/submit.js';
import { makeSpec } from '../store/fixtures.js';
import { callApi } from './app-fixture.js';
import { engineWith, finish, putBlob } from './engine-fixture.js';

async function setup() {
  const { engine, app } = await engineWith([]);
  const codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
  const submit = (user: string, ref: string, tag?: string, root = '/') => {
    const jobs: JobSpec[] = [makeSpec(ref, { artifacts: [] })];
    return submitRun(engine, user, { workflow: ref, overrides: {}, repo: { root }, codeDigest, jobs, tag });
  };
  const token = await issueToken(engine.store, 'user', 'u', false);
  const admin = await issueToken(engine.store, 'user', 'root', true);
  const api = (method: string, path: string, body?: unknown, as = token) => callApi(app, as, method, path, body);
  return { engine, submit, api, admin };
}

const tagsOf = (json: unknown) => (json as RunView[]).map((r) => [r.name, r.tag, r.tagOnDone]);

describe('a tag promised to an unfinished run', () => {
  it('is listed with its run when promised ones are asked for, and not otherwise', async () => {
    const { engine, submit, api } = await setup();
    const done = await submit('u', 'a');
    await finish(engine, done.jobs[0]!.id);
    expect((await api('POST', '/api/tags', { tag: 'kept', run: done.name })).status).toBe(201);
    const pending = await submit('u', 'b', 'pend');
    await submit('bob', 'c', 'theirs');
    expect(tagsOf((await api('GET', '/api/tags?promised=1')).json)).toEqual([
      [pending.name, undefined, 'pend'],
      [done.name, 'kept', undefined],
    ]);
    expect(tagsOf((await api('GET', '/api/tags')).json)).toEqual([[done.name, 'kept', undefined]]);
    // Once the run is DONE the tag is its own.
    await finish(engine, pending.jobs[0]!.id);
    expect(tagsOf((await api('GET', '/api/tags?promised=1')).json)).toEqual([
      [pending.name, 'pend', 'pend'],
      [done.name, 'kept', undefined],
    ]);
  });

  it('is let go by deleting the tag: the run ends untagged, and another run may take the tag', async () => {
    const { engine, submit, api } = await setup();
    const pending = await submit('u', 'a', 'pend');
    expect(await api('DELETE', '/api/tags/pend')).toEqual({
      status: 200,
      json: { ok: true, promisedTo: pending.name, run: pending.name, project: '/' },
    });
    expect((await engine.store.getRun(pending.name))?.tagOnDone).toBeUndefined();
    const next = await submit('u', 'b', 'pend');
    await finish(engine, pending.jobs[0]!.id);
    await finish(engine, next.jobs[0]!.id);
    expect((await engine.store.getRun(pending.name))?.tag).toBeUndefined();
    expect((await engine.store.getRun(next.name))?.tag).toBe('pend');
    expect(await api('DELETE', '/api/tags/pend')).toEqual({
      status: 200,
      json: { ok: true, run: next.name, project: '/' },
    });
    expect((await api('DELETE', '/api/tags/pend')).json).toEqual({
      error: { code: 'not_found', message: "tag 'pend' does not exist; see 'dstack tags list'" },
    });
  });

  it('deletes the tag itself when the run ended DONE, and took it, while the delete waited its turn', async () => {
    const { engine, submit, api } = await setup();
    const pending = await submit('u', 'a', 'pend');
    // The delete waits behind submissions (engine.serialize); the run finishes meanwhile.
    const serialize = engine.serialize.bind(engine);
    engine.serialize = async (fn) => {
      await finish(engine, pending.jobs[0]!.id);
      return serialize(fn);
    };
    // Not "promised to run …: that run will end untagged" while the run keeps the tag.
    expect(await api('DELETE', '/api/tags/pend')).toEqual({
      status: 200,
      json: { ok: true, run: pending.name, project: '/' },
    });
    engine.serialize = serialize;
    expect((await engine.store.getRun(pending.name))?.tag).toBeUndefined();
    const next = await submit('u', 'b', 'pend');
    await finish(engine, next.jobs[0]!.id);
    expect((await engine.store.getRun(next.name))?.tag).toBe('pend');
  });

  it('ends a run untagged whose promise was dropped after the engine read the run as it ended DONE', async () => {
    const { engine, submit } = await setup();
    const pending = await submit('u', 'a', 'pend');
    // The engine reads the run, promise and all; a `tags delete` that found the run unfinished
    // a moment before drops the promise before the engine tags it.
    const getRun = engine.store.getRun.bind(engine.store);
    engine.store.getRun = async (name) => {
      const run = await getRun(name);
      if (run?.tagOnDone) await engine.store.dropTagPromise(name);
      return run;
    };
    await finish(engine, pending.jobs[0]!.id);
    engine.store.getRun = getRun;
    expect((await engine.store.getRun(pending.name))?.tag).toBeUndefined();
  });

  it("names the runs a tag is promised to in several projects, and leaves another user's alone", async () => {
    const { submit, api, admin } = await setup();
    const one = await submit('u', 'a', 'pend', '/one');
    const two = await submit('u', 'b', 'pend', '/two');
    await submit('bob', 'c', 'mine');
    expect((await api('DELETE', '/api/tags/pend')).json).toEqual({
      error: {
        code: 'conflict',
        message:
          `tag 'pend' is on 2 runs: /two (run ${two.name}, promised); /one (run ${one.name}, promised); ` +
          "run 'dstack tags delete pend' in its project, or add --project KEY",
      },
    });
    expect((await api('DELETE', '/api/tags/pend?project=%2Fone')).json).toEqual({
      ok: true,
      promisedTo: one.name,
      run: one.name,
      project: '/one',
    });
    expect((await api('DELETE', '/api/tags/mine')).json).toEqual({
      error: { code: 'not_found', message: "tag 'mine' does not exist; see 'dstack tags list'" },
    });
    expect(tagsOf((await api('GET', '/api/tags?promised=1&mine=1', undefined, admin)).json)).toEqual([]);
    // Both users' (the two runs may share a millisecond, so their order is not asserted).
    const all = tagsOf((await api('GET', '/api/tags?promised=1', undefined, admin)).json).map((r) => r[2]);
    expect(all.sort()).toEqual(['mine', 'pend']);
  });
});
