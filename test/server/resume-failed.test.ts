/**
 * A resumed job whose new attempt fails before its commands start (its runner lost while it
 * prepares the job, an image that cannot be pulled) stays resumable, its dependents with it,
 * and goes on from the artifacts its stop saved. On the real API and engine over a real SQLite store.
 */
import { describe, expect, it } from 'vitest';
import { RUNNER_LOST, isResumable, type JobStatus } from '../../src/core/job-status.js';
import type { ArtifactManifest } from '../../src/core/records.js';
import { issueToken } from '../../src/server/auth.js';
import { resumeJobs, stopJobs } from '../../src/server/control.js';
import type { Engine } from '../../src/server/engine.js';
import { prune } from '../../src/server/prune.js';
import { assignmentFor, dependenciesOf } from '../../src/server/scheduler.js';
import { callApi } from './app-fixture.js';
import { engineWith } from './engine-fixture.js';

const A = 'aaaaaaaaaaaa';
const B = 'bbbbbbbbbbbb';
const RUN = 'calm-owl-1';
const RESUMABLE = `its commands had not started, so it can still be resumed (dstack resume ${RUN})`;
const CHECKPOINT: ArtifactManifest = {
  artifacts: [
    { path: 'checkpoint', files: [{ path: 'checkpoint/count', size: 2, mode: 0o644, digest: 'd'.repeat(64) }] },
  ],
};

async function move(engine: Engine, id: string, ...path: JobStatus[]): Promise<void> {
  for (let i = 1; i < path.length; i++) {
    const r = await engine.transition(id, path[i - 1]!, path[i]!, i === 1 ? { runner: 'r1' } : {}, 'runner:r1');
    if (!r.ok) throw new Error(`job ${id} did not go ${path[i - 1]} -> ${path[i]}: ${r.reason}`);
  }
}

/** Job A ran, saved its checkpoint as it was stopped, and was resumed with B, which waits on it. */
async function resumedAfterStop() {
  const { engine, jobs, app } = await engineWith(
    [
      [A, 'SUBMITTED', []],
      [B, 'SUBMITTED', [A]],
    ],
    { name: RUN },
  );
  await move(engine, A, 'SUBMITTED', 'DOWNLOADING', 'RUNNING');
  await stopJobs(engine, jobs, { actor: 'user:u' });
  await engine.store.setArtifacts(A, CHECKPOINT);
  await move(engine, A, 'STOPPING', 'STOPPED');
  const stopped = await Promise.all(jobs.map(async (j) => (await engine.store.getJob(j.id))!));
  await resumeJobs(engine, stopped, stopped, 'user:u');
  const [user, runner] = await Promise.all([
    issueToken(engine.store, 'user', 'u', false),
    issueToken(engine.store, 'runner', 'r1', false),
  ]);
  const job = async (id: string) => (await engine.store.getJob(id))!;
  const resume = (target: string) => callApi(app, user, 'POST', '/api/resume', { target });
  const report = (body: Record<string, unknown>) =>
    callApi(app, runner, 'POST', `/api/runner/jobs/${A}/transition`, body);
  return { engine, job, resume, report };
}

