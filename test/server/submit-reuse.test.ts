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
});
