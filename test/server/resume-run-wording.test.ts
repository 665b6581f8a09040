/**
 * `dstack resume RUN` speaks of the run it was given, even a run of one job; `dstack resume JOB`
 * of the job. On the real API and engine over a real SQLite store.
 */
import { describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import { callApi } from './app-fixture.js';
import { engineWith } from './engine-fixture.js';

const A = 'aaaaaaaaaaaa';
const RUN = 'calm-owl-1';

async function oneJobRun(status: 'DONE' | 'FAILED') {
  const { engine, app } = await engineWith([[A, status, []]], { name: RUN, workflow: 'w0' });
  const user = await issueToken(engine.store, 'user', 'u', false);
  return (target: string) => callApi(app, user, 'POST', '/api/resume', { target });
}

describe('resume of a run of one job', () => {
  it('refuses the run as a run, naming its one job', async () => {
    const resume = await oneJobRun('FAILED');
    const answer = await resume(RUN);
    expect(answer.status).toBe(404);
    expect(answer.json).toEqual({
      error: {
        code: 'not_found',
        message:
          `run '${RUN}' has no jobs to resume: none is stopped, or failed in a resume before its commands ` +
          `started (its job w0 ${A} is FAILED); run it again with dstack run w0`,
      },
    });
  });

  it('refuses the job by its id as a job', async () => {
    const resume = await oneJobRun('DONE');
    const answer = await resume(A);
    expect(answer.status).toBe(409);
    expect((answer.json.error as { message: string }).message).toBe(
      `job ${A} (w0) is not stopped (it is DONE); only a stopped job resumes, or one whose resume failed ` +
        'before its commands started: run it again with dstack run w0',
    );
  });
});
