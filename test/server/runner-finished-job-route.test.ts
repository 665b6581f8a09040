/**
 * A runner token cannot rewrite a job that has ended: its log and artifacts stay as they were
 * (a job on that runner's machine may read the token, and the cache hands finished jobs to
 * everyone). A job failed as `runner lost` or `runner restarted` still takes the lines its restarted
 * runner had spooled.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import type { Store } from '../../src/server/store/store.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { callApi, testApp, type TestApp } from './app-fixture.js';

const [DONE, LOST, RUNNING, RESTARTED] = ['aaaaaaaaaaa1', 'aaaaaaaaaaa2', 'aaaaaaaaaaa3', 'aaaaaaaaaaa5'];

describe("a runner's writes to a job that has ended", () => {
  let app: TestApp;
  let store: Store;
  let runner: string;

  const lines = (id: string, seq: number) =>
    callApi(app, runner, 'POST', `/api/runner/jobs/${id}/logs`, {
      entries: [{ seq, ts: Date.now(), stream: 'stdout', text: 'INJECTED after the end' }],
    });

  beforeAll(async () => {
    ({ store, app } = await testApp('finished-job-route'));
    runner = await issueToken(store, 'runner', 'gpu-1', false);
    const run = makeRun('ended-run');
    await store.createRun(
      run,
      [DONE, LOST, RUNNING, RESTARTED].map((id, i) => makeJob(run, `w${i}`, { id })),
      'test',
    );
    for (const id of [DONE, LOST, RUNNING, RESTARTED]) {
      await store.transition(id, 'SUBMITTED', 'DOWNLOADING', { runner: 'gpu-1' }, 'test');
      await store.transition(id, 'DOWNLOADING', 'RUNNING', {}, 'test');
    }
    await store.transition(DONE, 'RUNNING', 'DONE', { exitCode: 0 }, 'test');
    await store.transition(LOST, 'RUNNING', 'FAILED', { reason: 'runner lost' }, 'test');
    const restarted = 'runner restarted: the job was running when it stopped';
    await store.transition(RESTARTED, 'RUNNING', 'FAILED', { reason: restarted }, 'test');
  });

  it('refuses log lines and a manifest for a DONE job, saying why', async () => {
    expect(await lines(DONE, 1)).toStrictEqual({
      status: 409,
      json: {
        error: { code: 'conflict', message: `job ${DONE} has ended (DONE): its log lines can no longer change` },
      },
    });
    const manifest = { artifacts: [{ path: 'out', files: [] }] };
    expect(await callApi(app, runner, 'PUT', `/api/runner/jobs/${DONE}/artifacts`, manifest)).toStrictEqual({
      status: 409,
      json: {
        error: { code: 'conflict', message: `job ${DONE} has ended (DONE): its artifacts can no longer change` },
      },
    });
    expect(await store.getArtifacts(DONE)).toBeUndefined();
  });

  it('refuses a manifest for a job being aborted: an abort keeps no artifacts', async () => {
    const run = makeRun('aborting-run');
    const id = 'aaaaaaaaaaa4';
    await store.createRun(run, [makeJob(run, 'w', { id })], 'test');
    await store.transition(id, 'SUBMITTED', 'DOWNLOADING', { runner: 'gpu-1' }, 'test');
    await store.transition(id, 'DOWNLOADING', 'RUNNING', {}, 'test');
    await store.transition(id, 'RUNNING', 'UPLOADING', {}, 'test');
    await store.transition(id, 'UPLOADING', 'ABORTING', {}, 'test');
    const manifest = { artifacts: [{ path: 'out', files: [] }] };
    expect(await callApi(app, runner, 'PUT', `/api/runner/jobs/${id}/artifacts`, manifest)).toStrictEqual({
      status: 409,
      json: { error: { code: 'conflict', message: `job ${id} is being aborted: its artifacts are not kept` } },
    });
    expect(await store.getArtifacts(id)).toBeUndefined();
  });

  it("takes lines for a running job, and a lost or restarted runner's spooled lines for its job", async () => {
    expect((await lines(RUNNING, 1)).status).toBe(200);
    expect((await lines(LOST, 1)).status).toBe(200);
    expect((await lines(RESTARTED, 1)).status).toBe(200);
  });

  it('answers a re-send of lines it has once the job ended (a last batch whose answer was lost), and no new ones', async () => {
    await store.transition(RUNNING, 'RUNNING', 'DONE', { exitCode: 0 }, 'test');
    expect(await lines(RUNNING, 1)).toStrictEqual({ status: 200, json: { lastSeq: 1 } });
    expect((await lines(RUNNING, 2)).status).toBe(409);
  });
});
