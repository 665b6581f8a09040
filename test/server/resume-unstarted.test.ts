/**
 * Resume of a job whose commands never started: decided afresh, as a submission decides, with
 * its key made again from the jobs that now make its dependencies' artifacts. A follower
 * stopped before its leader finished takes the leader's result, joins it again, or runs
 * itself; its dependents are then keyed on what they get, so a later run never pairs them with
 * another job's artifacts. On the real engine over a real SQLite store.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/core/job-spec.js';
import type { JobStatus } from '../../src/core/job-status.js';
import { producer, type JobRecord, type RunView } from '../../src/core/records.js';
import { resumeJobs, stopJobs } from '../../src/server/control.js';
import type { Engine } from '../../src/server/engine.js';
import { submitRun } from '../../src/server/submit.js';
import { makeSpec } from '../store/fixtures.js';
import { engineWith, finish, putBlob } from './engine-fixture.js';

const spec = (ref: string, dependsOn: string[] = []): JobSpec =>
  makeSpec(ref, { dependsOn: dependsOn.map((d) => ({ ref: d })), artifacts: [] });
const prepare = spec('prepare');
const train = spec('train', ['prepare']);

async function setup() {
  const { engine } = await engineWith([]);
  const codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
  const submit = (jobs: JobSpec[], noCache = false) =>
    submitRun(engine, 'u', {
      workflow: jobs.at(-1)!.workflow,
      overrides: {},
      repo: { root: '/' },
      codeDigest,
      jobs,
      noCache,
    });
  const job = async (id: string) => (await engine.store.getJob(id))!;
  const jobsOf = async (run: RunView) => Promise.all(run.jobs.map((j) => job(j.id)));
  /** Stop the run's jobs, then resume them as `dstack resume RUN` does. */
  const stopAndResume = async (run: RunView, between: () => Promise<unknown> = async () => {}) => {
    await stopJobs(engine, run.jobs, { actor: 'user:u' });
    await between();
    const stopped = await jobsOf(run);
    return resumeJobs(
      engine,
      stopped.filter((j) => j.status === 'STOPPED'),
      stopped,
      'user:u',
    );
  };
  return { engine, submit, job, jobsOf, stopAndResume };
}

/** What runners would do: run every ready job to DONE until none is left. */
async function runReady(engine: Engine): Promise<void> {
  for (let ready = await engine.store.readyJobs(100, 0); ready.length > 0; ready = await engine.store.readyJobs(100, 0))
    for (const job of ready) await finish(engine, job.id);
}

async function move(engine: Engine, id: string, ...path: JobStatus[]): Promise<void> {
  for (let i = 1; i < path.length; i++) {
    const r = await engine.transition(id, path[i - 1]!, path[i]!, i === 1 ? { runner: 'r1' } : {}, 'test');
    if (!r.ok) throw new Error(`job ${id} did not go ${path[i - 1]} -> ${path[i]}`);
  }
}

/** A reused dependent was made from the artifacts of the job its dependency reuses now: the pairing holds. */
async function pairing(engine: Engine, run: RunView) {
  const [a, b] = run.jobs as [JobRecord, JobRecord];
  const reused = (await engine.store.getJob(b.cachedFrom!))!;
  const madeFrom = (await engine.store.getJob(reused.dependsOn[0]!))!;
  return { now: producer(a), madeFrom: producer(madeFrom) };
}

