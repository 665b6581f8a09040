/**
 * The server keeps no manifest whose modes carry more than permission bits (setuid, setgid,
 * sticky, a file type): not a runner's artifact manifest, not the code manifest a run is
 * submitted or previewed with. Each refusal is a 400 naming the entry. Through the real app.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import { makeJob, makeRun, makeSpec } from '../store/fixtures.js';
import { callApi, type TestApp } from './app-fixture.js';
import { engineWith, putBlob } from './engine-fixture.js';
import type { Engine } from '../../src/server/engine.js';

const JOB = 'bbbbbbbbbbb1';

describe('manifest entries with modes beyond permission bits', () => {
  let app: TestApp;
  let engine: Engine;
  let runner: string;
  let user: string;
  let blob: string;

  beforeAll(async () => {
    ({ engine, app } = await engineWith([]));
    runner = await issueToken(engine.store, 'runner', 'gpu-1', false);
    user = await issueToken(engine.store, 'user', 'ada', false);
    const run = makeRun('modes-run');
    await engine.store.createRun(run, [makeJob(run, 'w', { id: JOB })], 'test');
    await engine.store.transition(JOB, 'SUBMITTED', 'DOWNLOADING', { runner: 'gpu-1' }, 'test');
    await engine.store.transition(JOB, 'DOWNLOADING', 'RUNNING', {}, 'test');
    blob = await putBlob(engine, 'data');
  });

  const artifact = (mode: number) => ({
    artifacts: [
      {
        path: 'out',
        files: [
          { path: 'out/ok', size: 4, mode: 0o755, digest: blob },
          { path: 'out/x', size: 4, mode, digest: blob },
        ],
      },
    ],
  });

  it("refuses a runner's artifact manifest with a setuid file, naming the entry, and keeps nothing", async () => {
    const put = await callApi(app, runner, 'PUT', `/api/runner/jobs/${JOB}/artifacts`, artifact(36351));
    expect(put).toStrictEqual({
      status: 400,
      json: {
        error: {
          code: 'invalid',
          message:
            "invalid request: artifacts.0.files.1: 'out/x' has mode 0o106777: " +
            "a manifest entry's mode is permission bits only (0o777 at most)",
        },
      },
    });
    expect(await engine.store.getArtifacts(JOB)).toBeUndefined();
  });

  it('takes every mode up to 0o777', async () => {
    const put = await callApi(app, runner, 'PUT', `/api/runner/jobs/${JOB}/artifacts`, artifact(0o777));
    expect(put).toStrictEqual({ status: 200, json: { ok: true } });
  });

  it('refuses a run whose code manifest has a sticky folder, naming the entry', async () => {
    const files = [
      { path: 'train.py', size: 4, mode: 0o644, digest: blob },
      { path: 'tools', size: 0, mode: 0o1777, folder: true },
    ];
    const codeDigest = await putBlob(engine, JSON.stringify({ files }));
    const jobs = [makeSpec('train', { artifacts: [] })];
    const submitted = await callApi(app, user, 'POST', '/api/runs', {
      workflow: 'train',
      overrides: {},
      repo: { root: '/p' },
      codeDigest,
      jobs,
    });
    expect(submitted).toStrictEqual({
      status: 400,
      json: {
        error: {
          code: 'invalid',
          message:
            `code manifest ${codeDigest}: files.1: 'tools' has mode 0o1777: ` +
            "a manifest entry's mode is permission bits only (0o777 at most)",
        },
      },
    });
    const previewed = await callApi(app, user, 'POST', '/api/runs/preview', {
      jobs,
      code: { files },
      repo: { root: '/p' },
    });
    expect(previewed.status).toBe(400);
    expect(previewed.json).toStrictEqual({
      error: {
        code: 'invalid',
        message:
          "invalid request: code.files.1: 'tools' has mode 0o1777: " +
          "a manifest entry's mode is permission bits only (0o777 at most)",
      },
    });
  });
});
