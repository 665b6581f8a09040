/** Conformance: the queries that keep the per-job path proportional to what changed. */
import { describe, expect, it } from 'vitest';
import type { ArtifactManifest } from '../../../src/core/records.js';
import { makeJob, makeRun, useFreshStore, type OpenStore } from '../fixtures.js';

const MANIFEST: ArtifactManifest = {
  artifacts: [{ path: 'out', files: [{ path: 'out/a', size: 1, mode: 0o644, digest: 'ab'.repeat(32) }] }],
};

export function describeReadyJobs(open: OpenStore): void {
  describe('ready jobs and dependents', () => {
    const store = useFreshStore(open);

    it('readyJobs returns SUBMITTED jobs whose dependencies are all DONE, oldest first, in pages', async () => {
      const older = makeRun('older', { submittedAt: 1000 });
      await store().createRun(
        older,
        [
          makeJob(older, 'done', { status: 'DONE', finishedAt: 1500 }),
          makeJob(older, 'running', { status: 'UPLOADING' }),
          makeJob(older, 'after-done', { dependsOn: ['older-done'] }),
          makeJob(older, 'after-running', { dependsOn: ['older-done', 'older-running'] }),
          makeJob(older, 'no-deps'),
          makeJob(older, 'after-missing', { dependsOn: ['gone-job'] }),
          makeJob(older, 'joined', { cachedFrom: 'older-running' }),
        ],
        'ada',
      );
      const newer = makeRun('newer', { submittedAt: 2000 });
      // A dependency on another run's DONE job counts as well (tag dependencies).
      await store().createRun(newer, [makeJob(newer, 'tagged', { dependsOn: ['older-done'] })], 'ada');

      const all = await store().readyJobs(10, 0);
      expect(all.map((j) => j.id)).toEqual(['older-after-done', 'older-no-deps', 'newer-tagged']);
      expect(all[0]).toStrictEqual(makeJob(older, 'after-done', { dependsOn: ['older-done'] }));
      expect((await store().readyJobs(2, 0)).map((j) => j.id)).toEqual(['older-after-done', 'older-no-deps']);
      expect((await store().readyJobs(2, 2)).map((j) => j.id)).toEqual(['newer-tagged']);

      expect((await store().transition('older-running', 'UPLOADING', 'DONE', { finishedAt: 3000 }, 'test')).ok).toBe(
        true,
      );
      expect((await store().readyJobs(10, 0)).map((j) => j.id)).toContain('older-after-running');
    });

    it('dependentsIn returns the SUBMITTED jobs that wait on a job', async () => {
      const run = makeRun('fan', { submittedAt: 1000 });
      await store().createRun(
        run,
        [
          makeJob(run, 'root', { status: 'FAILED' }),
          makeJob(run, 'b', { dependsOn: ['fan-root'] }),
          makeJob(run, 'a', { dependsOn: ['fan-root', 'fan-b'] }),
          makeJob(run, 'c', { dependsOn: ['fan-b'] }),
          makeJob(run, 'd', { dependsOn: ['fan-root'], status: 'FAILED' }),
        ],
        'ada',
      );
      expect((await store().dependentsIn('fan-root', 'SUBMITTED')).map((j) => j.id)).toEqual(['fan-b', 'fan-a']);
      expect(await store().dependentsIn('fan-c', 'SUBMITTED')).toEqual([]);
      // Stored finished: no dependency rows (above); one that failed since keeps them.
      expect(await store().dependentsIn('fan-root', 'FAILED')).toEqual([]);
      expect((await store().transition('fan-c', 'SUBMITTED', 'FAILED', { reason: 'x' }, 'server')).ok).toBe(true);
      expect((await store().dependentsIn('fan-b', 'FAILED')).map((j) => j.id)).toEqual(['fan-c']);
    });

    it('a job stored finished (a cached copy) reads back its dependencies, and waits on nothing', async () => {
      const run = makeRun('copy');
      const copy = makeJob(run, 'b', {
        dependsOn: ['copy-a'],
        status: 'DONE',
        cachedFrom: 'older-b',
        reason: 'cached',
      });
      await store().createRun(run, [makeJob(run, 'a', { status: 'DONE' }), copy], 'ada');
      expect(await store().getJob(copy.id)).toStrictEqual(copy);
      expect(await store().dependentsIn('copy-a', 'SUBMITTED')).toEqual([]);
    });

    it('a job listing a dependency twice is stored once per dependency and read back as listed', async () => {
      const run = makeRun('twice');
      const job = makeJob(run, 'b', { dependsOn: ['twice-a', 'twice-a'] });
      await store().createRun(run, [makeJob(run, 'a', { status: 'DONE' }), job], 'ada');
      expect(await store().getJob(job.id)).toStrictEqual(job);
      expect((await store().readyJobs(10, 0)).map((j) => j.id)).toEqual(['twice-b']);
      expect((await store().dependentsIn('twice-a', 'SUBMITTED')).map((j) => j.id)).toEqual(['twice-b']);
    });

    it('deleting a run deletes its jobs dependency rows', async () => {
      const run = makeRun('gone');
      await store().createRun(run, [makeJob(run, 'a'), makeJob(run, 'b', { dependsOn: ['gone-a'] })], 'ada');
      await store().deleteRuns(['gone']);
      expect(await store().dependentsIn('gone-a', 'SUBMITTED')).toEqual([]);
      // The same ids can be used again.
      await store().createRun(run, [makeJob(run, 'a'), makeJob(run, 'b', { dependsOn: ['gone-a'] })], 'ada');
      expect((await store().dependentsIn('gone-a', 'SUBMITTED')).map((j) => j.id)).toEqual(['gone-b']);
    });

    it('allJobsDone says whether every job of a run is DONE', async () => {
      const run = makeRun('r');
      await store().createRun(
        run,
        [makeJob(run, 'a', { status: 'DONE' }), makeJob(run, 'b', { status: 'UPLOADING' })],
        'ada',
      );
      expect(await store().allJobsDone('r')).toBe(false);
      expect((await store().transition('r-b', 'UPLOADING', 'DONE', {}, 'test')).ok).toBe(true);
      expect(await store().allJobsDone('r')).toBe(true);
    });

    it('a run of more jobs than one insert statement holds is stored whole, in plan order', async () => {
      const run = makeRun('big');
      const jobs = Array.from({ length: 250 }, (_, i) =>
        makeJob(run, `j${String(i).padStart(3, '0')}`, { dependsOn: i === 0 ? [] : ['big-j000'] }),
      );
      await store().createRun(run, jobs, 'ada');
      expect(await store().jobsOfRuns(['big'])).toStrictEqual(jobs);
      expect(await store().dependentsIn('big-j000', 'SUBMITTED')).toHaveLength(249);
      expect((await store().events('big-j249')).map((e) => e.to)).toEqual(['SUBMITTED']);
    });

    it('jobsByIds returns the stored jobs among the ids, by id', async () => {
      const run = makeRun('ids');
      const a = makeJob(run, 'a');
      await store().createRun(run, [a, makeJob(run, 'b')], 'ada');
      const found = await store().jobsByIds(['ids-a', 'nope', 'ids-a']);
      expect([...found.keys()]).toEqual(['ids-a']);
      expect(found.get('ids-a')).toStrictEqual(a);
      expect((await store().jobsByIds([])).size).toBe(0);
    });
  });

  describe('batched cache look-ups', () => {
    const store = useFreshStore(open);

    it('findDoneJobs and findActiveJobs answer as findDoneJob and findActiveJob do, per key', async () => {
      const add = async (name: string, at: number, key: string, fields: Parameters<typeof makeJob>[2] = {}) => {
        const run = makeRun(name, { submittedAt: at });
        await store().createRun(run, [makeJob(run, 'job', { cacheKey: key, ...fields })], 'ada');
      };
      await add('slow', 1000, 'k1', { status: 'DONE', finishedAt: 6000 });
      await add('fast', 3000, 'k1', { status: 'DONE', finishedAt: 5000 });
      await add('copy', 7000, 'k1', { status: 'DONE', cachedFrom: 'slow-job', finishedAt: 9000 });
      await add('live', 8000, 'k2', { status: 'RUNNING' });
      await add('later', 8500, 'k2', { status: 'SUBMITTED' });
      await add('follower', 8600, 'k2', { cachedFrom: 'live-job' });

      const done = await store().findDoneJobs(['k1', 'k2', 'k3']);
      expect([...done.keys()]).toEqual(['k1']);
      const doneOne = await store().findDoneJob('k1');
      expect(done.get('k1')).toStrictEqual({ id: doneOne!.id, runName: doneOne!.runName });
      const active = await store().findActiveJobs(['k1', 'k2', 'k2']);
      expect([...active.keys()]).toEqual(['k2']);
      const activeOne = await store().findActiveJob('k2');
      expect(active.get('k2')).toStrictEqual({ id: activeOne!.id, runName: activeOne!.runName });
      expect((await store().findDoneJobs([])).size).toBe(0);
    });

    it('artifactsOf returns the stored manifests of the jobs that have one', async () => {
      const run = makeRun('arts');
      await store().createRun(run, [makeJob(run, 'a'), makeJob(run, 'b')], 'ada');
      await store().setArtifacts('arts-a', MANIFEST);
      const found = await store().artifactsOf(['arts-a', 'arts-b', 'missing']);
      expect([...found]).toStrictEqual([['arts-a', MANIFEST]]);
    });
  });
}
