/**
 * A runner killed mid-job and started again only after the server has failed its job `runner
 * lost` (a reboot outlasting the runner timeout): back with the job's workspace, it takes the job
 * back, saves its checkpoint and stops it; its dependent, failed with it, is stopped with it, and
 * `dstack resume` goes on from the checkpoint. A lost job whose commands never started, or that
 * a user was aborting, is not taken back.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RUNNER_LOST } from '../../src/core/job-status.js';
import { issueToken } from '../../src/server/auth.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { epochsSaid, epochsWorkflow } from './checkpointing.js';
import { waitUntil } from './harness.js';
import { RemoteProject } from './remote.js';
import { RunnerProcesses } from './runner-processes.js';

const WORKFLOWS = `workflows:
${epochsWorkflow('train')}  - name: evaluate
    depends-on: [train]
    commands:
      - echo "evaluated epoch $(cat checkpoint/epoch)"
`;

describe('a runner back after the server failed its job as lost', () => {
  let t: TestServer;
  let project: RemoteProject;
  let work: string;
  let runners: RunnerProcesses | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dstack-runner-lost-'));
    t = await startTestServer({ runnerTimeoutMs: 3000 });
    runners = new RunnerProcesses(t, { home: join(work, 'home'), cpu: 4, env: { DSTACK_STOP_GRACE: '2' } });
    project = await RemoteProject.create({ url: t.server.url, token: t.token }, { DSTACK_STOP_GRACE: '2' });
    await project.write({
      '.dstack/workflows.yaml': WORKFLOWS,
      '.dstack/variables.yaml': 'variables:\n  train:\n    epochs: 60\n',
    });
  }, 120_000);
  afterEach(() => runners?.killAll());
  afterAll(async () => {
    await t?.stop();
    await project?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  const jobsOf = async (run: string) => {
    const jobs = await t.server.engine.store.jobsOfRuns([run]);
    return { train: jobs.find((j) => j.workflow === 'train')!, evaluate: jobs.find((j) => j.workflow === 'evaluate')! };
  };
  const logOf = async (id: string) => (await project.dstack(['logs', id])).stdout;

  /** `dstack run evaluate -d` on runner `name`, killed once train has said epoch 20, and failed as lost. */
  async function lostAtEpoch20(name: string, workDir: string): Promise<{ run: string; id: string; said: number[] }> {
    const first = await runners!.start(name, workDir);
    const submitted = await project.dstack(['run', 'evaluate', '--no-cache', '-d']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const run = submitted.stdout.trim();
    const { id } = (await jobsOf(run)).train;
    await waitUntil(async () => epochsSaid(await logOf(id)).includes(20), 60_000);
    first.child.kill('SIGKILL'); // the node process alone: its spawner helper ends the job's processes
    const lost = await waitUntil(async () => {
      const jobs = await jobsOf(run);
      return jobs.evaluate.status === 'FAILED' && jobs;
    }, 30_000);
    expect(lost.train.status).toBe('FAILED');
    expect(lost.train.reason).toMatch(new RegExp(`^${RUNNER_LOST}`));
    expect(lost.evaluate.reason).toBe(`dependency failed: train (${id})`);
    return { run, id, said: epochsSaid(await logOf(id)) };
  }

  it('takes the job back, saves its checkpoint, and dstack resume goes on from it', async () => {
    const workDir = join(work, 'back');
    const { run, id, said } = await lostAtEpoch20('back', workDir);

    const again = await runners!.start('back', workDir);
    const stopped = await waitUntil(
      async () => {
        const jobs = await jobsOf(run);
        return jobs.train.status === 'STOPPED' && jobs;
      },
      30_000,
      async () => again.stderr(),
    );
    expect(stopped.train.reason).toBe(
      `stopped: its runner was lost and came back; its artifacts were saved (dstack resume ${run})`,
    );
    expect(stopped.evaluate.status).toBe('STOPPED');
    expect(stopped.evaluate.reason).toBe(`dependency stopped: train (${id})`);
    expect(again.stderr()).toContain(`job ${id}, failed as lost while this runner was away, is taken back`);
    const notes = (await project.dstack(['logs', id])).stderr;
    expect(notes).toContain('its runner was lost and came back: the job was stopped, as dstack stop stops it');
    const status = await project.dstack(['status', run]);
    expect(status.stdout).toContain('STOPPED');

    const resumed = await project.dstack(['resume', run]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const done = await waitUntil(async () => {
      const jobs = await jobsOf(run);
      return jobs.evaluate.status === 'DONE' && jobs;
    }, 60_000);
    expect(done.train.status).toBe('DONE');
    const log = await logOf(id);
    const from = Number(/^resuming from epoch (\d+)$/gm.exec(log.slice(log.lastIndexOf('resuming')))?.[1]);
    expect(from).toBeGreaterThanOrEqual(said.length);
    expect(epochsSaid(log).slice(-1)).toEqual([60]);
    expect(await logOf(done.evaluate.id)).toContain('evaluated epoch 60');
    expect(again.stderr()).not.toMatch(/ ERROR /);
  }, 180_000);

  it('leaves a lost job a user was aborting failed, and removes its workspace', async () => {
    const workDir = join(work, 'aborted');
    const { run, id } = await lostAtEpoch20('aborted', workDir);
    // As if its abort had been asked for before the loss: the record says so.
    await t.server.engine.store.updateJob(id, 'FAILED', { stopRequest: 'abort' });

    const again = await runners!.start('aborted', workDir);
    await waitUntil(
      async () => again.stderr().includes(`job ${id} a previous runner left behind is not saved`),
      30_000,
    );
    expect(again.stderr()).toContain(`job ${id} is FAILED (${RUNNER_LOST}`);
    expect(again.stderr()).toContain('it is not taken back');
    await waitUntil(async () => !(await stat(join(workDir, 'jobs', id)).catch(() => undefined)), 30_000);
    const jobs = await jobsOf(run);
    expect(jobs.train.status).toBe('FAILED');
    expect(jobs.evaluate.status).toBe('FAILED');
  }, 120_000);

  it('refuses another runner taking the job back', async () => {
    const workDir = join(work, 'other');
    const { id } = await lostAtEpoch20('owner', workDir);
    const token = await issueToken(t.server.engine.store, 'runner', 'intruder', false);
    const answer = await fetch(`${t.server.url}/api/runner/jobs/${id}/take-back`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(answer.status).toBe(403);
    expect(await answer.text()).toContain(`job ${id} is not assigned to this runner`);
  }, 120_000);
});
