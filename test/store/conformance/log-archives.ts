/** Conformance: where finished jobs' logs were archived (set, replace, list, what is left to archive, delete). */
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../src/core/errors.js';
import { makeJob, makeRun, useFreshStore, type OpenStore } from '../fixtures.js';

const ARCHIVE = { digest: 'ab'.repeat(32), bytes: 5_000_000_000, lastSeq: 2500, archivedAt: 1_700_000_000_000 };

export function describeLogArchives(open: OpenStore): void {
  describe('log archives', () => {
    const store = useFreshStore(open);

    it('stores an archive per job, a later one replacing it, with sizes past 32 bits', async () => {
      const run = makeRun('run-1');
      await store().createRun(run, [makeJob(run, 'train', { status: 'DONE', finishedAt: 5 })], 'ada');
      const id = 'run-1-train';
      expect(await store().getLogArchive(id)).toBeUndefined();
      await store().setLogArchive(id, ARCHIVE);
      expect(await store().getLogArchive(id)).toStrictEqual(ARCHIVE);
      const later = { ...ARCHIVE, digest: 'cd'.repeat(32), lastSeq: 2600 };
      await store().setLogArchive(id, later);
      expect(await store().getLogArchive(id)).toStrictEqual(later);
      expect(await store().allLogArchives()).toStrictEqual([{ jobId: id, digest: later.digest }]);
    });

    it('lists a job whose archive was marked out of date as one to archive, keeping its blob to restore', async () => {
      const run = makeRun('run-1');
      await store().createRun(run, [makeJob(run, 'train', { status: 'FAILED', finishedAt: 5 })], 'ada');
      await store().setLogArchive('run-1-train', ARCHIVE);
      expect(await store().unarchivedLogs()).toStrictEqual([]);
      await store().markLogArchiveStale('run-1-train');
      expect(await store().unarchivedLogs()).toStrictEqual(['run-1-train']);
      expect(await store().getLogArchive('run-1-train')).toStrictEqual({ ...ARCHIVE, lastSeq: -1 });
    });

    it('refuses an archive for a job that does not exist', async () => {
      await expect(store().setLogArchive('ghost-1-x', ARCHIVE)).rejects.toThrow(NotFoundError);
    });

    it('lists as unarchived only finished jobs that ran themselves and have no archive', async () => {
      const run = makeRun('run-1');
      const jobs = [
        makeJob(run, 'done', { status: 'DONE', finishedAt: 5 }),
        makeJob(run, 'failed', { status: 'FAILED', finishedAt: 5 }),
        makeJob(run, 'archived', { status: 'STOPPED', finishedAt: 5 }),
        makeJob(run, 'copy', { status: 'DONE', cachedFrom: 'run-1-done', finishedAt: 5 }),
        makeJob(run, 'running', { status: 'RUNNING' }),
      ];
      await store().createRun(run, jobs, 'ada');
      await store().setLogArchive('run-1-archived', ARCHIVE);
      expect((await store().unarchivedLogs()).sort()).toStrictEqual(['run-1-done', 'run-1-failed']);
    });

    it("deleteRuns deletes their jobs' archives and keeps the others", async () => {
      for (const name of ['doomed-1', 'kept-1']) {
        const run = makeRun(name);
        await store().createRun(run, [makeJob(run, 'train', { status: 'DONE', finishedAt: 5 })], 'ada');
        await store().setLogArchive(`${name}-train`, ARCHIVE);
      }
      await store().deleteRuns(['doomed-1']);
      expect(await store().allLogArchives()).toStrictEqual([{ jobId: 'kept-1-train', digest: ARCHIVE.digest }]);
    });
  });
}
