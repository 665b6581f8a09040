/**
 * A job waits while no runner is active: its reason names the runners added (`dstack runners
 * add`, a token out) that never started, on the real engine over a real SQLite store.
 */
import { describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import { explainWaiting } from '../../src/server/monitor.js';
import { makeJob, makeRun, makeRunner, makeSpec } from '../store/fixtures.js';
import { callApi, testApp } from './app-fixture.js';

const WAITING = 'bbbbbbbbbbbb';
const total = { cpu: 2, memory: 1 << 30, gpus: [] };

async function waitingJob(spec = makeSpec('train')) {
  const { store, engine, app } = await testApp('waiting-runners');
  const run = makeRun('waiting-run');
  await store.createRun(run, [makeJob(run, 'train', { id: WAITING, spec })], 'test');
  const reason = async () => {
    await explainWaiting(engine);
    return (await store.getJob(WAITING))?.reason;
  };
  const register = async (name: string, token: string) =>
    expect(
      (await callApi(app, token, 'POST', '/api/runner/register', { name, host: 'h', total, jobIds: [] })).status,
    ).toBe(200);
  return { store, app, reason, register };
}

describe('the reason of a job waiting for a runner', () => {
  it('says no runner is registered when none was ever added', async () => {
    const { reason } = await waitingJob();
    expect(await reason()).toBe('no runner is registered');
  });

  it('names a runner added but not started, and says how to start it; clears it once it registers', async () => {
    const { store, reason, register } = await waitingJob();
    const token = await issueToken(store, 'runner', 'dockerbox', false);
    expect(await reason()).toBe(
      "no runner has started (not started: dockerbox; run the 'dstack runner start' that 'dstack runners add' printed on its machine)",
    );
    await register('dockerbox', token);
    expect(await reason()).toBeUndefined();
  });

  it('names the runners not started beside one that went offline, counting past five', async () => {
    const { store, app, reason, register } = await waitingJob();
    const token = await issueToken(store, 'runner', 'gpu-1', false);
    await register('gpu-1', token);
    expect((await callApi(app, token, 'POST', '/api/runner/leave', { name: 'gpu-1' })).status).toBe(200);
    expect(await reason()).toBe('no runner is online');
    for (const name of ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7']) await issueToken(store, 'runner', name, false);
    expect(await reason()).toBe(
      "no runner is online (not started: a1, a2, a3, a4, a5 and 2 more; run the 'dstack runner start' that " +
        "'dstack runners add' printed on each one's machine)",
    );
  });

  it('names the offline and lost runners that could take a job no online runner can, and when each was last heard', async () => {
    const { store, reason } = await waitingJob(makeSpec('train', { resources: { cpu: 4, memory: 0, gpu: 0 } }));
    const small = { cpu: 2, memory: 1 << 30, gpus: [] };
    const big = { cpu: 4, memory: 1 << 30, gpus: [] };
    const at = Date.parse('2026-05-01T09:30:12Z');
    await store.upsertRunner(makeRunner('small', { total: small, updatedAt: Date.now() }));
    expect(await reason()).toBe('no runner has 4 CPUs');
    await store.upsertRunner(makeRunner('r3', { total: big, status: 'OFFLINE', updatedAt: at }));
    await store.upsertRunner(makeRunner('r4', { total: big, status: 'LOST', updatedAt: at + 60_000 }));
    await store.upsertRunner(makeRunner('r5', { total: small, status: 'OFFLINE', updatedAt: at }));
    expect(await reason()).toBe(
      'no online runner has 4 CPUs; r3 (offline since 2026-05-01 09:30 UTC), r4 (lost since 2026-05-01 09:31 UTC) could take it',
    );
    // Back online, r3 takes it: the reason goes.
    await store.upsertRunner(makeRunner('r3', { total: big, updatedAt: Date.now() }));
    expect(await reason()).toBeUndefined();
  });
});
