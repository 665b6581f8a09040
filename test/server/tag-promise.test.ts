/**
 * A run submitted with --tag gets the tag once DONE, so the tag is promised to it meanwhile:
 * another submission with it and a `tags add` of it are refused, saying so, and a stopped run
 * whose tag was taken while it was stopped is not resumed into a DONE run without it, unless its
 * user says so (`dstack resume --no-tag`). Through
 * the real app and engine over a real SQLite store.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/core/errors.js';
import type { JobSpec } from '../../src/core/job-spec.js';
import { issueToken } from '../../src/server/auth.js';
import { resumeJobs, stopJobs } from '../../src/server/control.js';
import { submitRun } from '../../src/server/submit.js';
import { makeSpec } from '../store/fixtures.js';
import { callApi } from './app-fixture.js';
import { engineWith, finish, putBlob } from './engine-fixture.js';

const promised = (run: string) =>
  `tag 'best' is promised to run ${run} in project /, which has not finished (dstack run --tag best): ` +
  'choose another tag, wait for that run, or let that run end untagged: dstack tags delete best --project /';

async function setup() {
  const { engine, app } = await engineWith([]);
  const codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
  const submit = (ref: string, tag?: string) => {
    const jobs: JobSpec[] = [makeSpec(ref, { artifacts: [] })];
    return submitRun(engine, 'u', { workflow: ref, overrides: {}, repo: { root: '/' }, codeDigest, jobs, tag });
  };
  const token = await issueToken(engine.store, 'user', 'u', false);
  const tagsAdd = (run: string) => callApi(app, token, 'POST', '/api/tags', { tag: 'best', run });
  return { engine, submit, tagsAdd };
}

/** A run submitted with --tag best and stopped, then another run tagged best meanwhile. */
async function tagTakenWhileStopped() {
  const { engine, submit, tagsAdd } = await setup();
  const stopped = await submit('a', 'best');
  await stopJobs(engine, stopped.jobs, { actor: 'user:u' });
  const other = await submit('c');
  await finish(engine, other.jobs[0]!.id);
  expect((await tagsAdd(other.name)).status).toBe(201);
  const jobs = await Promise.all(stopped.jobs.map(async (j) => (await engine.store.getJob(j.id))!));
  return { engine, stopped, other, jobs };
}

describe('a tag promised to a run submitted with --tag', () => {
  it('refuses another run submitted with the tag, and a tags add of it, until that run ends; then it has the tag', async () => {
    const { engine, submit, tagsAdd } = await setup();
    const first = await submit('a', 'best');
    await expect(submit('b', 'best')).rejects.toThrow(new ConflictError(promised(first.name)));
    const other = await submit('c');
    await finish(engine, other.jobs[0]!.id);
    expect(await tagsAdd(other.name)).toEqual({
      status: 409,
      json: { error: { code: 'conflict', message: promised(first.name) } },
    });
    await finish(engine, first.jobs[0]!.id);
    expect((await engine.store.getRun(first.name))?.tag).toBe('best');
  });

  it('lapses while the run is stopped; resumed once another run has the tag, it is refused, naming that run', async () => {
    const { engine, stopped, other, jobs } = await tagTakenWhileStopped();
    await expect(resumeJobs(engine, jobs, jobs, 'user:u')).rejects.toThrow(
      new ConflictError(
        `run ${stopped.name} was submitted with --tag best: tag 'best' already exists in project / ` +
          `(run ${other.name}); delete it first: dstack tags delete best --project /; ` +
          `resume it without the tag with dstack resume --no-tag ${stopped.name}`,
      ),
    );
    expect((await engine.store.getJob(stopped.jobs[0]!.id))?.status).toBe('STOPPED');
    // Freed, it resumes, and ends with its tag.
    await engine.store.setTag(other.name, null);
    await resumeJobs(engine, jobs, jobs, 'user:u');
    await finish(engine, stopped.jobs[0]!.id);
    expect((await engine.store.getRun(stopped.name))?.tag).toBe('best');
  });

  it("resumed with noTag once another run has the tag, it runs and ends untagged; the tag stays the other run's", async () => {
    const { engine, stopped, other, jobs } = await tagTakenWhileStopped();
    expect((await resumeJobs(engine, jobs, jobs, 'user:u', { noTag: true })).map((j) => j.status)).toEqual([
      'SUBMITTED',
    ]);
    await finish(engine, stopped.jobs[0]!.id);
    expect((await engine.store.getRun(stopped.name))?.tag).toBeUndefined();
    expect((await engine.store.getRun(other.name))?.tag).toBe('best');
  });
});
