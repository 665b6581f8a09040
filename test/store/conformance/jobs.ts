/** Conformance: reading jobs by run, by status and by runner. */
import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../../src/core/records.js';
import { makeJob, makeRun, seedRun, useFreshStore, type OpenStore } from '../fixtures.js';

export function describeJobQueries(open: OpenStore): void {
  describe('job queries', () => {
    const store = useFreshStore(open);

    it('jobsOfRuns returns the jobs grouped by run, each run in the order its jobs were planned', async () => {
      // Planned order differs from id and ref order, so only the stored position can produce it.
      const runB = makeRun('b-run', { submittedAt: 1 });
      await store().createRun(
        runB,
        [makeJob(runB, 'zeta', { id: 'ffff00000001' }), makeJob(runB, 'alpha', { id: '000000000002' })],
        'ada',
      );
      const runA = makeRun('a-run', { submittedAt: 2 });
      await store().createRun(
        runA,
        [makeJob(runA, 'train', { id: 'eeee00000003' }), makeJob(runA, 'eval', { id: '111100000004' })],
        'ada',
      );
      await seedRun(store(), 'other-run', ['x']);

      const jobs = await store().jobsOfRuns(['b-run', 'a-run']);
      expect(jobs.map((j) => `${j.runName}/${j.ref}`)).toEqual([
        'a-run/train',
        'a-run/eval',
        'b-run/zeta',
        'b-run/alpha',
      ]);
    });

    it('jobsOfRuns of no runs, or of unknown runs, is empty', async () => {
      await seedRun(store(), 'some-run', ['x']);
      expect(await store().jobsOfRuns([])).toEqual([]);
      expect(await store().jobsOfRuns(['missing'])).toEqual([]);
    });

    it('jobsOfRuns of more runs than one statement can bind (a prune of a long-lived server) finds them all', async () => {
      // SQLite binds at most 32,766 parameters, PostgreSQL 65,535: 70,000 names pass both.
      await seedRun(store(), 'kept-b', ['x', 'y']);
      await seedRun(store(), 'kept-a', ['z']);
      const names = Array.from({ length: 70_000 }, (_, i) => `gone-${i}`);
      names.splice(1000, 0, 'kept-b');
      names.push('kept-a', 'kept-b');
      const jobs = await store().jobsOfRuns(names);
      expect(jobs.map((j) => `${j.runName}/${j.ref}`)).toEqual(['kept-a/z', 'kept-b/x', 'kept-b/y']);
    });

    it("allJobFacts gives every job's run, status, links and resume facts, as jobsOfRuns reads them", async () => {
      const first = makeRun('b-run', { submittedAt: 1 });
      await store().createRun(first, [makeJob(first, 'prep', { id: 'aaaaaaaaaaa1', status: 'DONE' })], 'ada');
      const second = makeRun('a-run', { submittedAt: 2 });
      await store().createRun(
        second,
        [
          makeJob(second, 'prep', { id: 'aaaaaaaaaaa2', status: 'DONE', cachedFrom: 'aaaaaaaaaaa1' }),
          makeJob(second, 'train', {
            id: 'aaaaaaaaaaa3',
            status: 'FAILED',
            dependsOn: ['aaaaaaaaaaa2'],
            resumed: true,
            commandsStarted: false,
            stopRequest: 'abort',
          }),
          makeJob(second, 'eval', { id: 'aaaaaaaaaaa4', status: 'STOPPED', commandsStarted: true }),
        ],
        'ada',
      );
      const facts = await store().allJobFacts();
      const pick = ({ id, runName, status, cachedFrom, dependsOn, resumed, commandsStarted, stopRequest }: JobRecord) =>
        JSON.parse(
          JSON.stringify({ id, runName, status, cachedFrom, dependsOn, resumed, commandsStarted, stopRequest }),
        );
      expect(facts).toStrictEqual((await store().jobsOfRuns(['a-run', 'b-run'])).map(pick));
      expect(facts.map((f) => f.id)).toEqual(['aaaaaaaaaaa2', 'aaaaaaaaaaa3', 'aaaaaaaaaaa4', 'aaaaaaaaaaa1']);
      expect(facts[1]).toStrictEqual({
        id: 'aaaaaaaaaaa3',
        runName: 'a-run',
        status: 'FAILED',
        dependsOn: ['aaaaaaaaaaa2'],
        resumed: true,
        commandsStarted: false,
        stopRequest: 'abort',
      });
    });

    it('jobsByStatus returns jobs in any of the statuses, oldest submitted first, then in planned order', async () => {
      const newer = makeRun('newer', { submittedAt: 2000 });
      await store().createRun(newer, [makeJob(newer, 'a'), makeJob(newer, 'b', { status: 'RUNNING' })], 'ada');
      const older = makeRun('older', { submittedAt: 1000 });
      await store().createRun(
        older,
        [makeJob(older, 'z'), makeJob(older, 'y', { status: 'DONE' }), makeJob(older, 'x')],
        'ada',
      );

      const submitted = await store().jobsByStatus(['SUBMITTED']);
      expect(submitted.map((j) => j.id)).toEqual(['older-z', 'older-x', 'newer-a']);
      const either = await store().jobsByStatus(['RUNNING', 'DONE']);
      expect(either.map((j) => j.id)).toEqual(['older-y', 'newer-b']);
      expect(await store().jobsByStatus([])).toEqual([]);
    });

    it('activeJobsOfRunner returns the unfinished jobs the runner holds and no finished ones', async () => {
      const run = makeRun('busy');
      await store().createRun(
        run,
        [
          makeJob(run, 'running', { status: 'RUNNING', runner: 'gpu-1' }),
          makeJob(run, 'uploading', { status: 'UPLOADING', runner: 'gpu-1' }),
          makeJob(run, 'done', { status: 'DONE', runner: 'gpu-1' }),
          makeJob(run, 'elsewhere', { status: 'RUNNING', runner: 'gpu-2' }),
          makeJob(run, 'waiting'),
        ],
        'ada',
      );
      const held = await store().activeJobsOfRunner('gpu-1');
      expect(held.map((j) => j.ref)).toEqual(['running', 'uploading']);
      expect(await store().activeJobsOfRunner('gpu-9')).toEqual([]);
    });

    it("jobsWithIdPrefix finds the jobs whose id starts with a short id, of one user's runs or anyone's, by id", async () => {
      const mine = makeRun('mine-run', { user: 'ada' });
      await store().createRun(
        mine,
        [makeJob(mine, 'b', { id: 'abcd00000002' }), makeJob(mine, 'a', { id: 'abcd00000001' })],
        'ada',
      );
      const theirs = makeRun('their-run', { user: 'bob' });
      await store().createRun(theirs, [makeJob(theirs, 'c', { id: 'abcd00000003' })], 'bob');
      await seedRun(store(), 'other-run', ['x']);

      const ids = async (prefix: string, user: string | undefined, limit = 10) =>
        (await store().jobsWithIdPrefix(prefix, user, limit)).map((j) => `${j.id} ${j.ref} ${j.runName}`);
      expect(await ids('abcd', 'ada')).toEqual(['abcd00000001 a mine-run', 'abcd00000002 b mine-run']);
      expect(await ids('abcd', undefined)).toEqual([
        'abcd00000001 a mine-run',
        'abcd00000002 b mine-run',
        'abcd00000003 c their-run',
      ]);
      expect(await ids('abcd0000000', undefined, 2)).toHaveLength(2);
      expect(await ids('abcd00000003', 'ada')).toEqual([]);
      expect(await ids('abce', undefined)).toEqual([]);
    });
  });
}
