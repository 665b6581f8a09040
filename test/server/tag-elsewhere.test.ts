/**
 * A tag missing from a project but held by the same user in another (the project's key changed
 * when a remote was added) is pointed to; another user's never is, and an admin's `mine`
 * listings hold only their own. Through the real app and engine over a real SQLite store.
 */
import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/core/job-spec.js';
import { issueToken } from '../../src/server/auth.js';
import { submitRun } from '../../src/server/submit.js';
import { makeSpec } from '../store/fixtures.js';
import { callApi } from './app-fixture.js';
import { engineWith, finish, putBlob } from './engine-fixture.js';

const TRAIN: JobSpec[] = [makeSpec('train', { artifacts: [], dependsOn: [{ workflow: 'prepare', tag: 'best' }] })];

async function setup() {
  const { engine, app } = await engineWith([]);
  const codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
  const request = (root: string, jobs: JobSpec[]) => ({
    workflow: jobs[0]!.ref,
    overrides: {},
    repo: { root },
    codeDigest,
    jobs,
  });
  // alice's tagged prepare, in the folder /a (no remote).
  const prepared = await submitRun(engine, 'alice', request('/a', [makeSpec('prepare', { artifacts: [] })]));
  await finish(engine, prepared.jobs[0]!.id);
  await engine.store.setTag(prepared.name, 'best');
  const tokens = {
    alice: await issueToken(engine.store, 'user', 'alice', false),
    bob: await issueToken(engine.store, 'user', 'bob', false),
    root: await issueToken(engine.store, 'user', 'root', true),
  };
  const preview = (user: keyof typeof tokens) =>
    callApi(app, tokens[user], 'POST', '/api/runs/preview', { jobs: TRAIN, code: { files: [] }, repo: { root: '/b' } });
  const get = (user: keyof typeof tokens, path: string) => callApi(app, tokens[user], 'GET', path);
  return { engine, request, prepared, preview, get };
}

describe('a tag missing from the project the run is submitted in', () => {
  it("names the submitter's own run with it in another project, and why it is not this one's", async () => {
    const { engine, request, prepared, preview } = await setup();
    await expect(submitRun(engine, 'alice', request('/b', TRAIN))).rejects.toThrow(
      `depends-on 'prepare:best': tag 'best' does not exist in project /b; you have it in project /a ` +
        `(run ${prepared.name}): a tag is of its run's project, which is its git remote, or its folder ` +
        'without one (adding or changing a remote starts a new project); tag a run of this one ' +
        "(dstack tags add best RUN), or see 'dstack tags list --all'",
    );
    expect((await preview('alice')).json).toMatchObject({
      tags: { 'prepare:best': null },
      project: '/b',
      tagsElsewhere: { 'prepare:best': [{ project: '/a', run: prepared.name }] },
    });
  });

  it("never names another user's run with that tag", async () => {
    const { engine, request, preview } = await setup();
    await expect(submitRun(engine, 'bob', request('/b', TRAIN))).rejects.toThrow(
      /^depends-on 'prepare:best': tag 'best' does not exist in project \/b; see 'dstack tags list'$/,
    );
    expect((await preview('bob')).json).toMatchObject({ tags: { 'prepare:best': null }, tagsElsewhere: {} });
    expect((await preview('root')).json).toMatchObject({ tagsElsewhere: {} }); // an admin's own runs only
  });

  it("suggests the submitter's own tag of this project that is nearest a misspelt one, never another user's", async () => {
    const { engine, request, prepared } = await setup();
    const misspelt = [makeSpec('train', { artifacts: [], dependsOn: [{ workflow: 'prepare', tag: 'bset' }] })];
    await expect(submitRun(engine, 'alice', request('/a', misspelt))).rejects.toThrow(
      `depends-on 'prepare:bset': tag 'bset' does not exist in project /a; did you mean tag 'best' (run ${prepared.name})?`,
    );
    await expect(submitRun(engine, 'bob', request('/a', misspelt))).rejects.toThrow(
      /^depends-on 'prepare:bset': tag 'bset' does not exist in project \/a; see 'dstack tags list'$/,
    );
  });

  it("lists only the caller's own runs and tags with mine=1, an admin's too", async () => {
    const { prepared, get } = await setup();
    expect((await get('root', '/api/runs?project=%2Fa&last=1')).json).toMatchObject([{ name: prepared.name }]);
    expect((await get('root', '/api/runs?project=%2Fa&last=1&mine=1')).json).toEqual([]);
    expect((await get('root', '/api/tags?project=%2Fa')).json).toMatchObject([{ name: prepared.name }]);
    expect((await get('root', '/api/tags?project=%2Fa&mine=1')).json).toEqual([]);
    expect((await get('alice', '/api/tags?project=%2Fa&mine=1')).json).toMatchObject([{ name: prepared.name }]);
    expect((await get('bob', '/api/runs?project=%2Fa&last=1&mine=1')).json).toEqual([]);
  });
});
