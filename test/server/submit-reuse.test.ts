/** The cache decisions of a submission, made for all its jobs at once. */
import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/core/job-spec.js';
import { submitRun } from '../../src/server/submit.js';
import { makeSpec } from '../store/fixtures.js';
import { engineWith, finish, putBlob } from './engine-fixture.js';

const spec = (ref: string, dependsOn: string[] = [], artifacts = ['out']): JobSpec =>
  makeSpec(ref, { dependsOn: dependsOn.map((d) => ({ ref: d })), artifacts });

describe('submitRun cache decisions', () => {
  it('reuses DONE jobs whose artifacts are all stored, runs the others, and joins identical running jobs', async () => {
    const { engine } = await engineWith([]);
    const codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
    const request = {
      workflow: 'b',
      overrides: {},
      repo: { root: '/' },
      codeDigest,
      jobs: [spec('a'), spec('b', ['a']), spec('c'), spec('d', [], [])],
    };
    const first = await submitRun(engine, 'u', request);
    const [a, b, c, d] = first.jobs;
    for (const job of [a!, b!, c!, d!]) await finish(engine, job.id);
    const stored = await putBlob(engine, 'data');
    const file = (digest: string) => ({
      artifacts: [{ path: 'out', files: [{ path: 'out/x', size: 4, mode: 0o644, digest }] }],
    });
    await engine.store.setArtifacts(a!.id, file(stored));
    await engine.store.setArtifacts(b!.id, file('0'.repeat(64))); // its blob is gone
    // c declares artifacts but has no manifest at all: not reusable either. d declares none, so it stored none.

    const second = await submitRun(engine, 'u', request);
    expect(second.jobs.map((j) => [j.ref, j.status, j.cachedFrom ?? null])).toEqual([
      ['a', 'DONE', a!.id],
      ['b', 'SUBMITTED', null],
      ['c', 'SUBMITTED', null],
      ['d', 'DONE', d!.id],
    ]);
    expect(second.jobs[0]).toMatchObject({ reason: 'cached', exitCode: 0 });

    const third = await submitRun(engine, 'u', request);
    const [, b2, c2] = second.jobs;
    expect(third.jobs.map((j) => [j.ref, j.status, j.cachedFrom ?? null])).toEqual([
      ['a', 'DONE', a!.id],
      ['b', 'SUBMITTED', b2!.id],
      ['c', 'SUBMITTED', c2!.id],
      ['d', 'DONE', d!.id],
    ]);
    expect(third.jobs[1]!.reason).toBe(`waiting for the same job in ${second.name} (${b2!.id})`);
  });

  it("keys a dependent on the job that made its dependency's artifacts, not on the dependency's key", async () => {
    const { engine } = await engineWith([]);
    const codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
    const request = (jobs: JobSpec[]) => ({ workflow: 'b', overrides: {}, repo: { root: '/' }, codeDigest, jobs });
    const both = request([spec('a', [], []), spec('b', ['a'], [])]);
    const first = await submitRun(engine, 'u', both);
    for (const job of first.jobs) await finish(engine, job.id);
    // `a` made anew (`dstack run a --no-cache`): the newest DONE `a`, with other artifacts than the first.
    const fresh = await submitRun(engine, 'u', { ...request([spec('a', [], [])]), noCache: true });
    await finish(engine, fresh.jobs[0]!.id);

    const third = await submitRun(engine, 'u', both);
    expect(third.jobs.map((j) => [j.ref, j.status, j.cachedFrom ?? null])).toEqual([
      ['a', 'DONE', fresh.jobs[0]!.id],
      ['b', 'SUBMITTED', null], // the first `b` was made from the first `a`'s artifacts
    ]);
    await finish(engine, third.jobs[1]!.id);
    const fourth = await submitRun(engine, 'u', both);
    expect(fourth.jobs.map((j) => j.cachedFrom)).toEqual([fresh.jobs[0]!.id, third.jobs[1]!.id]);
  });

  it('settles a follower whose leader ended between the cache look-up and the insert, rather than leave it waiting', async () => {
    const { engine } = await engineWith([]);
    const codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
    const request = { workflow: 'a', overrides: {}, repo: { root: '/' }, codeDigest, jobs: [spec('a', [], [])] };
    const leader = (await submitRun(engine, 'u', request)).jobs[0]!;
    for (const [from, to] of [
      ['SUBMITTED', 'DOWNLOADING'],
      ['DOWNLOADING', 'RUNNING'],
    ] as const)
      await engine.transition(leader.id, from, to, { runner: 'r1' }, 'test');
    // The leader ends after the submission looked it up, before the submission's jobs are stored.
    const createRun = engine.store.createRun.bind(engine.store);
    engine.store.createRun = async (...args) => {
      await engine.transition(leader.id, 'RUNNING', 'DONE', {}, 'test');
      return createRun(...args);
    };
    const follower = (await submitRun(engine, 'u', request)).jobs[0]!;
    expect(follower.cachedFrom).toBe(leader.id);
    expect(await engine.store.getJob(follower.id)).toMatchObject({ status: 'DONE', reason: 'cached' });
  });

  it("gives a follower's dependents keys of their own once it runs itself", async () => {
    const { engine } = await engineWith([]);
    const codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
    const request = { workflow: 'b', overrides: {}, repo: { root: '/' }, codeDigest };
    const jobs = [spec('a', [], []), spec('b', ['a'], [])];
    const leader = await submitRun(engine, 'u', { ...request, jobs });
    const follower = await submitRun(engine, 'u', { ...request, jobs });
    expect(follower.jobs.map((j) => j.cachedFrom)).toEqual(leader.jobs.map((j) => j.id));

    // The leader's `a` fails: the follower's `a` runs itself, and its `b` will get that `a`'s artifacts.
    await engine.transition(leader.jobs[0]!.id, 'SUBMITTED', 'FAILED', { reason: 'x' }, 'test');
    const [a, b] = await Promise.all(follower.jobs.map(async (j) => (await engine.store.getJob(j.id))!));
    expect(a!.cachedFrom).toBeUndefined();
    expect(b!.status).toBe('SUBMITTED');
    expect(b!.cacheKey).not.toBe(leader.jobs[1]!.cacheKey);
  });
});