describe('a resumed job that fails before its commands start', () => {
  it('stays resumable when its runner is lost while preparing it, its dependent too, and resumes from its stop’s checkpoint', async () => {
    const { engine, job, resume } = await resumedAfterStop();
    await move(engine, A, 'SUBMITTED', 'DOWNLOADING');
    expect(await engine.failJobsOf('r1', RUNNER_LOST, 'server')).toBe(1);

    const failed = await job(A);
    expect(failed).toMatchObject({ status: 'FAILED', resumed: true, commandsStarted: false });
    expect(failed.reason).toBe(`${RUNNER_LOST}; ${RESUMABLE}`);
    expect((await engine.store.events(A)).at(-1)).toMatchObject({
      from: 'DOWNLOADING',
      to: 'FAILED',
      reason: failed.reason,
      actor: 'server',
    });
    expect((await job(B)).reason).toBe(`dependency failed: w0 (${A}); ${RESUMABLE}`);
    expect(isResumable(failed)).toBe(true);
    // Work paused with its checkpoint, as a stopped run's: prune keeps it, and says so.
    expect(await prune(engine, 0, { dryRun: true })).toMatchObject({ runs: [], keptStopped: [RUN] });

    const answer = await resume(RUN);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject([
      { id: A, status: 'SUBMITTED', resumed: true, commandsStarted: false },
      { id: B, status: 'SUBMITTED' },
    ]);
    expect((await engine.store.events(A)).at(-1)).toMatchObject({ from: 'FAILED', to: 'SUBMITTED', actor: 'user:u' });
    // The failed attempt saved nothing: what the runner restores is what the stop saved.
    const resumed = await job(A);
    expect((await assignmentFor(engine, resumed, await dependenciesOf(engine, resumed))).restore).toEqual(CHECKPOINT);
  });

  it('stays resumable when its runner says its launch failed; a failure of its commands ends it for good', async () => {
    const { engine, job, resume, report } = await resumedAfterStop();
    await move(engine, A, 'SUBMITTED', 'DOWNLOADING', 'RUNNING');
    expect((await job(A)).commandsStarted).toBe(true);
    const pull = "image 'x' is not on this runner and pulling it failed: connection refused";
    const launch = await report({ from: 'RUNNING', to: 'FAILED', reason: pull, commandsStarted: false });
    expect(launch.json).toMatchObject({ ok: true, job: { status: 'FAILED', reason: `${pull}; ${RESUMABLE}` } });
    expect((await resume(RUN)).status).toBe(200);

    await move(engine, A, 'SUBMITTED', 'DOWNLOADING', 'RUNNING');
    await report({ from: 'RUNNING', to: 'FAILED', reason: 'exit code 1', exitCode: 1 });
    expect(await job(A)).toMatchObject({ status: 'FAILED', reason: 'exit code 1', commandsStarted: true });
    // Its dependent failed with it before its own commands started, but nothing resumes A now.
    expect((await job(B)).reason).toBe(`dependency failed: w0 (${A})`);
    expect(await resume(A)).toStrictEqual({
      status: 409,
      json: {
        error: {
          code: 'conflict',
          message: `job ${A} (w0) is not stopped (it is FAILED: exit code 1); only a stopped job resumes, or one whose resume failed before its commands started: run it again with dstack run w0`,
        },
      },
    });
    expect((await resume(RUN)).json).toMatchObject({
      error: {
        message: `job ${B} (w1) cannot be resumed: its dependency w0 (${A}) is FAILED; run the workflow again with dstack run w1`,
      },
    });
    expect(await engine.transition(A, 'FAILED', 'SUBMITTED', {}, 'test')).toEqual({
      ok: false,
      reason: 'not_allowed',
      from: 'FAILED',
      to: 'SUBMITTED',
    });
  });

  it('is not resumable in its first attempt, nor once an abort was under way', async () => {
    const { engine, jobs } = await engineWith([[A, 'SUBMITTED', []]], { name: RUN });
    await move(engine, A, 'SUBMITTED', 'DOWNLOADING', 'FAILED');
    expect((await engine.store.getJob(A))!.reason).toBeUndefined();
    await expect(resumeJobs(engine, [(await engine.store.getJob(A))!], jobs, 'user:u')).rejects.toThrow(
      'only a stopped job resumes, or one whose resume failed before its commands started',
    );

    const { engine: second, job } = await resumedAfterStop();
    await move(second, A, 'SUBMITTED', 'DOWNLOADING');
    await stopJobs(second, [await job(A)], { actor: 'user:u', abort: true });
    await second.failJobsOf('r1', RUNNER_LOST, 'server');
    expect(await job(A)).toMatchObject({ status: 'FAILED', reason: RUNNER_LOST, stopRequest: 'abort' });
    expect(isResumable(await job(A))).toBe(false);
  });
});