describe('resume of a job that never started', () => {
  it("takes the result of the job it followed once that ended DONE, and its dependent the leader's dependent", async () => {
    const { engine, submit, job, stopAndResume } = await setup();
    const leader = await submit([prepare, train]);
    const follower = await submit([prepare, train]);
    expect(follower.jobs.map((j) => j.cachedFrom)).toEqual(leader.jobs.map((j) => j.id));
    const resumed = await stopAndResume(follower, () => runReady(engine)); // the leader ends DONE meanwhile
    expect(resumed.map((j) => [j.status, j.cachedFrom, j.reason])).toEqual([
      ['DONE', leader.jobs[0]!.id, 'cached'],
      ['DONE', leader.jobs[1]!.id, 'cached'],
    ]);
    expect((await engine.store.events(follower.jobs[0]!.id)).slice(-2)).toMatchObject([
      { from: 'STOPPED', to: 'SUBMITTED', actor: 'user:u' },
      { from: 'SUBMITTED', to: 'DONE', reason: 'cached', actor: 'user:u' },
    ]);
    expect(await engine.store.allJobsDone(follower.name)).toBe(true);
    expect((await job(follower.jobs[0]!.id)).resumed).toBe(true);
  });

  it('joins the job it followed again while that still runs, so a later run pairs its dependent with the right artifacts', async () => {
    const { engine, submit, job, stopAndResume } = await setup();
    const leader = await submit([prepare]);
    const L = leader.jobs[0]!.id;
    await move(engine, L, 'SUBMITTED', 'DOWNLOADING', 'RUNNING');
    const follower = await submit([prepare, train]);
    const [F, D] = follower.jobs.map((j) => j.id) as [string, string];
    const resumed = await stopAndResume(follower);
    await runReady(engine);
    await sleep(5); // the leader ends last: the newest DONE job with the key
    await move(engine, L, 'RUNNING', 'UPLOADING', 'DONE');
    await runReady(engine);

    const later = await submit([prepare, train]);
    expect(later.jobs.map((j) => j.cachedFrom)).toEqual([L, D]);
    // Before, the resumed follower ran itself and its dependent, keyed on the leader, was made
    // from its output: reused here beside the leader's.
    const { now, madeFrom } = await pairing(engine, later);
    expect(madeFrom).toBe(now);
    expect(resumed[0]).toMatchObject({
      status: 'SUBMITTED',
      cachedFrom: L,
      reason: `waiting for the same job in ${leader.name} (${L})`,
    });
    expect(await job(F)).toMatchObject({ status: 'DONE', cachedFrom: L, reason: 'cached' });
  });

  it('runs itself once the job it followed failed, and keys its dependent on itself: a later run reuses both together', async () => {
    const { engine, submit, job, stopAndResume } = await setup();
    const leader = await submit([prepare, train]);
    const follower = await submit([prepare, train]);
    const [F, D] = follower.jobs.map((j) => j.id) as [string, string];
    const stale = follower.jobs[1]!.cacheKey; // counts the leader's prepare
    const resumed = await stopAndResume(follower, () =>
      engine.transition(leader.jobs[0]!.id, 'SUBMITTED', 'FAILED', { reason: 'x' }, 'test'),
    );
    expect(resumed.map((j) => [j.status, j.cachedFrom ?? null])).toEqual([
      ['SUBMITTED', null],
      ['SUBMITTED', null],
    ]);
    expect((await job(D)).cacheKey).not.toBe(stale);
    await runReady(engine);
    expect((await job(D)).status).toBe('DONE');

    const later = await submit([prepare, train]);
    expect(later.jobs.map((j) => j.cachedFrom)).toEqual([F, D]);
    const { now, madeFrom } = await pairing(engine, later);
    expect(madeFrom).toBe(now);
  });

  it('keeps to --no-cache: a job of such a run runs itself, whatever DONE job has its key', async () => {
    const { engine, submit, stopAndResume } = await setup();
    const first = await submit([prepare]);
    await runReady(engine);
    const again = await submit([prepare], true);
    const resumed = await stopAndResume(again);
    expect(resumed.map((j) => [j.status, j.cachedFrom ?? null])).toEqual([['SUBMITTED', null]]);
    expect(first.jobs[0]!.cacheKey).toBe(again.jobs[0]!.cacheKey);
  });

  it('a job whose commands started resumes itself from its saved artifacts, not from the cache', async () => {
    const { engine, submit, stopAndResume } = await setup();
    const started = await submit([prepare]);
    await move(engine, started.jobs[0]!.id, 'SUBMITTED', 'DOWNLOADING', 'RUNNING');
    const resumed = await stopAndResume(started, async () => {
      await move(engine, started.jobs[0]!.id, 'STOPPING', 'STOPPED');
      await submit([prepare]); // an identical job runs to DONE meanwhile
      await runReady(engine);
    });
    expect(resumed.map((j) => [j.status, j.cachedFrom ?? null, j.resumed])).toEqual([['SUBMITTED', null, true]]);
  });
});
