/**
 * A job failed `runner lost` that its runner takes back (`POST /api/runner/jobs/:id/take-back`):
 * it is stopped, and the dependents that failed with it stop with it, down the chain, unless
 * another of their dependencies failed for good. On the real API and engine over a real SQLite store.
 */
import { describe, expect, it } from 'vitest';
import { RUNNER_LOST, resumableJobs, type JobStatus } from '../../src/core/job-status.js';
import { issueToken } from '../../src/server/auth.js';
import type { Engine } from '../../src/server/engine.js';
import { callApi } from './app-fixture.js';
import { engineWith } from './engine-fixture.js';

const A = 'aaaaaaaaaaaa'; // lost with r1, taken back
const B = 'bbbbbbbbbbbb'; // depends on A
const C = 'cccccccccccc'; // depends on B
const X = 'xxxxxxxxxxxx'; // failed by its own commands
const D = 'dddddddddddd'; // depends on A and X

async function move(engine: Engine, id: string, ...path: JobStatus[]): Promise<void> {
  for (let i = 1; i < path.length; i++) {
    const r = await engine.transition(id, path[i - 1]!, path[i]!, i === 1 ? { runner: 'r1' } : {}, 'runner:r1');
    if (!r.ok) throw new Error(`job ${id} did not go ${path[i - 1]} -> ${path[i]}: ${r.reason}`);
  }
}

/** A ran on r1 and was failed as lost, then X failed by itself; B, C and D failed as A did. */
async function lostRun() {
  const { engine, app } = await engineWith([
    [A, 'SUBMITTED', []],
    [B, 'SUBMITTED', [A]],
    [C, 'SUBMITTED', [B]],
    [X, 'SUBMITTED', []],
    [D, 'SUBMITTED', [A, X]],
  ]);
  await move(engine, A, 'SUBMITTED', 'DOWNLOADING', 'RUNNING');
  await move(engine, X, 'SUBMITTED', 'DOWNLOADING', 'RUNNING');
  expect(await engine.failJobsOf('r1', RUNNER_LOST, 'server', [X])).toBe(1);
  await move(engine, X, 'RUNNING', 'FAILED'); // after A: D says it failed with A
  const job = async (id: string) => (await engine.store.getJob(id))!;
  const takeBack = async (runner: string) =>
    callApi(app, await issueToken(engine.store, 'runner', runner, false), 'POST', `/api/runner/jobs/${A}/take-back`);
  return { engine, job, takeBack };
}

describe('a lost job taken back by its runner', () => {
  it('is stopped, and its dependents failed with it stop with it, down the chain', async () => {
    const { engine, job, takeBack } = await lostRun();
    expect((await job(C)).reason).toBe(`dependency failed: w1 (${B})`);

    const answer = await takeBack('r1');
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ assignment: { job: { id: A, status: 'STOPPING' } } });
    expect(await job(A)).toMatchObject({ status: 'STOPPING', stopRequest: 'stop' });
    expect((await job(A)).finishedAt).toBeUndefined();
    await move(engine, A, 'STOPPING', 'STOPPED');

    expect(await job(A)).toMatchObject({
      status: 'STOPPED',
      reason: 'stopped: its runner was lost and came back (dstack resume calm-owl-1 runs it again)',
    });
    expect(await job(B)).toMatchObject({ status: 'STOPPED', reason: `dependency stopped: w0 (${A})` });
    expect(await job(C)).toMatchObject({ status: 'STOPPED', reason: `dependency stopped: w1 (${B})` });
    // D also waits on X, which failed by itself: a resume could never run it, so it stays failed.
    expect(await job(D)).toMatchObject({ status: 'FAILED', reason: `dependency failed: w0 (${A})` });
    const all = await engine.store.jobsOfRuns(['calm-owl-1']);
    expect(resumableJobs(all).map((j) => j.id)).toEqual([A, B, C]);
  });

  it('is refused a second time, and to another runner', async () => {
    const { job, takeBack } = await lostRun();
    const other = await takeBack('r2');
    expect(other.status).toBe(403);
    expect(JSON.stringify(other.json)).toContain(`job ${A} is not assigned to this runner`);
    expect((await takeBack('r1')).status).toBe(200);
    const again = await takeBack('r1');
    expect(again.status).toBe(409);
    expect(JSON.stringify(again.json)).toContain(
      `job ${A} is STOPPING (stopped: its runner was lost and came back (dstack resume calm-owl-1 runs it again)): it is not taken back`,
    );
    expect((await job(B)).status).toBe('FAILED'); // until A is STOPPED
  });
});
