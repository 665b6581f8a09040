/**
 * `dstack tags add TAG JOB` tags the job's run and says so; a run with another tag keeps it, and
 * the refusal names the commands that rename it. Through the real CLI and its embedded server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

describe('dstack tags add', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: prepare\n    commands: [echo ready]\n' });
  });
  afterAll(() => sb?.dispose());

  it("tags a job's run, naming it, and refuses to move the run's tag in passing", async () => {
    expect((await sb.dstack(['run', 'prepare'])).code).toBe(0);
    const run = await sb.lastRun();
    const job = run.jobs[0]!.id;
    const added = await sb.dstack(['tags', 'add', 'v1', job]);
    expect(added).toMatchObject({
      code: 0,
      stdout: `tagged run ${run.name}, the run of job ${job}, as v1 (project ${sb.root})\n`,
    });
    const moved = await sb.dstack(['tags', 'add', 'v2', run.name]);
    expect(moved.stderr).toBe(
      `error: run ${run.name} has the tag 'v1' already, and a run has one tag; to rename it, delete the old one ` +
        `first (a depends-on ':v1' then finds no run): dstack tags delete v1 --project ${sb.root} && ` +
        `dstack tags add v2 ${run.name}\n`,
    );
    expect(moved.code).toBe(1);
    expect((await sb.runView(run.name)).tag).toBe('v1');
  });
});
