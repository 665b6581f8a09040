/**
 * A submission's answer says what became of a job no runner can ever fit: failed on the embedded
 * server (`dstack run -d` then exits 1), given its reason on a team server. Real engine, real SQLite.
 */
import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/core/job-spec.js';
import { previewRun, submitRun } from '../../src/server/submit.js';
import { makeSpec } from '../store/fixtures.js';
import { addRunner, engineWith, putBlob } from './engine-fixture.js';

const HUGE = makeSpec('huge', { resources: { cpu: 64, memory: 0, gpu: 0 } });
const AFTER = makeSpec('after', { dependsOn: [{ ref: 'huge' }] });
const SMALL = makeSpec('small');

/** An engine with one active 4-CPU runner, `local`; `failUnfittable` as the embedded server's. */
async function serverWithOneRunner(failUnfittable: boolean) {
  const { engine } = await engineWith([]);
  engine.failUnfittable = failUnfittable;
  await addRunner(engine, 'local');
  const codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
  const submit = (jobs: JobSpec[]) =>
    submitRun(engine, 'u', { workflow: 'after', overrides: {}, repo: { root: '/' }, codeDigest, jobs });
  return { engine, submit };
}

describe('the answer to a submission', () => {
  it('has a job this machine can never fit FAILED, with its dependents, on the embedded server', async () => {
    const { engine, submit } = await serverWithOneRunner(true);
    const run = await submit([HUGE, AFTER, SMALL]);
    expect(run.jobs.map((j) => [j.ref, j.status, j.reason])).toEqual([
      ['huge', 'FAILED', 'this machine does not have 64 CPUs'],
      ['after', 'FAILED', expect.stringMatching(/^dependency failed: huge /)],
      ['small', 'SUBMITTED', undefined],
    ]);
    // As the store has it: the answer is no guess.
    expect((await engine.store.getJob(run.jobs[0]!.id))!.status).toBe('FAILED');
  });

  it('has such a job waiting with its reason on a team server', async () => {
    const { submit } = await serverWithOneRunner(false);
    const run = await submit([HUGE]);
    expect(run.jobs.map((j) => [j.ref, j.status, j.reason])).toEqual([['huge', 'SUBMITTED', 'no runner has 64 CPUs']]);
  });

  it('is the run as submitted when every job fits', async () => {
    const { submit } = await serverWithOneRunner(true);
    const run = await submit([SMALL]);
    expect(run.status).toBe('SUBMITTED');
    expect(run.jobs.map((j) => [j.ref, j.status])).toEqual([['small', 'SUBMITTED']]);
  });
});

describe('the preview of a run (dstack run --dry-run)', () => {
  const preview = async (failUnfittable: boolean) => {
    const { engine } = await serverWithOneRunner(failUnfittable);
    return previewRun(engine, 'u', { jobs: [HUGE, SMALL], code: { files: [] }, repo: { root: '/' } });
  };

  it('says a job this machine can never fit would fail, on the embedded server', async () => {
    expect((await preview(true)).neverStarts).toEqual({
      huge: { reason: 'this machine does not have 64 CPUs', fails: true },
    });
  });

  it('says such a job would wait, and why, on a team server', async () => {
    expect((await preview(false)).neverStarts).toEqual({ huge: { reason: 'no runner has 64 CPUs', fails: false } });
  });
});
