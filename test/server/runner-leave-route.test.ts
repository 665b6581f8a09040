/**
 * `POST /api/runner/leave` on the real app over a real SQLite store: a runner that shut
 * down cleanly is OFFLINE (not lost a timeout later), until it registers again.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import type { Engine } from '../../src/server/engine.js';
import { explainWaiting } from '../../src/server/monitor.js';
import type { Store } from '../../src/server/store/store.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { callApi, testApp, type TestApp } from './app-fixture.js';

const STRANDED = 'aaaaaaaaaaaa';
const WAITING = 'bbbbbbbbbbbb';
const total = { cpu: 2, memory: 1 << 30, gpus: [] };

describe('the runner leave route', () => {
  let app: TestApp;
  let store: Store;
  let engine: Engine;
  let token: string;

  const post = (path: string, body: unknown) => callApi(app, token, 'POST', `/api/runner/${path}`, body);

  beforeAll(async () => {
    ({ store, engine, app } = await testApp('leave-route'));
    token = await issueToken(store, 'runner', 'gpu-1', false);
    expect((await post('register', { name: 'gpu-1', host: 'h', total, jobIds: [] })).status).toBe(200);
    const run = makeRun('leaving-run');
    await store.createRun(run, [makeJob(run, 'a', { id: STRANDED }), makeJob(run, 'b', { id: WAITING })], 'test');
    await store.transition(STRANDED, 'SUBMITTED', 'DOWNLOADING', { runner: 'gpu-1' }, 'test');
  });

  it('lists the runner OFFLINE and fails a job whose end it never reported as lost', async () => {
    expect(await post('leave', { name: 'gpu-1' })).toEqual({ status: 200, json: { ok: true } });
    expect((await store.getRunner('gpu-1'))?.status).toBe('OFFLINE');
    expect(await store.getJob(STRANDED)).toMatchObject({ status: 'FAILED', reason: 'runner lost' });
  });

  it('says why a waiting job does not start while no runner is online', async () => {
    await explainWaiting(engine);
    expect(await store.getJob(WAITING)).toMatchObject({ status: 'SUBMITTED', reason: 'no runner is online' });
  });

  it('keeps it OFFLINE through a late heartbeat; a register brings it back', async () => {
    expect((await post('heartbeat', { name: 'gpu-1', jobIds: [], waitMs: 0 })).status).toBe(200);
    expect((await store.getRunner('gpu-1'))?.status).toBe('OFFLINE');
    expect((await post('register', { name: 'gpu-1', host: 'h', total, jobIds: [] })).status).toBe(200);
    expect((await store.getRunner('gpu-1'))?.status).toBe('ACTIVE');
    await explainWaiting(engine);
    expect((await store.getJob(WAITING))?.reason).toBeUndefined();
  });
});
