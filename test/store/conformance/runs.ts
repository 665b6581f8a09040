/** Conformance: creating, reading and listing runs. */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../../src/core/errors.js';
import { JOB_STATUSES, runStatus, type JobStatus } from '../../../src/core/job-status.js';
import type { JobRecord } from '../../../src/core/records.js';
import { makeJob, makeRun, makeSpec, PROJECT, seedRun, useFreshStore, type OpenStore } from '../fixtures.js';

export function describeRuns(open: OpenStore): void {
  describe('runs', () => {
    const store = useFreshStore(open);

    it('a run and its jobs read back equal to what was stored, with every optional field set', async () => {
      const run = makeRun('fast-rabbit-1', {
        overrides: { model: '117M' },
        tag: 'baseline',
        tagOnDone: 'best',
        noCache: true,
        repo: { root: '/p', remote: 'git@github.com:a/b.git', branch: 'main', commit: 'abc', dirty: true },
      });
      const prepare = makeJob(run, 'prepare', { status: 'DONE', reason: 'cached', cachedFrom: 'aaaaaaaaaaaa' });
      const train: JobRecord = makeJob(run, 'train', {
        spec: makeSpec('train', { image: 'python:3.12', workingDir: 'src', inputs: ['src/**'], params: { n: 1 } }),
        dependsOn: [prepare.id],
        reason: 'waiting for prepare',
        exitCode: 0,
        runner: 'gpu-1',
        gpus: [{ index: 1, name: 'NVIDIA A100', memory: 40e9 }],
        stopRequest: 'stop',
        resumed: false,
        startedAt: run.submittedAt + 1,
        finishedAt: run.submittedAt + 2,
      });
      await store().createRun(run, [prepare, train], 'ada');

      expect(await store().getRun(run.name)).toStrictEqual(run);
      expect(await store().getJob(prepare.id)).toStrictEqual(prepare);
      expect(await store().getJob(train.id)).toStrictEqual(train);
    });

    it('optional fields left out stay absent when read back (no undefined or null keys)', async () => {
      const { run, jobs } = await seedRun(store(), 'plain-run-1', ['train']);
      const readRun = await store().getRun(run.name);
      const readJob = await store().getJob(jobs[0]!.id);
      expect(readRun).toStrictEqual(run);
      expect(readJob).toStrictEqual(jobs[0]);
      expect(Object.keys(readRun!)).not.toContain('tag');
      expect(Object.keys(readJob!)).not.toContain('resumed');
    });

    it('getRun and getJob return undefined for names that do not exist', async () => {
      expect(await store().getRun('no-such-run')).toBeUndefined();
      expect(await store().getJob('000000000000')).toBeUndefined();
    });

    it('createRun appends one event per job, from null to the status the job was created in', async () => {
      const run = makeRun('cached-run-1');
      const cached = makeJob(run, 'prepare', { status: 'DONE', reason: 'cached', cachedFrom: 'bbbbbbbbbbbb' });
      const fresh = makeJob(run, 'train');
      await store().createRun(run, [cached, fresh], 'ada');

      expect(await store().events(cached.id)).toStrictEqual([
        { jobId: cached.id, at: run.submittedAt, from: null, to: 'DONE', reason: 'cached', actor: 'ada' },
      ]);
      expect(await store().events(fresh.id)).toStrictEqual([
        { jobId: fresh.id, at: run.submittedAt, from: null, to: 'SUBMITTED', actor: 'ada' },
      ]);
    });

    it('createRun with a run name that exists throws ConflictError and stores none of the second run', async () => {
      await seedRun(store(), 'taken-1', ['train']);
      const again = makeRun('taken-1', { workflow: 'other' });
      const job = makeJob(again, 'other', { id: 'other-job-01' });

      const attempt = store().createRun(again, [job], 'bob');
      await expect(attempt).rejects.toBeInstanceOf(ConflictError);
      await expect(attempt).rejects.toThrow('a run named taken-1 already exists');
      expect((await store().getRun('taken-1'))?.workflow).toBe('train');
      expect(await store().getJob(job.id)).toBeUndefined();
    });

    it('createRun with a tag another run has throws ConflictError naming the tag and the run', async () => {
      await seedRun(store(), 'tagged-1', ['train'], { tag: 'baseline' });
      const attempt = seedRun(store(), 'tagged-2', ['train'], { tag: 'baseline' });
      await expect(attempt).rejects.toBeInstanceOf(ConflictError);
      await expect(attempt).rejects.toThrow('tag baseline is already on run tagged-1');
      expect(await store().getRun('tagged-2')).toBeUndefined();
    });

    it('createRun rolls the run back when one of its jobs cannot be inserted', async () => {
      const { jobs } = await seedRun(store(), 'first-1', ['train']);
      const run = makeRun('second-1');
      const clash = makeJob(run, 'train', { id: jobs[0]!.id });
      await expect(store().createRun(run, [makeJob(run, 'prep'), clash], 'ada')).rejects.toBeInstanceOf(ConflictError);
      expect(await store().getRun('second-1')).toBeUndefined();
      expect(await store().getJob('second-1-prep')).toBeUndefined();
    });

    it('listRuns returns runs newest first, runs submitted at the same time by name descending', async () => {
      await seedRun(store(), 'a-1', ['x'], { submittedAt: 100 });
      await seedRun(store(), 'c-1', ['x'], { submittedAt: 300 });
      await seedRun(store(), 'b-1', ['x'], { submittedAt: 200 });
      await seedRun(store(), 'b-2', ['x'], { submittedAt: 200 });
      const names = (await store().listRuns({})).map((r) => r.name);
      expect(names).toEqual(['c-1', 'b-2', 'b-1', 'a-1']);
    });

    it('listRuns with a limit returns the newest N', async () => {
      for (let i = 1; i <= 5; i++) await seedRun(store(), `run-${i}`, ['x'], { submittedAt: i * 1000 });
      expect((await store().listRuns({ limit: 2 })).map((r) => r.name)).toEqual(['run-5', 'run-4']);
    });

    it('listRuns with a user returns only the runs that user submitted', async () => {
      await seedRun(store(), 'ada-1', ['x'], { user: 'ada', submittedAt: 1 });
      await seedRun(store(), 'bob-1', ['x'], { user: 'bob', submittedAt: 2 });
      await seedRun(store(), 'ada-2', ['x'], { user: 'ada', submittedAt: 3 });
      expect((await store().listRuns({ user: 'ada' })).map((r) => r.name)).toEqual(['ada-2', 'ada-1']);
      expect((await store().listRuns({ user: 'eve' })).map((r) => r.name)).toEqual([]);
    });

    it('listRuns with a project returns only the runs submitted from it: by remote and folder, or by root', async () => {
      const repo = { root: '/home/ada/gpt', remote: 'git@github.com:ada/gpt.git' };
      await seedRun(store(), 'gpt-1', ['x'], { repo, submittedAt: 1 });
      await seedRun(store(), 'local-1', ['x'], { submittedAt: 2 });
      // Another clone of the same remote, by another URL form: the same project.
      await seedRun(store(), 'gpt-2', ['x'], { repo: { root: '/tmp/gpt', remote: 'https://github.com/ada/gpt' } });
      await seedRun(store(), 'sub-1', ['x'], { repo: { ...repo, subdir: 'ml' }, submittedAt: 4 });
      const names = async (project: string) => (await store().listRuns({ project })).map((r) => r.name);
      expect(await names('github.com/ada/gpt')).toEqual(['gpt-2', 'gpt-1']);
      expect(await names('github.com/ada/gpt#ml')).toEqual(['sub-1']);
      expect(await names(PROJECT)).toEqual(['local-1']);
      expect(await store().listRuns({ project: PROJECT, user: 'bob' })).toEqual([]);
    });

    it('listRuns unfinished returns only runs with a job that is not DONE, FAILED, STOPPED or ABORTED', async () => {
      const statuses = [['DONE', 'FAILED'], ['STOPPED', 'ABORTED'], ['DONE', 'SUBMITTED'], ['STOPPING']] as const;
      for (const [i, list] of statuses.entries()) {
        const run = makeRun(`run-${i}`, { submittedAt: i });
        const jobs = list.map((status, j) => makeJob(run, `job${j}`, { status }));
        await store().createRun(run, jobs, 'ada');
      }
      expect((await store().listRuns({ unfinished: true })).map((r) => r.name)).toEqual(['run-3', 'run-2']);
      expect(await store().listRuns({ unfinished: true, user: 'bob' })).toEqual([]);
      expect((await store().listRuns({ unfinished: true, limit: 1 })).map((r) => r.name)).toEqual(['run-3']);
    });

    it('listRuns unfinished finds them among more than one statement binds, by user and project, newest first', async () => {
      // 1,200 unfinished runs (read by name in batches) among finished ones, of two users and two projects.
      for (let i = 0; i < 1500; i++) {
        const run = makeRun(`run-${i}`, {
          submittedAt: i,
          user: i % 2 === 0 ? 'ada' : 'bob',
          repo: { root: i % 3 === 0 ? '/other' : '/project' },
        });
        await store().createRun(run, [makeJob(run, 'x', { status: i % 5 === 0 ? 'DONE' : 'RUNNING' })], 'ada');
      }
      const expected = (keep: (i: number) => boolean) =>
        Array.from({ length: 1500 }, (_, i) => 1499 - i)
          .filter((i) => i % 5 !== 0 && keep(i))
          .map((i) => `run-${i}`);
      const names = (runs: { name: string }[]) => runs.map((r) => r.name);
      expect(names(await store().listRuns({ unfinished: true }))).toEqual(expected(() => true));
      expect(names(await store().listRuns({ unfinished: true, user: 'bob', project: '/project' }))).toEqual(
        expected((i) => i % 2 === 1 && i % 3 !== 0),
      );
      expect(names(await store().listRuns({ unfinished: true, user: 'ada', limit: 3 }))).toEqual(
        expected((i) => i % 2 === 0).slice(0, 3),
      );
      // Narrowed by workflow too, as the listing of all runs is.
      expect(await store().listRuns({ unfinished: true, workflow: 'no-such-workflow' })).toEqual([]);
    });

    it('listRuns with a workflow returns only runs of it, the newest N of them with a limit', async () => {
      for (let i = 1; i <= 4; i++)
        await seedRun(store(), `run-${i}`, ['x'], { workflow: i <= 2 ? 'train' : 'eval', submittedAt: i });
      expect((await store().listRuns({ workflow: 'train' })).map((r) => r.name)).toEqual(['run-2', 'run-1']);
      expect((await store().listRuns({ workflow: 'train', limit: 1 })).map((r) => r.name)).toEqual(['run-2']);
      expect(await store().listRuns({ workflow: 'deploy' })).toEqual([]);
    });

    it("runWorkflows returns each project's workflows once, sorted; a user's only, given one", async () => {
      const repo = { root: '/home/ada/gpt', remote: 'git@github.com:ada/gpt.git' };
      await seedRun(store(), 'run-1', ['x'], { workflow: 'train', submittedAt: 1 });
      await seedRun(store(), 'run-2', ['x'], { workflow: 'eval', submittedAt: 2 });
      await seedRun(store(), 'run-3', ['x'], { workflow: 'train', submittedAt: 3 });
      await seedRun(store(), 'run-4', ['x'], { workflow: 'train', repo, submittedAt: 4 });
      await seedRun(store(), 'run-5', ['x'], { workflow: 'deploy', user: 'bob', submittedAt: 5 });
      expect(await store().runWorkflows()).toEqual([
        { project: PROJECT, workflow: 'deploy' },
        { project: PROJECT, workflow: 'eval' },
        { project: PROJECT, workflow: 'train' },
        { project: 'github.com/ada/gpt', workflow: 'train' },
      ]);
      expect((await store().runWorkflows('bob')).map((w) => w.workflow)).toEqual(['deploy']);
      expect(await store().runWorkflows('eve')).toEqual([]);
    });

    it('listRuns with a status returns the runs whose status, as runStatus computes it from their jobs, is that', async () => {
      const runs: Record<string, JobStatus[]> = {
        'done-1': ['DONE', 'DONE'],
        'failed-1': ['DONE', 'FAILED', 'STOPPED'],
        'aborted-1': ['STOPPED', 'ABORTED'],
        'running-1': ['FAILED', 'RUNNING', 'SUBMITTED'],
        'waiting-1': ['DONE', 'SUBMITTED'],
        'aborting-1': ['RUNNING', 'ABORTING'],
      };
      for (const [i, [name, list]] of Object.entries(runs).entries()) {
        const run = makeRun(name, { submittedAt: i });
        await store().createRun(
          run,
          list.map((status, j) => makeJob(run, `job${j}`, { status })),
          'ada',
        );
      }
      for (const status of JOB_STATUSES) {
        const expected = Object.entries(runs)
          .filter(([, list]) => runStatus(list) === status)
          .map(([name]) => name)
          .reverse();
        expect(
          (await store().listRuns({ status })).map((r) => r.name),
          status,
        ).toEqual(expected);
      }
      expect((await store().listRuns({ status: 'FAILED', user: 'bob' })).map((r) => r.name)).toEqual([]);
    });

    it('listRuns with a status is the same whether few runs or over 500 have a job in it', async () => {
      // 501 runs with a FAILED job (past the by-name reading of a rare status), one of them RUNNING.
      for (let i = 0; i < 501; i++) {
        const run = makeRun(`f-${String(i).padStart(3, '0')}`, {
          submittedAt: 1000 + (i % 7),
          user: i % 2 ? 'bob' : 'ada',
        });
        const statuses: JobStatus[] = i === 250 ? ['FAILED', 'RUNNING'] : ['DONE', 'FAILED'];
        await store().createRun(
          run,
          statuses.map((status, j) => makeJob(run, `job${j}`, { status })),
          'ada',
        );
      }
      const failed = await store().listRuns({ status: 'FAILED', limit: 3 });
      expect(failed.map((r) => r.name)).toEqual(['f-496', 'f-489', 'f-482']); // newest, then by name, descending
      expect(await store().listRuns({ status: 'FAILED' })).toHaveLength(500);
      expect((await store().listRuns({ status: 'RUNNING' })).map((r) => r.name)).toEqual(['f-250']);
      expect((await store().listRuns({ status: 'RUNNING', user: 'ada' })).map((r) => r.name)).toEqual(['f-250']);
      expect(await store().listRuns({ status: 'RUNNING', user: 'bob' })).toEqual([]);
      const bobs = await store().listRuns({ status: 'FAILED', user: 'bob', limit: 2 });
      expect(bobs.map((r) => r.name)).toEqual(['f-489', 'f-475']);
    }, 60_000);

    it('countRunsWithPrefix counts names that start with the prefix, case-sensitively and with % and _ literal', async () => {
      for (const name of [
        'fast-rabbit-1',
        'fast-rabbit-2',
        'Fast-rabbit-3',
        'fast-rabbitx',
        'fastXrabbit-1',
        'a%b_1',
        '🐇-1',
      ]) {
        await seedRun(store(), name, ['x']);
      }
      expect(await store().countRunsWithPrefix('fast-rabbit-')).toBe(2);
      expect(await store().countRunsWithPrefix('fast_rabbit')).toBe(0);
      expect(await store().countRunsWithPrefix('a%b_')).toBe(1);
      expect(await store().countRunsWithPrefix('%')).toBe(0);
      expect(await store().countRunsWithPrefix('slow-')).toBe(0);
      // A character outside the BMP is two UTF-16 units but one character to SQL.
      expect(await store().countRunsWithPrefix('🐇-')).toBe(1);
    });
  });
}
