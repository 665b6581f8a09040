/** Claims read only ready jobs, page by page; finished jobs settle their dependents and their run. */
import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/core/job-status.js';
import { resumeJobs } from '../../src/server/control.js';
import { claimOnce } from '../../src/server/scheduler.js';
import { addRunner, engineWith } from './engine-fixture.js';

const id = (n: number) => n.toString(16).padStart(12, '0');

async function withRunner(statuses: [string, JobStatus, string[], number?][], cpu = 4, tagOnDone?: string) {
  const fixture = await engineWith(statuses, tagOnDone === undefined ? {} : { tagOnDone });
  await addRunner(fixture.engine, 'r1', { cpu, memory: 1 << 30, gpus: [] });
  return fixture;
}

describe('claimOnce', () => {
  it('takes the oldest job whose dependencies are DONE, with its dependencies in the assignment', async () => {
    const { engine } = await withRunner([
      [id(1), 'DONE', []],
      [id(2), 'SUBMITTED', [id(3)]],
      [id(3), 'SUBMITTED', []],
      [id(4), 'SUBMITTED', [id(1)]],
    ]);
    const first = await claimOnce(engine, 'r1');
    expect(first?.job.id).toBe(id(3));
    const second = await claimOnce(engine, 'r1');
    expect(second?.job.id).toBe(id(4));
    expect(second?.dependencies.map((d) => d.job.id)).toEqual([id(1)]);
    expect(await claimOnce(engine, 'r1')).toBeUndefined(); // id(2) waits on id(3), which is running
  });

  it('looks past full pages of ready jobs that do not fit for one that does', async () => {
    // A hundred ready jobs too big for this runner come first (pages of 2, 8, 32, 64): the small one after them still runs.
    const statuses: [string, JobStatus, string[], number?][] = [];
    for (let n = 0; n < 100; n++) statuses.push([id(n), 'SUBMITTED', [], 8]);
    statuses.push([id(500), 'SUBMITTED', [], 1]);
    const { engine } = await withRunner(statuses, 2);
    expect((await claimOnce(engine, 'r1'))?.job.id).toBe(id(500));
    expect(await claimOnce(engine, 'r1')).toBeUndefined();
  });

  it('holds back the share of an older job that fits once others finish', async () => {
    const { engine } = await withRunner(
      [
        [id(1), 'SUBMITTED', [], 2],
        [id(2), 'SUBMITTED', [], 3],
        [id(3), 'SUBMITTED', [], 1],
      ],
      4,
    );
    expect((await claimOnce(engine, 'r1'))?.job.id).toBe(id(1));
    // Only 2 of 4 CPUs are free: id(2) waits, and its 3 CPUs are held back from id(3).
    expect(await claimOnce(engine, 'r1')).toBeUndefined();
  });
});

describe('Engine.transition of a finished job', () => {
  it('fails the waiting dependents of a failed job, and theirs, saying why', async () => {
    const { engine } = await withRunner([
      [id(1), 'RUNNING', []],
      [id(2), 'SUBMITTED', [id(1)]],
      [id(3), 'SUBMITTED', [id(2)]],
      [id(4), 'SUBMITTED', []],
    ]);
    expect((await engine.transition(id(1), 'RUNNING', 'FAILED', { reason: 'exit 1' }, 'test')).ok).toBe(true);
    expect((await engine.store.getJob(id(2)))?.reason).toBe(`dependency failed: w0 (${id(1)})`);
    expect(await engine.store.getJob(id(3))).toMatchObject({
      status: 'FAILED',
      reason: `dependency failed: w1 (${id(2)})`,
    });
    expect((await engine.store.getJob(id(4)))?.status).toBe('SUBMITTED');
  });

  it('tags the run once its last job is DONE, and not before', async () => {
    const { engine } = await withRunner(
      [
        [id(1), 'UPLOADING', []],
        [id(2), 'UPLOADING', []],
      ],
      4,
      'best',
    );
    await engine.transition(id(1), 'UPLOADING', 'DONE', {}, 'test');
    expect(await engine.store.getRunByTag({ user: 'u', project: '/' }, 'best')).toBeUndefined();
    await engine.transition(id(2), 'UPLOADING', 'DONE', {}, 'test');
    expect((await engine.store.getRunByTag({ user: 'u', project: '/' }, 'best'))?.name).toBe('calm-owl-1');
  });

  it('stops the waiting dependents of a stopped job, and theirs; resuming the run runs them and tags it', async () => {
    const { engine } = await withRunner(
      [
        [id(1), 'DONE', []],
        [id(2), 'STOPPING', [id(1)]],
        [id(3), 'SUBMITTED', [id(2)]],
        [id(4), 'SUBMITTED', [id(3)]],
      ],
      4,
      'best',
    );
    expect(
      (await engine.transition(id(2), 'STOPPING', 'STOPPED', { reason: 'stopped: the server shut down' }, 'test')).ok,
    ).toBe(true);
    expect(await engine.store.getJob(id(3))).toMatchObject({
      status: 'STOPPED',
      reason: `dependency stopped: w1 (${id(2)})`,
    });
    expect(await engine.store.getJob(id(4))).toMatchObject({
      status: 'STOPPED',
      reason: `dependency stopped: w2 (${id(3)})`,
    });
    const all = await engine.store.jobsOfRuns(['calm-owl-1']);
    const resumed = await resumeJobs(
      engine,
      all.filter((j) => j.status === 'STOPPED'),
      all,
      'user:u',
    );
    expect(resumed.map((j) => [j.id, j.status])).toEqual([
      [id(2), 'SUBMITTED'],
      [id(3), 'SUBMITTED'],
      [id(4), 'SUBMITTED'],
    ]);
    for (const n of [2, 3, 4]) {
      expect((await claimOnce(engine, 'r1'))?.job.id).toBe(id(n));
      for (const [from, to] of [
        ['DOWNLOADING', 'RUNNING'],
        ['RUNNING', 'UPLOADING'],
        ['UPLOADING', 'DONE'],
      ] as const) {
        expect((await engine.transition(id(n), from, to, {}, 'test')).ok).toBe(true);
      }
    }
    expect((await engine.store.getRunByTag({ user: 'u', project: '/' }, 'best'))?.name).toBe('calm-owl-1');
  });

  it('fails, not stops, the waiting dependents of an aborted job', async () => {
    const { engine } = await withRunner([
      [id(1), 'ABORTING', []],
      [id(2), 'SUBMITTED', [id(1)]],
    ]);
    await engine.transition(id(1), 'ABORTING', 'ABORTED', { reason: 'aborted by user' }, 'test');
    expect(await engine.store.getJob(id(2))).toMatchObject({
      status: 'FAILED',
      reason: `dependency aborted: w0 (${id(1)})`,
    });
  });
});
