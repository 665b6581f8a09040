/**
 * The run's Resume dialog names what `dstack resume RUN` does: the jobs it resumes, and each job
 * it leaves as it ended with why, as `dstack resume RUN` prints it (cli/commands/stop.ts).
 */
import { describe, expect, it } from 'vitest';
import { resumePlan } from '../../src/core/resume-plan.js';
import { makeJob, makeRun } from '../store/fixtures.js';

const run = makeRun('proud-tiger-1');
const job = (ref: string, fields: Parameters<typeof makeJob>[2]) =>
  makeJob(run, ref, { id: `${ref}00000000`.slice(0, 12), ...fields });

describe('resumePlan', () => {
  const slow = job('slow', { status: 'STOPPED', reason: 'stopped by user' });
  const flaky = job('flaky', { status: 'FAILED', reason: 'exit code 3' });
  const after = job('after', { status: 'STOPPED', dependsOn: [flaky.id] });
  const top = job('top', { status: 'STOPPED', dependsOn: [slow.id, after.id] });
  const done = job('prep', { status: 'DONE' });
  const cut = job('cut', { status: 'ABORTED', reason: 'aborted by user' });

  it('resumes the stopped jobs whose dependencies can go on, and leaves the rest, saying why', () => {
    const plan = resumePlan([done, slow, flaky, after, top, cut], { lr: '0.1' });
    expect(plan.resumes.map((j) => j.ref)).toEqual(['slow']);
    expect(plan.leaves.map(({ job, why }) => [job.ref, why])).toEqual([
      [
        'flaky',
        'it FAILED (exit code 3): only a stopped job resumes, or one whose resume failed before its commands ' +
          'started; run the workflow again with dstack run flaky',
      ],
      ['after', `its dependency flaky (${flaky.id}) is FAILED; run the workflow again with dstack run after`],
      ['top', `its dependency after (${after.id}) is STOPPED; run the workflow again with dstack run top`],
      ['cut', 'an aborted job saved nothing to go on from; run the workflow again with dstack run cut'],
    ]);
  });

  it("names the run's variables a job takes in the command to run it again", () => {
    const withVars = job('train', { status: 'FAILED', spec: { ...flaky.spec, variables: { lr: '0.1' } } });
    const plan = resumePlan([withVars], { lr: '0.2', other: 'x' });
    expect(plan.leaves[0]!.why).toMatch(/run the workflow again with dstack run train --lr 0\.2$/);
  });

  it('takes a stopped job with its stopped dependency, and leaves DONE and running jobs out of both lists', () => {
    const first = job('first', { status: 'STOPPED' });
    const second = job('second', { status: 'STOPPED', dependsOn: [first.id] });
    const going = job('going', { status: 'RUNNING' });
    const plan = resumePlan([done, first, second, going], {});
    expect(plan.resumes.map((j) => j.ref)).toEqual(['first', 'second']);
    expect(plan.leaves).toEqual([]);
  });
});
