/** A job run on a runner against a real server, without the agent around it (no heartbeat to end it). */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProcessExecutor } from '../../src/runner/executors/process-executor.js';
import { jobTarget } from '../../src/runner/job-target.js';
import { stopJobs } from '../../src/server/control.js';
import { jobProcesses } from '../services/processes.js';
import { makeSpec } from '../store/fixtures.js';
import { claimedJob } from './claimed-job.js';

describe('a job whose pid file cannot be written', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('is ended, not left where a restarted runner could not find it, and fails saying why', async () => {
    const { engine, workRoot, id, logged, run } = await claimedJob(
      makeSpec('long', { commands: ['sleep 600'] }),
      cleanup,
    );
    // A folder where the runner writes the job's pid file.
    await mkdir(join(workRoot, 'jobs', id, 'pid'), { recursive: true });
    await run.run();

    const job = await engine.store.getJob(id);
    expect(job?.status).toBe('FAILED');
    expect(job?.reason).toMatch(/^runner error: EISDIR: illegal operation on a directory, open '.*\/pid'$/);
    expect(logged.some((l) => l.includes(`job ${id} failed in the runner`) && l.includes('EISDIR'))).toBe(true);
    await vi.waitFor(() => expect(jobProcesses(id)).toEqual([]), { timeout: 5000, interval: 100 });
  });
});

describe('a job aborted while it saves its artifacts', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('stops the upload and keeps no manifest: an abort saves nothing', async () => {
    // 256 MB in 4,000 files: several packs over HTTP, with a check for the abort before each.
    const write = `import os\nos.makedirs('out')\nfor i in range(4000):\n  open(f'out/f{i}', 'wb').write(os.urandom(65536))`;
    const spec = makeSpec('save', { commands: [`python3 -c "${write}"`], artifacts: ['out'] });
    const { engine, id, run, log } = await claimedJob(spec, cleanup);
    const ran = run.run();
    await vi.waitFor(async () => expect((await engine.store.getJob(id))?.status).toBe('UPLOADING'), {
      timeout: 30_000,
      interval: 2,
    });
    // What `dstack stop --abort` does, and what the runner's heartbeat then hears.
    await stopJobs(engine, [(await engine.store.getJob(id))!], { abort: true, actor: 'user:admin' });
    run.request('abort');
    await ran;

    const job = await engine.store.getJob(id);
    expect([job?.status, job?.reason]).toEqual(['ABORTED', 'aborted by user']);
    expect(await engine.store.getArtifacts(id)).toBeUndefined();
    const text = await log(id);
    expect(text).toContain('[dstack] aborted while saving artifacts: none are kept');
    expect(text).not.toContain('saved artifacts');
  });
});

describe('a running job aborted by an admin', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it("ends ABORTED with the abort's reason, not the runner's 'aborted by user'", async () => {
    const { engine, id, run } = await claimedJob(makeSpec('long', { commands: ['sleep 600'] }), cleanup);
    const ran = run.run();
    await vi.waitFor(async () => expect((await engine.store.getJob(id))?.status).toBe('RUNNING'), {
      timeout: 10_000,
      interval: 20,
    });
    const running = (await engine.store.getJob(id))!;
    await stopJobs(engine, [running], { abort: true, actor: 'user:root', reason: 'aborted by admin (root)' });
    run.request('abort');
    await ran;
    const job = await engine.store.getJob(id);
    expect([job?.status, job?.reason]).toEqual(['ABORTED', 'aborted by admin (root)']);
  });
});

describe('a running job whose runner is deleted', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('ends without a failure line or a stack: a refused token is expected, not a bug', async () => {
    const { engine, id, run, logged } = await claimedJob(makeSpec('long', { commands: ['sleep 600'] }), cleanup);
    const ran = run.run();
    await vi.waitFor(async () => expect((await engine.store.getJob(id))?.status).toBe('RUNNING'), {
      timeout: 10_000,
      interval: 20,
    });
    // What `dstack runners delete r1` does; the agent, refused at its next heartbeat, aborts the job.
    await engine.store.deleteTokens('runner', 'r1');
    await engine.failJobsOf('r1', 'runner deleted', 'user:root');
    run.request('abort');
    // Bounded: before, the failure it then tried to report was refused, its last log lines retried for ever.
    const ended = await Promise.race([ran.then(() => true), new Promise((r) => setTimeout(() => r(false), 8000))]);
    expect(logged.filter((l) => l.includes('ERROR'))).toEqual([]);
    expect(
      logged.some((l) => l.includes(`job ${id} ended here unreported: the server refuses this runner's token`)),
    ).toBe(true);
    expect(ended).toBe(true);
    expect((await engine.store.getJob(id))?.reason).toBe('runner deleted');
    await vi.waitFor(() => expect(jobProcesses(id)).toEqual([]), { timeout: 5000, interval: 100 });
  });
});

describe('a host job that reaches a runner started with --no-host-jobs (from an older server)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('fails saying why, its commands never run', async () => {
    const marker = join(tmpdir(), `dstack-host-job-${process.pid}-${Date.now()}`);
    const spec = makeSpec('host', { commands: [`touch ${marker}`] });
    const { engine, id, run, log, logged } = await claimedJob(spec, cleanup, { hostJobs: false });
    await run.run();
    const job = await engine.store.getJob(id);
    const why =
      "this runner runs only jobs in containers (dstack runner start --no-host-jobs), and this job has no 'image:': " +
      'give it one, or run it where a runner without --no-host-jobs is';
    expect([job?.status, job?.reason]).toEqual(['FAILED', why]);
    expect(existsSync(marker)).toBe(false);
    expect(await log(id)).toContain(`[dstack] ${why}`);
    expect(logged.some((l) => l.includes(`job ${id} failed: it has no image, and this runner runs no host jobs`))).toBe(
      true,
    );
  });

  it("fails a curl job without fetching: the runner would download from its host's network", async () => {
    let requests = 0;
    const loopbackOnly = createServer((_req, res) => void (requests++, res.end('host secret')));
    await new Promise<void>((resolve) => loopbackOnly.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = loopbackOnly.address() as AddressInfo;
      const params = { url: `http://127.0.0.1:${port}/meta`, output: 'meta.txt' };
      const spec = makeSpec('fetch', { provider: 'curl', commands: [], params });
      const { engine, id, run } = await claimedJob(spec, cleanup, { hostJobs: false });
      await run.run();
      const job = await engine.store.getJob(id);
      expect([job?.status, job?.reason]).toEqual([
        'FAILED',
        "this runner runs only jobs in containers (dstack runner start --no-host-jobs), and this job has no 'image:': " +
          'give it one, or run it where a runner without --no-host-jobs is',
      ]);
      expect(requests).toBe(0);
    } finally {
      loopbackOnly.close();
    }
  });

  it('is refused where any launcher would start its commands on the host', async () => {
    const marker = join(tmpdir(), `dstack-host-job-${process.pid}-${Date.now()}`);
    const { assignment, workRoot } = await claimedJob(makeSpec('host'), cleanup, { hostJobs: false });
    const ctx = {
      assignment,
      workspace: workRoot,
      workRoot,
      hostExecutor: new ProcessExecutor(workRoot),
      baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      onOutput: () => {},
      note: () => {},
      signal: new AbortController().signal,
      hostJobs: false,
    };
    await expect(jobTarget(ctx, undefined).start([`touch ${marker}`])).rejects.toThrow(
      "this runner runs only jobs in containers (dstack runner start --no-host-jobs), and this job has no 'image:'",
    );
    expect(existsSync(marker)).toBe(false);
  });
});
