/**
 * `dstack resume RUN` resumes the run's jobs it can and says which it left: a stopped job whose
 * dependency ended for good would wait for it forever. Through the real CLI and its embedded
 * server and runner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/core/records.js';
import { Sandbox, waitUntil } from './harness.js';

const WORKFLOWS = `workflows:
  - name: slow
    commands: [echo ready, sleep 30]
  - name: bad
    commands: [sleep 3, exit 1]
  - name: after-bad
    depends-on: [bad]
    commands: [echo never]
  - name: all
    depends-on: [slow, after-bad]
    commands: [echo all]
  - name: train
    commands: ['echo "epochs $epochs, lr $lr"', exit 3]
  - name: after-train
    depends-on: [train]
    commands: [echo never]
`;

describe('dstack resume RUN with a job held back by a failed dependency', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': WORKFLOWS,
      '.dstack/variables.yaml': 'variables:\n  global:\n    lr: 0.1\n  train:\n    epochs: 1\n',
    });
  });
  afterAll(() => sb?.dispose());

  const jobs = async (run: string): Promise<Map<string, JobRecord>> =>
    new Map((await sb.runView(run)).jobs.map((j) => [j.workflow, j]));

  it('resumes the others, and names each job it left: the failed one, and those its failure holds', async () => {
    const run = (await sb.dstack(['run', 'all', '-d'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', run])).stdout.includes('ready'));
    const before = await jobs(run);
    // after-bad is stopped while it waits for bad, which then fails.
    expect((await sb.dstack(['stop', before.get('after-bad')!.id])).code).toBe(0);
    expect((await sb.dstack(['stop', before.get('slow')!.id])).code).toBe(0);
    const ended = await waitUntil(async () => {
      const now = await jobs(run);
      return [...now.values()].every((j) => ['STOPPED', 'FAILED'].includes(j.status)) && now;
    });
    expect([...ended.values()].map((j) => `${j.workflow} ${j.status}`)).toEqual([
      'slow STOPPED',
      'bad FAILED',
      'after-bad STOPPED',
      'all STOPPED',
    ]);
    const bad = ended.get('bad')!;
    const afterBad = ended.get('after-bad')!;
    const resumed = await sb.dstack(['resume', run]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toBe(`${ended.get('slow')!.id} slow SUBMITTED\n`);
    expect(resumed.stderr).toBe(
      `not resumed: ${bad.id} bad FAILED: it FAILED (exit code 1): only a stopped job resumes, or one whose ` +
        'resume failed before its commands started; run the workflow again with dstack run bad\n' +
        `not resumed: ${afterBad.id} after-bad STOPPED: its dependency bad (${bad.id}) is FAILED; ` +
        'run the workflow again with dstack run after-bad\n' +
        `not resumed: ${ended.get('all')!.id} all STOPPED: its dependency after-bad (${afterBad.id}) is STOPPED; ` +
        'run the workflow again with dstack run all\n',
    );
    await sb.dstack(['stop', run]);
  });

  it("names the run's own variables in the dstack run that runs a failed job again", async () => {
    const run = (await sb.dstack(['run', 'train', '--lr', '0.5 0.25', '-d'])).stdout.trim();
    const { id } = await waitUntil(async () => {
      const job = (await jobs(run)).get('train')!;
      return job.status === 'FAILED' && job;
    });
    expect((await sb.dstack(['logs', run])).stdout).toBe('epochs 1, lr 0.5 0.25\n');
    const resumed = await sb.dstack(['resume', run]);
    // A run of one job is refused as the run typed, naming its job.
    expect(resumed.stderr).toBe(
      `error: run '${run}' has no jobs to resume: none is stopped, or failed in a resume before its commands ` +
        `started (its job train ${id} is FAILED: exit code 3); run it again with dstack run train --lr '0.5 0.25'\n`,
    );
    expect(resumed.code).toBe(1);
  });

  it('names the run to run again when none of its jobs can be resumed', async () => {
    const run = (await sb.dstack(['run', 'after-train', '--lr', '0.5 0.25', '-d'])).stdout.trim();
    await waitUntil(async () => [...(await jobs(run)).values()].every((j) => j.status === 'FAILED'));
    const resumed = await sb.dstack(['resume', run]);
    expect(resumed.stderr).toBe(
      `error: run '${run}' has no jobs to resume: none is stopped, or failed in a resume before its commands ` +
        "started; run it again with dstack run after-train --lr '0.5 0.25'\n",
    );
    expect(resumed.code).toBe(1);
  });
});
