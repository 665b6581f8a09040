/** Conformance: the guarded status update, its events, and guarded field updates. */
import { describe, expect, it } from 'vitest';
import { makeJob, makeRun, seedRun, useFreshStore, type OpenStore } from '../fixtures.js';

export function describeTransitions(open: OpenStore): void {
  describe('transitions', () => {
    const store = useFreshStore(open);

    it('updateJobs patches the jobs still in the expected status, past one statement of ids, and leaves the rest', async () => {
      const run = makeRun('run-1');
      const jobs = Array.from({ length: 503 }, (_, i) =>
        makeJob(run, `j${i}`, { status: i === 7 ? 'RUNNING' : 'SUBMITTED', ...(i === 9 ? { reason: 'before' } : {}) }),
      );
      await store().createRun(run, jobs, 'ada');
      const updated = await store().updateJobs([...jobs.map((j) => j.id), 'no-such-job'], 'SUBMITTED', {
        reason: 'no runner is online',
      });
      expect(updated).toHaveLength(502);
      expect(updated.map((j) => j.id).sort()).toEqual(
        jobs
          .filter((_, i) => i !== 7)
          .map((j) => j.id)
          .sort(),
      );
      expect(updated.find((j) => j.id === jobs[502]!.id)).toStrictEqual({
        ...jobs[502],
        reason: 'no runner is online',
      });
      expect(await store().getJob(jobs[7]!.id)).toStrictEqual(jobs[7]);
      expect((await store().getJob(jobs[9]!.id))?.reason).toBe('no runner is online');
      expect(await store().events(jobs[9]!.id)).toHaveLength(1); // a field, not a transition
      expect(await store().updateJobs([jobs[0]!.id], 'SUBMITTED', { reason: null })).toMatchObject([
        { id: jobs[0]!.id },
      ]);
      expect((await store().getJob(jobs[0]!.id))?.reason).toBeUndefined();
      expect(await store().updateJobs([], 'SUBMITTED', { reason: 'x' })).toEqual([]);
    });

    it('transition changes the status, applies the patch and appends an event with time, reason and actor', async () => {
      const { jobs } = await seedRun(store(), 'run-1', ['train']);
      const id = jobs[0]!.id;
      const gpus = [{ index: 0, name: 'NVIDIA H100', memory: 80e9 }];
      const before = Date.now();

      const result = await store().transition(id, 'SUBMITTED', 'DOWNLOADING', { runner: 'gpu-1', gpus }, 'scheduler');
      const after = Date.now();

      expect(result).toStrictEqual({ ok: true, value: { ...jobs[0], status: 'DOWNLOADING', runner: 'gpu-1', gpus } });
      expect(await store().getJob(id)).toStrictEqual(result.ok && result.value);
      const events = await store().events(id);
      expect(events).toHaveLength(2);
      const event = events[1]!;
      expect(event).toMatchObject({ jobId: id, from: 'SUBMITTED', to: 'DOWNLOADING', actor: 'scheduler' });
      expect(event).not.toHaveProperty('reason');
      expect(event.at).toBeGreaterThanOrEqual(before);
      expect(event.at).toBeLessThanOrEqual(after);

      await store().transition(id, 'DOWNLOADING', 'FAILED', { reason: 'runner lost', finishedAt: 5 }, 'gpu-1');
      expect((await store().events(id)).map((e) => [e.from, e.to, e.reason, e.actor])).toEqual([
        [null, 'SUBMITTED', undefined, 'ada'],
        ['SUBMITTED', 'DOWNLOADING', undefined, 'scheduler'],
        ['DOWNLOADING', 'FAILED', 'runner lost', 'gpu-1'],
      ]);
    });

    it('transition from a status the job is not in returns status_mismatch with the actual status and changes nothing', async () => {
      const run = makeRun('run-1');
      const job = makeJob(run, 'train', { status: 'RUNNING', runner: 'gpu-1' });
      await store().createRun(run, [job], 'ada');

      const result = await store().transition(job.id, 'DOWNLOADING', 'RUNNING', { runner: 'gpu-2' }, 'gpu-2');

      expect(result).toStrictEqual({ ok: false, reason: 'status_mismatch', actual: 'RUNNING' });
      expect(await store().getJob(job.id)).toStrictEqual(job);
      expect(await store().events(job.id)).toHaveLength(1);
    });

    it('transition guarded by a runner moves only a job assigned to that runner', async () => {
      const run = makeRun('run-1');
      const job = makeJob(run, 'train', { status: 'RUNNING', runner: 'gpu-1' });
      await store().createRun(run, [job], 'ada');

      const refused = await store().transition(job.id, 'RUNNING', 'UPLOADING', {}, 'gpu-2', { runner: 'gpu-2' });
      expect(refused).toStrictEqual({ ok: false, reason: 'status_mismatch', actual: 'RUNNING' });
      expect(await store().getJob(job.id)).toStrictEqual(job);
      expect(await store().events(job.id)).toHaveLength(1);

      const moved = await store().transition(job.id, 'RUNNING', 'UPLOADING', {}, 'gpu-1', { runner: 'gpu-1' });
      expect(moved).toStrictEqual({ ok: true, value: { ...job, status: 'UPLOADING' } });
      expect(await store().events(job.id)).toHaveLength(2);
    });

    it('transition the status machine does not allow returns not_allowed and leaves the row and events untouched', async () => {
      const { jobs } = await seedRun(store(), 'run-1', ['train']);
      const id = jobs[0]!.id;

      const result = await store().transition(id, 'SUBMITTED', 'UPLOADING', {}, 'gpu-1');

      expect(result).toStrictEqual({ ok: false, reason: 'not_allowed', from: 'SUBMITTED', to: 'UPLOADING' });
      expect(await store().getJob(id)).toStrictEqual(jobs[0]);
      expect(await store().events(id)).toHaveLength(1);
      // Checked before the database is asked: an unknown job gets the same answer.
      expect(await store().transition('missing', 'DONE', 'RUNNING', {}, 'x')).toMatchObject({ reason: 'not_allowed' });
    });

    it('transition of a job that does not exist returns not_found', async () => {
      expect(await store().transition('000000000000', 'SUBMITTED', 'DOWNLOADING', {}, 'x')).toStrictEqual({
        ok: false,
        reason: 'not_found',
      });
    });

    it('two concurrent transitions of one job: exactly one wins, the other sees the status it set', async () => {
      const { jobs } = await seedRun(store(), 'run-1', ['train']);
      const id = jobs[0]!.id;

      const results = await Promise.all(
        ['gpu-1', 'gpu-2'].map((runner) => store().transition(id, 'SUBMITTED', 'DOWNLOADING', { runner }, runner)),
      );

      const winners = results.filter((r) => r.ok);
      expect(winners).toHaveLength(1);
      expect(results.find((r) => !r.ok)).toStrictEqual({ ok: false, reason: 'status_mismatch', actual: 'DOWNLOADING' });
      const winner = winners[0]!.ok ? winners[0]!.value.runner : undefined;
      expect((await store().getJob(id))?.runner).toBe(winner);
      expect((await store().events(id)).map((e) => e.actor)).toEqual(['ada', winner]);
    });

    it('a patch field set to null clears the column; a field left undefined keeps its value', async () => {
      const run = makeRun('run-1');
      const job = makeJob(run, 'train', {
        status: 'STOPPED',
        reason: 'stopped by ada',
        runner: 'gpu-1',
        gpus: [{ index: 0, name: 'NVIDIA A100', memory: 40e9 }],
        exitCode: 143,
        stopRequest: 'stop',
        startedAt: 10,
        finishedAt: 20,
        commandsStarted: true,
      });
      await store().createRun(run, [job], 'ada');
      expect((await store().getJob(job.id))?.commandsStarted).toBe(true);

      const cleared = { runner: null, gpus: null, exitCode: null, stopRequest: null, finishedAt: null };
      const patch = { ...cleared, resumed: true, commandsStarted: false };
      const result = await store().transition(job.id, 'STOPPED', 'SUBMITTED', patch, 'ada');

      const resumed = { status: 'SUBMITTED', resumed: true, commandsStarted: false } as const;
      const expected = { ...job, ...resumed, reason: 'stopped by ada', startedAt: 10 };
      for (const key of ['runner', 'gpus', 'exitCode', 'stopRequest', 'finishedAt'] as const) delete expected[key];
      expect(result).toStrictEqual({ ok: true, value: expected });
      expect(await store().getJob(job.id)).toStrictEqual(expected);
    });

    it('updateJob sets fields without changing the status or appending an event', async () => {
      const { jobs } = await seedRun(store(), 'run-1', ['train']);
      const id = jobs[0]!.id;

      const result = await store().updateJob(id, 'SUBMITTED', { reason: 'waiting for a runner with 1 GPU' });

      expect(result).toStrictEqual({ ok: true, value: { ...jobs[0], reason: 'waiting for a runner with 1 GPU' } });
      expect(await store().events(id)).toHaveLength(1);
      expect(await store().updateJob(id, 'SUBMITTED', {})).toStrictEqual(result);
    });

    it('updateJob of a job in another status returns status_mismatch and changes nothing; of no job, not_found', async () => {
      const { jobs } = await seedRun(store(), 'run-1', ['train']);
      const id = jobs[0]!.id;

      expect(await store().updateJob(id, 'RUNNING', { stopRequest: 'abort' })).toStrictEqual({
        ok: false,
        reason: 'status_mismatch',
        actual: 'SUBMITTED',
      });
      expect(await store().getJob(id)).toStrictEqual(jobs[0]);
      expect(await store().updateJob('missing', 'RUNNING', {})).toStrictEqual({ ok: false, reason: 'not_found' });
    });
  });
}
