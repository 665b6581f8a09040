/** Conformance: the Slurm jobs a Slurm backend follows (put, replace, list by backend, guarded delete, prune). */
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../src/core/errors.js';
import { seedRun, useFreshStore, type OpenStore } from '../fixtures.js';

export function describeSlurmJobs(open: OpenStore): void {
  describe('Slurm jobs', () => {
    const store = useFreshStore(open);

    it('keeps one record a job, a later put replacing it, listed by backend, with times past 32 bits', async () => {
      const { jobs } = await seedRun(store(), 'run-1', ['a', 'b', 'c']);
      const [a, b, c] = jobs.map((j) => j.id) as [string, string, string];
      const first = { jobId: a, slurmId: '12', submittedAt: 1_700_000_000_000 };
      await store().putSlurmJob('slurm', first);
      expect(await store().slurmJobs('slurm')).toStrictEqual([first]);
      const full = {
        jobId: a,
        slurmId: '12',
        submittedAt: 1_700_000_000_000,
        dir: '/shared/jobs/a/1',
        termAt: 1_700_000_000_001,
        cancelAt: 1_700_000_000_002,
        endedAt: 1_700_000_000_003,
      };
      await store().putSlurmJob('slurm', full);
      await store().putSlurmJob('slurm', { jobId: b, slurmId: '13', submittedAt: 2 });
      await store().putSlurmJob('gpu-cluster', { jobId: c, slurmId: '7', submittedAt: 3 });
      const list = (await store().slurmJobs('slurm')).sort((x, y) => x.slurmId.localeCompare(y.slurmId));
      expect(list).toStrictEqual([full, { jobId: b, slurmId: '13', submittedAt: 2 }]);
      expect(await store().slurmJobs('gpu-cluster')).toStrictEqual([{ jobId: c, slurmId: '7', submittedAt: 3 }]);
      expect(await store().slurmJobs('none')).toStrictEqual([]);
    });

    it("deletes a job's record only while it is that of the Slurm job named", async () => {
      const { jobs } = await seedRun(store(), 'run-1', ['a']);
      const id = jobs[0]!.id;
      await store().putSlurmJob('slurm', { jobId: id, slurmId: '12', submittedAt: 1 });
      expect(await store().deleteSlurmJob(id, '11')).toBe(false);
      expect(await store().slurmJobs('slurm')).toHaveLength(1);
      expect(await store().deleteSlurmJob(id, '12')).toBe(true);
      expect(await store().deleteSlurmJob(id, '12')).toBe(false);
      expect(await store().slurmJobs('slurm')).toStrictEqual([]);
    });

    it('refuses a record for a job that does not exist, and forgets those of pruned runs', async () => {
      await expect(store().putSlurmJob('slurm', { jobId: 'ghost-1-x', slurmId: '1', submittedAt: 1 })).rejects.toThrow(
        NotFoundError,
      );
      const { jobs } = await seedRun(store(), 'run-1', ['a']);
      await store().putSlurmJob('slurm', { jobId: jobs[0]!.id, slurmId: '12', submittedAt: 1 });
      await store().deleteRuns(['run-1']);
      expect(await store().slurmJobs('slurm')).toStrictEqual([]);
    });
  });
}
