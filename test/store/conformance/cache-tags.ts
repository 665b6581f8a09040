/** Conformance: cache lookups (reusable and joinable jobs, followers), tags, deleting runs, stop grace. */
import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../../src/core/errors.js';
import { isFinished, JOB_STATUSES } from '../../../src/core/job-status.js';
import type { ArtifactManifest, JobRecord } from '../../../src/core/records.js';
import type { Store } from '../../../src/server/store/store.js';
import { makeJob, makeRun, seedRun, tagScope, useFreshStore, type OpenStore } from '../fixtures.js';

const KEY = 'k'.repeat(64);

const MANIFEST: ArtifactManifest = {
  artifacts: [{ path: 'out', files: [{ path: 'out/model.pt', size: 3, mode: 0o644, digest: 'cd'.repeat(32) }] }],
};

/** Create run `name` submitted at `submittedAt` with one job `job` (key KEY unless given); return the job. */
async function addJob(
  store: Store,
  name: string,
  submittedAt: number,
  fields: Partial<JobRecord> = {},
): Promise<JobRecord> {
  const run = makeRun(name, { submittedAt });
  const job = makeJob(run, 'job', { cacheKey: KEY, ...fields });
  await store.createRun(run, [job], 'ada');
  return job;
}

const ids = (jobs: readonly JobRecord[]): string[] => jobs.map((j) => j.id).sort();

