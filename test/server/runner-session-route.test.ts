/**
 * The runner routes on the real app over a real SQLite store: a second process with a live
 * runner's token is refused and touches nothing of it; one restarting after a crash gets in
 * once the old process is silent past the runner timeout, and the old one is then refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import type { Engine } from '../../src/server/engine.js';
import type { Store } from '../../src/server/store/store.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { callApi, testApp, type TestApp } from './app-fixture.js';

const JOB = 'cccccccccccc';
const total = { cpu: 2, memory: 1 << 30, gpus: [] };
const twoGpus = { ...total, gpus: [0, 1].map((index) => ({ index, name: 'GPU', memory: 0 })) };
const first = { name: 'gpu-1', session: 'session-a' };
const second = { name: 'gpu-1', session: 'session-b' };
const REFUSED_REGISTER =
  'runner gpu-1 is already running on h1 (last heard 0 s ago): ' +
  'stop that process first, or add a runner for this machine with: dstack runners add NAME';
const REPLACED = 'runner gpu-1 is now registered by another process (on h1): this one no longer acts for it';

describe('runner sessions', () => {
  let app: TestApp;
  let store: Store;
  let engine: Engine;
  let token: string;

  const post = (path: string, body: unknown) => callApi(app, token, 'POST', `/api/runner/${path}`, body);
  const conflict = (message: string) => ({ status: 409, json: { error: { code: 'conflict', message } } });

  beforeAll(async () => {
    ({ store, engine, app } = await testApp('runner-session'));
    engine.startedAt = 0; // silence counts from the runner's last heartbeat, not from this server's start
    token = await issueToken(store, 'runner', 'gpu-1', false);
    expect((await post('register', { ...first, host: 'h1', total, jobIds: [] })).status).toBe(200);
    const run = makeRun('session-run');
    await store.createRun(run, [makeJob(run, 'a', { id: JOB })], 'test');
    await store.transition(JOB, 'SUBMITTED', 'DOWNLOADING', { runner: 'gpu-1' }, 'test');
    await store.transition(JOB, 'DOWNLOADING', 'RUNNING', {}, 'test');
  });

  it("refuses a second process's register while the first is heard from, and keeps the first's record and jobs", async () => {
    const before = await store.getRunner('gpu-1');
    expect(await post('register', { ...second, host: 'h2', total: twoGpus, jobIds: [] })).toEqual(
      conflict(REFUSED_REGISTER),
    );
    // An older runner, which sends no session, is refused alike.
    expect(await post('register', { name: 'gpu-1', host: 'h2', total: twoGpus, jobIds: [] })).toEqual(
      conflict(REFUSED_REGISTER),
    );
    expect(await store.getRunner('gpu-1')).toStrictEqual(before);
    expect((await store.getJob(JOB))?.status).toBe('RUNNING');
  });

  it('refuses the claims, heartbeats, drains and leaves of a process that is not the registered one', async () => {
    const before = await store.getRunner('gpu-1');
    expect(await post('heartbeat', { ...second, jobIds: [], waitMs: 0 })).toEqual(conflict(REPLACED));
    expect(await post('claim', { ...second, jobIds: [], waitMs: 0 })).toEqual(conflict(REPLACED));
    expect(await post('drain', { ...second, reason: 'stopped: its runner shut down' })).toEqual(conflict(REPLACED));
    expect(await post('leave', second)).toEqual(conflict(REPLACED));
    expect(await store.getRunner('gpu-1')).toStrictEqual(before);
    expect((await store.getJob(JOB))?.status).toBe('RUNNING');
    // The registered process goes on as before.
    expect(await post('heartbeat', { ...first, jobIds: [JOB], waitMs: 0 })).toEqual({
      status: 200,
      json: { commands: [] },
    });
  });

  it('lets a process in once the registered one is silent past the runner timeout; the old one is then refused', async () => {
    engine.runnerTimeoutMs = 1000;
    await store.heartbeat('gpu-1', Date.now() - 1500, first.session); // the first process crashed 1.5 s ago
    expect((await post('register', { ...second, host: 'h1', total: twoGpus, jobIds: [] })).status).toBe(200);
    expect(await store.getRunner('gpu-1')).toMatchObject({ status: 'ACTIVE', session: second.session, total: twoGpus });
    expect(await store.getJob(JOB)).toMatchObject({
      status: 'FAILED',
      reason: 'runner restarted: the job was running when it stopped',
    });
    expect(await post('heartbeat', { ...first, jobIds: [JOB], waitMs: 0 })).toEqual(conflict(REPLACED));
    expect((await post('heartbeat', { ...second, jobIds: [], waitMs: 0 })).status).toBe(200);
  });

  it('lets a process in at once that names the registered session as its crashed predecessor, not one naming another', async () => {
    engine.runnerTimeoutMs = 60_000;
    const third = { name: 'gpu-1', session: 'session-c' };
    expect(await post('register', { ...third, replaces: 'session-x', host: 'h1', total, jobIds: [] })).toEqual(
      conflict(REFUSED_REGISTER),
    );
    expect((await post('register', { ...third, replaces: second.session, host: 'h1', total, jobIds: [] })).status).toBe(
      200,
    );
    expect(await store.getRunner('gpu-1')).toMatchObject({ status: 'ACTIVE', session: third.session, total });
    expect(await post('leave', third)).toEqual({ status: 200, json: { ok: true } });
  });

  it('lets a process in at once after the registered one shut down (OFFLINE)', async () => {
    expect((await post('register', { ...first, host: 'h1', total, jobIds: [] })).status).toBe(200);
    expect(await store.getRunner('gpu-1')).toMatchObject({ status: 'ACTIVE', session: first.session });
  });
});
