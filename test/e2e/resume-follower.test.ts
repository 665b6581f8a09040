/**
 * Through the real CLI: a job that joined an identical running job, stopped before that one
 * ended, resumes as a run submitted then would go: it waits for that job again while it runs,
 * and takes its result once it is DONE; `dstack resume` says which.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, waitUntil } from './harness.js';

describe('resume of a stopped follower', () => {
  let sb: Sandbox;
  let gate: string;
  beforeAll(async () => {
    sb = await Sandbox.create();
    gate = join(sb.home, 'gate-open');
    await sb.write({
      '.dstack/workflows.yaml': `workflows:
  - name: gated
    commands:
      - while [ ! -f '${gate}' ]; do sleep 0.1; done
      - echo released
`,
    });
  });
  afterAll(() => sb.dispose());

  const view = async (name: string) => await sb.runView(name);

  it('waits for the job it followed while that runs, and takes its result once it is DONE', async () => {
    const leaderRun = (await sb.dstack(['run', 'gated', '-d'])).stdout.trim();
    const leader = await waitUntil(async () => {
      const job = (await view(leaderRun)).jobs[0]!;
      return job.status === 'RUNNING' && job;
    });
    const followerRun = (await sb.dstack(['run', 'gated', '-d'])).stdout.trim();
    const follower = (await view(followerRun)).jobs[0]!;
    expect(follower.cachedFrom).toBe(leader.id);
    expect((await sb.dstack(['stop', followerRun])).stdout).toBe(`${follower.id} gated STOPPED\n`);

    // Resumed while the leader runs: it joins it again.
    const waiting = await sb.dstack(['resume', followerRun]);
    expect(waiting.stdout).toBe(
      `${follower.id} gated SUBMITTED: waiting for the same job in ${leaderRun} (${leader.id})\n`,
    );
    expect((await sb.dstack(['stop', followerRun])).code).toBe(0);

    await writeFile(gate, '');
    await waitUntil(async () => (await view(leaderRun)).status === 'DONE');
    // Resumed once the leader is DONE: its result, as a run submitted now would take it.
    const cached = await sb.dstack(['resume', followerRun]);
    expect(cached).toMatchObject({ code: 0, stdout: `${follower.id} gated DONE cached (${leader.id})\n` });
    expect((await view(followerRun)).status).toBe('DONE');
  });
});