export function describeCacheAndTags(open: OpenStore): void {
  describe('cache lookups', () => {
    const store = useFreshStore(open);

    it('findDoneJob picks the DONE job that finished last, ignoring cached copies, unfinished and failed jobs and other keys', async () => {
      // Submitted first but finished last: the order is by finish time, not submission.
      const slow = await addJob(store(), 'slow', 1000, { status: 'DONE', startedAt: 1100, finishedAt: 6000 });
      await addJob(store(), 'fast', 3000, { status: 'DONE', startedAt: 3100, finishedAt: 5000 });
      await addJob(store(), 'copy', 7000, { status: 'DONE', reason: 'cached', cachedFrom: slow.id, finishedAt: 9000 });
      await addJob(store(), 'live', 8000, { status: 'RUNNING', startedAt: 8100 });
      await addJob(store(), 'failed', 8500, { status: 'FAILED', finishedAt: 9500 });
      await addJob(store(), 'other', 8800, { status: 'DONE', cacheKey: 'other-key', finishedAt: 9900 });

      expect(await store().findDoneJob(KEY)).toStrictEqual(slow);
    });

    it('findDoneJob returns undefined when the key has only cached copies, unfinished jobs, or no job at all', async () => {
      const leader = await addJob(store(), 'leader', 1000, { status: 'RUNNING', startedAt: 1100 });
      await addJob(store(), 'copy', 2000, {
        status: 'DONE',
        reason: 'cached',
        cachedFrom: leader.id,
        finishedAt: 3000,
      });
      await addJob(store(), 'stopped', 2500, { status: 'STOPPED', finishedAt: 3500 });

      expect(await store().findDoneJob(KEY)).toBeUndefined();
      expect(await store().findDoneJob('no-such-key')).toBeUndefined();
    });

    it('findActiveJob returns the oldest unfinished job with the key that runs itself, ignoring finished jobs and followers', async () => {
      await addJob(store(), 'done', 1000, { status: 'DONE', finishedAt: 1500 });
      await addJob(store(), 'stopped', 1500, { status: 'STOPPED', finishedAt: 1600 });
      // Older than the leader, but a follower: it waits on another job rather than running itself.
      await addJob(store(), 'follower', 2000, { cachedFrom: 'leader-job', reason: 'waiting for leader' });
      const leader = await addJob(store(), 'leader', 3000, { status: 'RUNNING', startedAt: 3100 });
      await addJob(store(), 'later', 4000);
      await addJob(store(), 'other', 500, { status: 'RUNNING', cacheKey: 'other-key' });

      expect(await store().findActiveJob(KEY)).toStrictEqual(leader);
      expect(await store().findActiveJob('no-such-key')).toBeUndefined();
    });

    it('only DONE counts for findDoneJob, and only the unfinished statuses for findActiveJob', async () => {
      for (const [i, status] of JOB_STATUSES.entries()) {
        await addJob(store(), `run-${status.toLowerCase()}`, 1000 + i, { status, cacheKey: `key-${status}` });
      }
      for (const status of JOB_STATUSES) {
        const id = `run-${status.toLowerCase()}-job`;
        expect((await store().findDoneJob(`key-${status}`))?.id, status).toBe(status === 'DONE' ? id : undefined);
        expect((await store().findActiveJob(`key-${status}`))?.id, status).toBe(isFinished(status) ? undefined : id);
      }
    });

    it('a follower whose cachedFrom is cleared runs itself, so findActiveJob returns it', async () => {
      const leader = await addJob(store(), 'leader', 1000, { status: 'UPLOADING', startedAt: 1100 });
      const follower = await addJob(store(), 'follower', 2000, { cachedFrom: leader.id, reason: 'waiting' });
      expect((await store().findActiveJob(KEY))?.id).toBe(leader.id);

      expect((await store().transition(leader.id, 'UPLOADING', 'FAILED', { finishedAt: 3000 }, 'gpu-1')).ok).toBe(true);
      expect(await store().findActiveJob(KEY)).toBeUndefined();

      await store().updateJob(follower.id, 'SUBMITTED', { cachedFrom: null, reason: null });
      const { cachedFrom: _, reason: __, ...alone } = follower;
      expect(await store().findActiveJob(KEY)).toStrictEqual(alone);
    });

    it("keeps whether a job's source is another user's with the source, and forgets it with the source", async () => {
      const leader = await addJob(store(), 'leader', 1000, { status: 'RUNNING', startedAt: 1100 });
      const theirs = { cachedFrom: leader.id, cachedFromAnotherUser: true as const, reason: 'waiting' };
      const follower = await addJob(store(), 'follower', 2000, theirs);
      expect(await store().getJob(follower.id)).toStrictEqual(follower);
      expect((await store().followersOf(leader.id))[0]).toStrictEqual(follower);
      // A new source of the same user's: the flag goes with the old one.
      await store().updateJob(follower.id, 'SUBMITTED', { cachedFrom: leader.id });
      expect((await store().getJob(follower.id))?.cachedFromAnotherUser).toBeUndefined();
      await store().updateJob(follower.id, 'SUBMITTED', { cachedFrom: leader.id, cachedFromAnotherUser: true });
      expect((await store().getJob(follower.id))?.cachedFromAnotherUser).toBe(true);
      await store().updateJob(follower.id, 'SUBMITTED', { cachedFrom: null, cachedFromAnotherUser: true });
      const { cachedFrom: _, cachedFromAnotherUser: __, ...alone } = follower;
      expect(await store().getJob(follower.id)).toStrictEqual(alone);
    });

    it('followersOf returns the unfinished jobs reusing the job, not finished ones nor followers of other jobs', async () => {
      const leader = await addJob(store(), 'leader', 1000, { status: 'RUNNING', startedAt: 1100 });
      const first = await addJob(store(), 'first', 2000, { cachedFrom: leader.id, reason: 'waiting' });
      const second = await addJob(store(), 'second', 3000, { cachedFrom: leader.id, reason: 'waiting' });
      await addJob(store(), 'finished', 1500, {
        status: 'DONE',
        cachedFrom: leader.id,
        reason: 'cached',
        finishedAt: 1600,
      });
      await addJob(store(), 'elsewhere', 4000, { cachedFrom: 'aaaaaaaaaaaa', reason: 'waiting' });

      const followers = await store().followersOf(leader.id);
      expect(ids(followers)).toEqual(ids([first, second]));
      expect(followers.find((f) => f.id === first.id)).toStrictEqual(first);

      // A follower that finishes with its leader keeps cachedFrom but is no longer waiting.
      const done = { reason: 'cached', exitCode: 0, finishedAt: 5000 };
      expect((await store().transition(first.id, 'SUBMITTED', 'DONE', done, 'server')).ok).toBe(true);
      expect(ids(await store().followersOf(leader.id))).toEqual([second.id]);
      expect(await store().followersOf('000000000000')).toEqual([]);
    });
  });

  describe('tags', () => {
    const store = useFreshStore(open);

    it('setTag names a run: getRunByTag finds it and getRun shows the tag', async () => {
      const { run } = await seedRun(store(), 'run-1', ['train']);
      await seedRun(store(), 'run-2', ['train']);

      await store().setTag('run-1', 'baseline');

      expect(await store().getRunByTag(tagScope(), 'baseline')).toStrictEqual({ ...run, tag: 'baseline' });
      expect(await store().getRun('run-1')).toStrictEqual({ ...run, tag: 'baseline' });
      expect((await store().getRun('run-2'))?.tag).toBeUndefined();
      expect(await store().getRunByTag(tagScope(), 'no-such-tag')).toBeUndefined();
    });

    it("tags are per user: another user's run takes the same tag, and each user finds their own", async () => {
      await seedRun(store(), 'run-1', ['train'], { tag: 'best' });
      const { run: bobs } = await seedRun(store(), 'run-2', ['train'], { user: 'bob' });
      await store().setTag('run-2', 'best');
      expect(await store().getRunByTag(tagScope('bob'), 'best')).toStrictEqual({ ...bobs, tag: 'best' });
      expect((await store().getRunByTag(tagScope(), 'best'))?.name).toBe('run-1');
      expect(await store().getRunByTag(tagScope('carol'), 'best')).toBeUndefined();
    });

    it('tags are per project: a run of another project takes the same tag, and each project finds its own', async () => {
      await seedRun(store(), 'run-1', ['train'], { tag: 'best' });
      const gpt = { root: '/home/ada/gpt', remote: 'https://github.com/ada/gpt.git', subdir: 'ml' };
      const { run: other } = await seedRun(store(), 'run-2', ['train'], { repo: gpt });
      await store().setTag('run-2', 'best');
      expect(await store().getRunByTag(tagScope('ada', 'github.com/ada/gpt#ml'), 'best')).toStrictEqual({
        ...other,
        tag: 'best',
      });
      expect((await store().getRunByTag(tagScope(), 'best'))?.name).toBe('run-1');
      expect(await store().getRunByTag(tagScope('ada', 'github.com/ada/gpt'), 'best')).toBeUndefined();
      // Within one project the tag is still unique.
      await seedRun(store(), 'run-3', ['train'], { repo: { ...gpt, root: '/tmp/gpt' } });
      await expect(store().setTag('run-3', 'best')).rejects.toBeInstanceOf(ConflictError);
    });

    it('setTag with a tag another run has throws ConflictError naming the tag, and neither run changes', async () => {
      const { run: owner } = await seedRun(store(), 'run-1', ['train'], { tag: 'baseline' });
      const { run: other } = await seedRun(store(), 'run-2', ['train'], { tag: 'mine' });

      const attempt = store().setTag('run-2', 'baseline');
      await expect(attempt).rejects.toBeInstanceOf(ConflictError);
      await expect(attempt).rejects.toThrow('baseline');

      expect(await store().getRun('run-1')).toStrictEqual(owner);
      expect(await store().getRun('run-2')).toStrictEqual(other);
      expect((await store().getRunByTag(tagScope(), 'baseline'))?.name).toBe('run-1');
    });

    it('a tag moves to another run only after setTag null removes it from the first', async () => {
      const { run: first } = await seedRun(store(), 'run-1', ['train'], { tag: 'best' });
      const { run: second } = await seedRun(store(), 'run-2', ['train']);
      await expect(store().setTag('run-2', 'best')).rejects.toBeInstanceOf(ConflictError);

      await store().setTag('run-1', null);
      const { tag: _, ...untagged } = first;
      expect(await store().getRun('run-1')).toStrictEqual(untagged);
      expect(await store().getRunByTag(tagScope(), 'best')).toBeUndefined();

      await store().setTag('run-2', 'best');
      expect(await store().getRunByTag(tagScope(), 'best')).toStrictEqual({ ...second, tag: 'best' });
    });

    it("setTag to a new tag replaces the run's tag and frees the old one; the same tag again is a no-op", async () => {
      const { run } = await seedRun(store(), 'run-1', ['train'], { tag: 'old' });
      await seedRun(store(), 'run-2', ['train']);

      await store().setTag('run-1', 'old');
      expect(await store().getRun('run-1')).toStrictEqual(run);

      await store().setTag('run-1', 'new');
      expect((await store().getRunByTag(tagScope(), 'new'))?.name).toBe('run-1');
      expect(await store().getRunByTag(tagScope(), 'old')).toBeUndefined();
      await store().setTag('run-2', 'old');
      expect((await store().getRunByTag(tagScope(), 'old'))?.name).toBe('run-2');
    });

    it('setTag of a run that does not exist throws NotFoundError, for a tag and for null, and takes no tag', async () => {
      await seedRun(store(), 'run-1', ['train']);
      await expect(store().setTag('ghost', 'baseline')).rejects.toBeInstanceOf(NotFoundError);
      await expect(store().setTag('ghost', null)).rejects.toBeInstanceOf(NotFoundError);
      expect(await store().getRunByTag(tagScope(), 'baseline')).toBeUndefined();
      await store().setTag('run-1', 'baseline');
      expect((await store().getRunByTag(tagScope(), 'baseline'))?.name).toBe('run-1');
    });

    it('taggedRuns returns only the runs with a tag, newest first', async () => {
      await seedRun(store(), 'run-1', ['x'], { submittedAt: 100, tag: 'first' });
      await seedRun(store(), 'run-2', ['x'], { submittedAt: 200 });
      await seedRun(store(), 'run-3', ['x'], { submittedAt: 300 });
      await seedRun(store(), 'run-4', ['x'], { submittedAt: 400, tagOnDone: 'later' });
      await seedRun(store(), 'run-5', ['x'], { submittedAt: 500, tag: 'dropped' });
      expect(await store().taggedRuns()).toHaveLength(2);

      await store().setTag('run-3', 'third');
      await store().setTag('run-5', null);

      const tagged = await store().taggedRuns();
      expect(tagged.map((r) => [r.name, r.tag])).toEqual([
        ['run-3', 'third'],
        ['run-1', 'first'],
      ]);
      expect(tagged[0]).toStrictEqual({ ...makeRun('run-3', { submittedAt: 300 }), tag: 'third' });
    });

    it('runPromisedTag finds the unfinished run of the scope submitted with the tag, but for the one excepted', async () => {
      const { jobs } = await seedRun(store(), 'run-1', ['a', 'b'], { submittedAt: 100, tagOnDone: 'best' });
      await seedRun(store(), 'run-2', ['a'], { submittedAt: 200, tagOnDone: 'best', user: 'bob' });
      await seedRun(store(), 'run-3', ['a'], { submittedAt: 300, tagOnDone: 'other' });
      expect(await store().runPromisedTag(tagScope(), 'best')).toStrictEqual(
        makeRun('run-1', { submittedAt: 100, tagOnDone: 'best' }),
      );
      expect(await store().runPromisedTag(tagScope(), 'best', 'run-1')).toBeUndefined();
      expect((await store().runPromisedTag(tagScope('bob'), 'best'))?.name).toBe('run-2');
      expect(await store().runPromisedTag(tagScope('ada', 'github.com/ada/gpt'), 'best')).toBeUndefined();
      // One job unfinished keeps the promise; none, and it lapses (a stopped run resumed takes it up again).
      await store().transition(jobs[0]!.id, 'SUBMITTED', 'DONE', {}, 'test');
      expect((await store().runPromisedTag(tagScope(), 'best'))?.name).toBe('run-1');
      await store().transition(jobs[1]!.id, 'SUBMITTED', 'STOPPED', {}, 'test');
      expect(await store().runPromisedTag(tagScope(), 'best')).toBeUndefined();
    });

    it('dropTagPromise leaves the run promised no tag, and refuses an unknown run', async () => {
      await seedRun(store(), 'run-1', ['a'], { submittedAt: 100, tagOnDone: 'best' });
      await store().dropTagPromise('run-1');
      expect((await store().getRun('run-1'))?.tagOnDone).toBeUndefined();
      expect(await store().runPromisedTag(tagScope(), 'best')).toBeUndefined();
      await expect(store().dropTagPromise('nope')).rejects.toThrow("no run named 'nope'");
    });

    it('keepTagPromise gives the run the tag it is promised now: none once dropped, ConflictError when taken', async () => {
      await seedRun(store(), 'run-1', ['a'], { submittedAt: 100, tagOnDone: 'best' });
      await seedRun(store(), 'run-2', ['a'], { submittedAt: 200, tagOnDone: 'gone' });
      await seedRun(store(), 'run-3', ['a'], { submittedAt: 300, tagOnDone: 'best' });
      expect(await store().keepTagPromise('run-1')).toBe('best');
      expect((await store().getRunByTag(tagScope(), 'best'))?.name).toBe('run-1');
      await store().dropTagPromise('run-2');
      expect(await store().keepTagPromise('run-2')).toBeUndefined();
      expect((await store().getRun('run-2'))?.tag).toBeUndefined();
      await expect(store().keepTagPromise('run-3')).rejects.toThrow(
        new ConflictError('the tag promised to run run-3 exists already'),
      );
      expect((await store().getRun('run-3'))?.tag).toBeUndefined();
    });

    it('promisedTagRuns lists the unfinished runs of every scope submitted with a tag they lack, newest first', async () => {
      const { jobs } = await seedRun(store(), 'run-1', ['a'], { submittedAt: 100, tagOnDone: 'best' });
      await seedRun(store(), 'run-2', ['a'], { submittedAt: 200, tagOnDone: 'best', user: 'bob' });
      await seedRun(store(), 'run-3', ['a'], { submittedAt: 300 });
      await seedRun(store(), 'run-4', ['a'], { submittedAt: 400, tagOnDone: 'kept', tag: 'kept' });
      const dropped = await seedRun(store(), 'run-5', ['a'], { submittedAt: 500, tagOnDone: 'gone' });
      expect((await store().promisedTagRuns()).map((r) => [r.name, r.user, r.tagOnDone])).toEqual([
        ['run-5', 'ada', 'gone'],
        ['run-2', 'bob', 'best'],
        ['run-1', 'ada', 'best'],
      ]);
      expect((await store().promisedTagRuns())[2]).toStrictEqual(
        makeRun('run-1', { submittedAt: 100, tagOnDone: 'best' }),
      );
      await store().transition(jobs[0]!.id, 'SUBMITTED', 'STOPPED', {}, 'test');
      await store().dropTagPromise(dropped.run.name);
      expect((await store().promisedTagRuns()).map((r) => r.name)).toEqual(['run-2']);
    });

    it('taggedRuns of a store without tags is empty', async () => {
      await seedRun(store(), 'run-1', ['x']);
      expect(await store().taggedRuns()).toEqual([]);
    });
  });

  describe('deleting runs and listing artifacts', () => {
    const store = useFreshStore(open);

    it('deleteRuns removes the runs with their jobs, events and artifacts, and leaves other runs intact', async () => {
      const doomed = await seedRun(store(), 'doomed-1', ['prepare', 'train'], { submittedAt: 100 });
      await seedRun(store(), 'doomed-2', ['x'], { submittedAt: 200, tag: 'old' });
      const kept = await seedRun(store(), 'kept-1', ['train'], { submittedAt: 300 });
      const keptJob = kept.jobs[0]!.id;
      for (const job of [doomed.jobs[0]!, doomed.jobs[1]!, kept.jobs[0]!]) {
        await store().transition(job.id, 'SUBMITTED', 'DOWNLOADING', { runner: 'gpu-1' }, 'gpu-1');
        await store().setArtifacts(job.id, MANIFEST);
      }
      const keptRecord = await store().getJob(keptJob);
      const keptEvents = await store().events(keptJob);
      expect(keptEvents).toHaveLength(2);

      await store().deleteRuns(['doomed-1', 'doomed-2']);

      for (const name of ['doomed-1', 'doomed-2']) expect(await store().getRun(name)).toBeUndefined();
      expect(await store().jobsOfRuns(['doomed-1', 'doomed-2'])).toEqual([]);
      for (const job of doomed.jobs) {
        expect(await store().getJob(job.id)).toBeUndefined();
        expect(await store().events(job.id)).toEqual([]);
        expect(await store().getArtifacts(job.id)).toBeUndefined();
      }
      expect(await store().getRunByTag(tagScope(), 'old')).toBeUndefined();

      expect((await store().listRuns({})).map((r) => r.name)).toEqual(['kept-1']);
      expect(await store().getRun('kept-1')).toStrictEqual(kept.run);
      expect(await store().getJob(keptJob)).toStrictEqual(keptRecord);
      expect(await store().events(keptJob)).toStrictEqual(keptEvents);
      expect(await store().artifactsAfter(undefined, 10)).toStrictEqual([{ jobId: keptJob, manifest: MANIFEST }]);

      // Nothing of the deleted runs is left to collide with: their names, job ids and tag are free again.
      await seedRun(store(), 'doomed-1', ['prepare', 'train']);
      await store().setTag('kept-1', 'old');
      expect((await store().getRunByTag(tagScope(), 'old'))?.name).toBe('kept-1');
    });

    it('deleteRuns of no names, or of names that do not exist, deletes nothing', async () => {
      const { run, jobs } = await seedRun(store(), 'run-1', ['train'], { tag: 'keep' });
      await store().setArtifacts(jobs[0]!.id, MANIFEST);

      await store().deleteRuns([]);
      await store().deleteRuns(['ghost-1', 'ghost-2']);

      expect(await store().getRun('run-1')).toStrictEqual(run);
      expect(await store().jobsOfRuns(['run-1'])).toStrictEqual(jobs);
      expect(await store().events(jobs[0]!.id)).toHaveLength(1);
      expect(await store().getArtifacts(jobs[0]!.id)).toStrictEqual(MANIFEST);
    });

    it('deleteRuns of more names than one statement can bind deletes every named run', async () => {
      // 70,000 is past both SQLite's (32,766) and PostgreSQL's (65,535) bound-parameter limits.
      const ghosts = Array.from({ length: 70_000 }, (_, i) => `ghost-${i}`);
      await seedRun(store(), 'first-1', ['train']);
      const { run: kept } = await seedRun(store(), 'kept-1', ['train']);
      await seedRun(store(), 'last-1', ['train']);

      await store().deleteRuns(['first-1', ...ghosts, 'last-1']);

      expect(await store().listRuns({})).toStrictEqual([kept]);
      expect(await store().getJob('last-1-train')).toBeUndefined();
    });

    it('deleteRuns leaves jobs of other runs that reused a deleted job as they were', async () => {
      const source = await addJob(store(), 'source', 100, { status: 'DONE', finishedAt: 200 });
      const copy = await addJob(store(), 'copy', 300, {
        status: 'DONE',
        reason: 'cached',
        cachedFrom: source.id,
        finishedAt: 300,
      });

      await store().deleteRuns(['source']);

      expect(await store().getJob(copy.id)).toStrictEqual(copy);
      expect(await store().findDoneJob(KEY)).toBeUndefined();
    });

    it('artifactsAfter pages through every stored manifest in job id order, the latest of each', async () => {
      const { jobs } = await seedRun(store(), 'run-1', ['prepare', 'train', 'eval']);
      expect(await store().artifactsAfter(undefined, 2)).toEqual([]);

      const empty: ArtifactManifest = { artifacts: [] };
      await store().setArtifacts(jobs[0]!.id, empty);
      await store().setArtifacts(jobs[1]!.id, empty);
      await store().setArtifacts(jobs[1]!.id, MANIFEST);
      await store().setArtifacts(jobs[2]!.id, empty);

      // run-1-eval < run-1-prepare < run-1-train
      expect(await store().artifactsAfter(undefined, 2)).toStrictEqual([
        { jobId: jobs[2]!.id, manifest: empty },
        { jobId: jobs[0]!.id, manifest: empty },
      ]);
      expect(await store().artifactsAfter(jobs[0]!.id, 2)).toStrictEqual([{ jobId: jobs[1]!.id, manifest: MANIFEST }]);
      expect(await store().artifactsAfter(jobs[1]!.id, 2)).toEqual([]);
    });

    it('jobsNeeding names the jobs that reuse, join or wait on the given ones, with the one each needs', async () => {
      const source = makeRun('source-1', { submittedAt: 1 });
      await store().createRun(source, [makeJob(source, 'train', { id: 'aaaaaaaaaaaa', status: 'DONE' })], 'ada');
      const other = makeRun('other-1', { submittedAt: 2 });
      await store().createRun(
        other,
        [
          makeJob(other, 'train', { id: 'bbbbbbbbbbbb', status: 'DONE', reason: 'cached', cachedFrom: 'aaaaaaaaaaaa' }),
          makeJob(other, 'eval', { id: 'cccccccccccc', dependsOn: ['aaaaaaaaaaaa'] }),
          makeJob(other, 'report', { id: 'dddddddddddd', dependsOn: ['cccccccccccc'] }),
        ],
        'ada',
      );
      const needs = await store().jobsNeeding(['aaaaaaaaaaaa', 'eeeeeeeeeeee']);
      expect(needs.sort((a, b) => a.id.localeCompare(b.id))).toStrictEqual([
        { id: 'bbbbbbbbbbbb', runName: 'other-1', needs: 'aaaaaaaaaaaa' },
        { id: 'cccccccccccc', runName: 'other-1', needs: 'aaaaaaaaaaaa' },
      ]);
      expect(await store().jobsNeeding(['dddddddddddd'])).toEqual([]);
      expect(await store().jobsNeeding([])).toEqual([]);
      expect((await store().allJobFacts(['other-1'])).map((j) => j.id)).toEqual([
        'bbbbbbbbbbbb',
        'cccccccccccc',
        'dddddddddddd',
      ]);
      expect((await store().listRuns({ since: 2 })).map((r) => r.name)).toEqual(['other-1']);
    });
  });

  describe('stop grace and cachedFrom patches', () => {
    const store = useFreshStore(open);

    it('stopGraceMs round-trips through transition and updateJob, survives an empty patch, and null clears it', async () => {
      const run = makeRun('run-1');
      const job = makeJob(run, 'train', { status: 'RUNNING', runner: 'gpu-1', startedAt: 10 });
      await store().createRun(run, [job], 'ada');

      const stopping = await store().transition(
        job.id,
        'RUNNING',
        'STOPPING',
        { stopRequest: 'stop', stopGraceMs: 30_000 },
        'ada',
      );
      const expected: JobRecord = { ...job, status: 'STOPPING', stopRequest: 'stop', stopGraceMs: 30_000 };
      expect(stopping).toStrictEqual({ ok: true, value: expected });
      expect(await store().getJob(job.id)).toStrictEqual(expected);

      // A day in ms: larger than 16 bits, within the column.
      const longer = await store().updateJob(job.id, 'STOPPING', { stopGraceMs: 86_400_000 });
      expect(longer).toStrictEqual({ ok: true, value: { ...expected, stopGraceMs: 86_400_000 } });
      expect(await store().updateJob(job.id, 'STOPPING', { reason: 'stopping' })).toMatchObject({
        ok: true,
        value: { stopGraceMs: 86_400_000 },
      });

      const stopped = await store().transition(
        job.id,
        'STOPPING',
        'STOPPED',
        { stopRequest: null, stopGraceMs: null, finishedAt: 20 },
        'gpu-1',
      );
      expect(stopped.ok && stopped.value).not.toHaveProperty('stopGraceMs');
      expect(stopped.ok && stopped.value).not.toHaveProperty('stopRequest');
      expect(await store().getJob(job.id)).not.toHaveProperty('stopGraceMs');
    });

    it('a job created with stopGraceMs reads back equal; one created without has no stopGraceMs key', async () => {
      const run = makeRun('run-1');
      const stopping = makeJob(run, 'train', { status: 'STOPPING', stopRequest: 'abort', stopGraceMs: 0 });
      const plain = makeJob(run, 'eval');
      await store().createRun(run, [stopping, plain], 'ada');

      expect(await store().getJob(stopping.id)).toStrictEqual(stopping);
      expect(await store().getJob(plain.id)).toStrictEqual(plain);
      expect(await store().getJob(plain.id)).not.toHaveProperty('stopGraceMs');
    });

    it('cachedFrom round-trips through updateJob and transition, and null clears it', async () => {
      const leader = await addJob(store(), 'leader', 100, { status: 'RUNNING', startedAt: 150 });
      const job = await addJob(store(), 'joiner', 200);

      const joined = await store().updateJob(job.id, 'SUBMITTED', { cachedFrom: leader.id, reason: 'waiting' });
      expect(joined).toStrictEqual({ ok: true, value: { ...job, cachedFrom: leader.id, reason: 'waiting' } });
      expect(ids(await store().followersOf(leader.id))).toEqual([job.id]);

      const left = await store().updateJob(job.id, 'SUBMITTED', { cachedFrom: null, reason: null });
      expect(left).toStrictEqual({ ok: true, value: job });
      expect(await store().getJob(job.id)).not.toHaveProperty('cachedFrom');
      expect(await store().followersOf(leader.id)).toEqual([]);

      const patch = { cachedFrom: leader.id, reason: 'cached', exitCode: 0, finishedAt: 300 };
      const done = await store().transition(job.id, 'SUBMITTED', 'DONE', patch, 'server');
      const expected: JobRecord = { ...job, ...patch, status: 'DONE' };
      expect(done).toStrictEqual({ ok: true, value: expected });
      expect(await store().getJob(job.id)).toStrictEqual(expected);
      // A copy is never itself reused.
      expect(await store().findDoneJob(KEY)).toBeUndefined();
    });
  });
}
