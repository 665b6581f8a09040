/**
 * A runner process registering after a crash, on the real app over a real SQLite store: the
 * jobs it lists (those whose workspaces it found, and is saving) are left to it, through the
 * register and its stop of them; each of the others fails saying what it was doing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/core/job-status.js';
import { issueToken } from '../../src/server/auth.js';
import type { Store } from '../../src/server/store/store.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { callApi, testApp, type TestApp } from './app-fixture.js';

const total = { cpu: 2, memory: 1 << 30, gpus: [] };
const first = { name: 'r1', session: 'session-a' };
const second = { name: 'r1', session: 'session-b', replaces: 'session-a' };

describe('a runner registering again after a crash', () => {
  let app: TestApp;
  let store: Store;
  let token: string;
  const post = (path: string, body: unknown) => callApi(app, token, 'POST', `/api/runner/${path}`, body);
  const job = async (id: string) => (await store.getJob(id))!;

  /** Job `ref` of the run, on r1 in `status` through the transitions a runner makes. */
  async function jobIn(ref: string, status: JobStatus): Promise<string> {
    const run = makeRun(`restart-${ref}`);
    const { id } = makeJob(run, ref);
    await store.createRun(run, [makeJob(run, ref)], 't');
    const path: JobStatus[] = ['SUBMITTED', 'DOWNLOADING', 'RUNNING', 'UPLOADING'];
    for (let i = 1; i <= path.indexOf(status); i++) {
      await store.transition(id, path[i - 1]!, path[i]!, i === 1 ? { runner: 'r1' } : {}, 't');
    }
    return id;
  }

  beforeAll(async () => {
    ({ store, app } = await testApp('runner-restart'));
    token = await issueToken(store, 'runner', 'r1', false);
    expect((await post('register', { ...first, host: 'h1', total, jobIds: [] })).status).toBe(200);
  });

  it('leaves the jobs it lists to it, and fails the others saying what each was doing', async () => {
    const saving = await jobIn('saving', 'RUNNING');
    const running = await jobIn('running', 'RUNNING');
    const uploading = await jobIn('uploading', 'UPLOADING');
    const preparing = await jobIn('preparing', 'DOWNLOADING');
    expect((await post('register', { ...second, host: 'h1', total, jobIds: [saving] })).status).toBe(200);

    expect((await job(saving)).status).toBe('RUNNING');
    expect(await job(running)).toMatchObject({
      status: 'FAILED',
      reason: 'runner restarted: the job was running when it stopped',
    });
    expect(await job(uploading)).toMatchObject({
      status: 'FAILED',
      reason: 'runner restarted: the job was saving its artifacts when it stopped',
    });
    expect(await job(preparing)).toMatchObject({
      status: 'FAILED',
      reason: 'runner restarted: the job was being prepared (its commands had not started) when it stopped',
    });

    // The one it kept, it stops as a stop does, then saves and ends STOPPED with its heartbeats listing it.
    const reason = 'stopped: its runner restarted; its artifacts were saved (dstack resume restart-saving)';
    const stopped = await post(`jobs/${saving}/stop`, { reason, graceMs: 0 });
    expect(stopped.json.job).toMatchObject({ status: 'STOPPING', stopRequest: 'stop', reason });
    expect((await post('heartbeat', { ...second, jobIds: [saving], waitMs: 0 })).json).toEqual({
      commands: [{ jobId: saving, action: 'stop', graceMs: 0 }],
    });
    for (const [from, to] of [
      ['STOPPING', 'UPLOADING'],
      ['UPLOADING', 'STOPPED'],
    ])
      expect((await post(`jobs/${saving}/transition`, { from, to })).json).toMatchObject({ ok: true });
    expect(await job(saving)).toMatchObject({ status: 'STOPPED', reason });
  });
});
