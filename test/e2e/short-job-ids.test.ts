/**
 * `dstack logs/artifacts/stop/resume` take the start of a job's id (4 digits or more), as git
 * takes a short commit id. Through the real CLI and its embedded server and runner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

describe('a short job id', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml':
        'workflows:\n  - name: prepare\n    commands: [echo ready > out.txt, cat out.txt]\n    artifacts: [out.txt]\n' +
        '  - name: train\n    depends-on: [prepare]\n    commands: [echo trained]\n',
    });
  });
  afterAll(() => sb?.dispose());

  it('names the one job it starts, for logs, artifacts, stop and resume', async () => {
    expect((await sb.dstack(['run', 'train'])).code).toBe(0);
    const run = await sb.lastRun();
    const prepare = run.jobs.find((j) => j.workflow === 'prepare')!.id;
    const short = prepare.slice(0, 6);
    // Only the job's own lines: not the run's.
    expect(await sb.dstack(['logs', short])).toMatchObject({ code: 0, stdout: 'ready\n' });
    expect((await sb.dstack(['artifacts', short])).stdout).toMatch(
      /^ARTIFACT\s+FILE\s+SIZE\nout\.txt\s+out\.txt\s+6B\n$/,
    );
    expect(await sb.dstack(['stop', short])).toMatchObject({
      code: 0,
      stdout: `nothing to stop: '${short}' has no unfinished jobs\n`,
    });
    const resume = await sb.dstack(['resume', short]);
    expect(resume.stderr).toBe(
      `error: job ${prepare} (prepare) is not stopped (it is DONE); only a stopped job resumes, or one whose ` +
        'resume failed before its commands started: run it again with dstack run prepare\n',
    );
    expect(resume.code).toBe(1);
    expect((await sb.dstack(['logs', '0000000'])).stderr).toBe(
      "error: no run or job named '0000000', nor a job whose id starts with it (see 'dstack status --last 10')\n",
    );
  });
});
