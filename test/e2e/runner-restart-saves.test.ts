/**
 * A `dstack runner start` process killed (SIGKILL) mid-job and started again on its work dir:
 * the job whose workspace it finds is stopped as `dstack stop` stops it, its checkpoint saved,
 * and `dstack resume` goes on from it, with no log line the runner had read lost. A job whose
 * workspace is gone fails, saying what it was doing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FetchLike } from '../../src/client/http.js';
import { RunnerClient } from '../../src/client/runner-client.js';
import { createLogger } from '../../src/logger.js';
import { RunnerAgent } from '../../src/runner/agent.js';
import { ProcessExecutor } from '../../src/runner/executors/process-executor.js';
import { issueToken } from '../../src/server/auth.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { epochsSaid, epochsWorkflow } from './checkpointing.js';
import { waitUntil } from './harness.js';
import { RemoteProject } from './remote.js';
import { RunnerProcesses } from './runner-processes.js';

const WORKFLOWS = `workflows:
${epochsWorkflow('train')}`;

describe('a runner killed mid-job and started again', () => {
  let t: TestServer;
  let project: RemoteProject;
  let work: string;
  let runners: RunnerProcesses | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dstack-runner-restart-'));
    t = await startTestServer();
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

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const jobOf = async (run: string) => (await t.server.engine.store.jobsOfRuns([run]))[0]!;
  const logOf = async (id: string) => (await project.dstack(['logs', id])).stdout;

  /** `dstack run train -d` on `runner`'s machine, once its job has said epoch 20: the run's name and job. */
  async function trainTo20(): Promise<{ run: string; id: string }> {
    const submitted = await project.dstack(['run', 'train', '--no-cache', '-d']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const run = submitted.stdout.trim();
    const { id } = await jobOf(run);
    await waitUntil(async () => epochsSaid(await logOf(id)).includes(20), 60_000);
    return { run, id };
  }

  it('stops the job with its checkpoint saved, and dstack resume goes on from it', async () => {
    const workDir = join(work, 'saves');
    const first = await runners!.start('saves', workDir);
    const { run, id } = await trainTo20();
    first.child.kill('SIGKILL'); // the node process alone: its spawner helper ends the job's processes

    const again = await runners!.start('saves', workDir);
    const stopped = await waitUntil(async () => {
      const job = await jobOf(run);
      return job.status === 'STOPPED' && job;
    }, 30_000);
    expect(stopped.reason).toBe(`stopped: its runner restarted; its artifacts were saved (dstack resume ${run})`);
    expect(again.stderr()).toContain('stopping 1 job a previous runner left running; saving their artifacts');
    expect(again.stderr()).not.toContain('left behind');
    const before = await logOf(id);
    const said = epochsSaid(before);
    // Every epoch line the job printed before the kill is there, once, in order.
    expect(said.length).toBeGreaterThanOrEqual(20);
    expect(said).toEqual(said.map((_, i) => i + 1));
    // The runner's notes, on the job's stderr.
    const notes = (await project.dstack(['logs', id])).stderr;
    expect(notes).toContain('its runner restarted: the job was stopped, as dstack stop stops it');
    expect(notes).toContain('stopped; saving artifacts');

    const resumed = await project.dstack(['resume', run]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const done = await waitUntil(async () => {
      const job = await jobOf(run);
      return job.status === 'DONE' && job;
    }, 60_000);
    expect(done.reason).toBe('exit code 0');
    const log = await logOf(id);
    const from = Number(/^resuming from epoch (\d+)$/gm.exec(log.slice(before.length))?.[1]);
    expect([said.length, said.length + 1]).toContain(from); // the checkpoint: the last epoch said, or one past it
    expect(epochsSaid(log)).toEqual([...said, ...Array.from({ length: 60 - from }, (_, i) => from + 1 + i)]);
    expect(again.stderr()).not.toMatch(/ ERROR /);
  }, 180_000);

  it('keeps the checkpoint when the server is out of reach as it takes the job up, and saves it once back', async () => {
    const workDir = join(work, 'waits');
    const first = await runners!.start('waits', workDir);
    const { run } = await trainTo20();
    first.child.kill('SIGKILL');
    await waitUntil(async () => !alive(first.child.pid!));

    // The same runner started again in this process, its server out of reach for the job's
    // assignment for a second: longer than its client's retries (made short).
    const logged: string[] = [];
    // From its first ask, not from here: a loaded machine may take longer than that to start it.
    let since: number | undefined;
    const unreachable: FetchLike = (url, init) => {
      if (url.endsWith('/assignment') && Date.now() - (since ??= Date.now()) < 1000) {
        return Promise.reject(
          new TypeError('fetch failed', {
            cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
          }),
        );
      }
      return fetch(url, init);
    };
    const agent = new RunnerAgent({
      client: new RunnerClient({
        url: t.server.url,
        token: await issueToken(t.server.engine.store, 'runner', 'waits', false),
        retry: { forMs: 200 },
        fetch: unreachable,
      }),
      name: 'waits',
      workRoot: workDir,
      capacity: { cpu: 4, memory: 4 << 30, gpus: [] },
      executor: new ProcessExecutor(workDir),
      logger: createLogger('test', 'info', (line) => logged.push(line)),
      baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stopGraceMs: 2000,
      pollMs: 200,
    });
    try {
      await agent.start();
      const stopped = await waitUntil(
        async () => {
          const job = await jobOf(run);
          return job.status === 'STOPPED' && job;
        },
        30_000,
        async () => `${(await jobOf(run)).status}\n${logged.join('\n')}`,
      );
      expect(stopped.reason).toBe(`stopped: its runner restarted; its artifacts were saved (dstack resume ${run})`);
      expect(logged.join('\n')).toMatch(/job \w+ a previous runner left behind waits to be saved: /);
      expect((await project.dstack(['artifacts', stopped.id])).stdout).toMatch(/checkpoint\/epoch/);
    } finally {
      await agent.stop();
    }
  }, 180_000);

  it('fails the job, saying it was running, when its workspace is gone', async () => {
    const workDir = join(work, 'gone');
    const first = await runners!.start('gone', workDir);
    const { run, id } = await trainTo20();
    first.child.kill('SIGKILL');
    await waitUntil(async () => {
      try {
        process.kill(first.child.pid!, 0);
        return false;
      } catch {
        return true;
      }
    });
    await rm(join(workDir, 'jobs', id, 'workspace'), { recursive: true, force: true });

    const again = await runners!.start('gone', workDir);
    const failed = await waitUntil(
      async () => {
        const job = await jobOf(run);
        return job.status === 'FAILED' && job;
      },
      30_000,
      async () => `${(await jobOf(run)).status}\n${again.stderr()}`,
    );
    expect(failed.reason).toBe('runner restarted: the job was running when it stopped');
    expect(again.stderr()).toContain('ended 1 job a previous runner left behind');
    const resume = await project.dstack(['resume', run]);
    expect(resume.code).toBe(1);
  }, 120_000);
});
