/**
 * The cache is the team's, but whose job answered is not: a job that reuses or waits for
 * another user's job says "another user's job", never that job's run or id, whether it was
 * submitted, previewed or resumed. On the real engine over a real SQLite store.
 */
import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/core/job-spec.js';
import { resumeJobs, stopJobs } from '../../src/server/control.js';
import { previewRun, submitRun } from '../../src/server/submit.js';
import { makeSpec } from '../store/fixtures.js';
import { engineWith, finish, putBlob } from './engine-fixture.js';

const jobs: JobSpec[] = [makeSpec('a', { artifacts: [] })];
const THEIRS = "waiting for the same job (another user's job)";

async function setup() {
  const { engine } = await engineWith([]);
  const codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
  const request = { workflow: 'a', overrides: {}, repo: { root: '/' }, codeDigest, jobs };
  const submit = (user: string) => submitRun(engine, user, request);
  const preview = (user: string) => previewRun(engine, user, { jobs, code: { files: [] }, repo: { root: '/' } });
  const job = async (id: string) => (await engine.store.getJob(id))!;
  return { engine, submit, preview, job };
}

describe("a cached job whose source is another user's", () => {
  it('waits for and reuses it naming neither its run nor its id; its own user sees both', async () => {
    const { engine, submit, preview, job } = await setup();
    const alices = await submit('alice');
    const leader = alices.jobs[0]!;

    const bobs = (await submit('bob')).jobs[0]!;
    expect(bobs).toMatchObject({ cachedFrom: leader.id, cachedFromAnotherUser: true, reason: THEIRS });
    expect(await job(bobs.id)).toMatchObject({ cachedFromAnotherUser: true, reason: THEIRS });
    const again = (await submit('alice')).jobs[0]!;
    expect(again.reason).toBe(`waiting for the same job in ${alices.name} (${leader.id})`);
    expect(again.cachedFromAnotherUser).toBeUndefined();

    await finish(engine, leader.id);
    expect(await job(bobs.id)).toMatchObject({ status: 'DONE', reason: 'cached', cachedFromAnotherUser: true });
    const cached = (await submit('bob')).jobs[0]!;
    expect(cached).toMatchObject({ status: 'DONE', cachedFrom: leader.id, cachedFromAnotherUser: true });
    expect((await submit('alice')).jobs[0]!.cachedFromAnotherUser).toBeUndefined();
    expect(await preview('bob')).toMatchObject({ cached: { a: leader.id }, cachedFromAnotherUser: ['a'] });
    expect((await preview('alice')).cachedFromAnotherUser).toBeUndefined();
  });

  it("forgets whose it was when the job runs itself, and says so again when resumed to wait for another user's", async () => {
    const { engine, submit, job } = await setup();
    const leader = (await submit('alice')).jobs[0]!;
    const bobs = await submit('bob');
    const follower = bobs.jobs[0]!;

    await engine.transition(leader.id, 'SUBMITTED', 'FAILED', { reason: 'x' }, 'test');
    const alone = await job(follower.id);
    expect([alone.status, alone.cachedFrom, alone.cachedFromAnotherUser, alone.reason]).toEqual([
      'SUBMITTED',
      undefined,
      undefined,
      undefined,
    ]);

    // Stopped before it started, then resumed while another of Alice's runs the same job.
    await stopJobs(engine, [alone], { actor: 'user:bob' });
    const second = (await submit('alice')).jobs[0]!;
    const [resumed] = await resumeJobs(engine, [await job(follower.id)], [await job(follower.id)], 'user:bob');
    expect(resumed).toMatchObject({ status: 'SUBMITTED', cachedFrom: second.id, cachedFromAnotherUser: true });
    expect(resumed!.reason).toBe(THEIRS);
  });
});
