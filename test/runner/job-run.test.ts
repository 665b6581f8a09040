/** A job run on a runner against a real server, without the agent around it (no heartbeat to end it). */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Client } from '../../src/client/client.js';
import { createLogger } from '../../src/logger.js';
import { ProcessExecutor } from '../../src/runner/executors/process-executor.js';
import { JobRun } from '../../src/runner/job-run.js';
import { issueToken } from '../../src/server/auth.js';
import { stopJobs } from '../../src/server/control.js';
import { submitRun } from '../../src/server/submit.js';
import { jobProcesses } from '../services/processes.js';
import { startTestServer } from '../services/server.js';
import type { JobSpec } from '../../src/core/job-spec.js';
import { makeSpec } from '../store/fixtures.js';

/**
 * A real server with one submitted job of `spec`, claimed by runner r1: the job's run on this
 * runner, not started, with its id, the server's engine and the runner's log lines.
 */
async function claimedJob(spec: JobSpec, cleanup: (() => Promise<unknown>)[]) {
  const t = await startTestServer();
  cleanup.push(() => t.stop());
  const workRoot = await mkdtemp(join(tmpdir(), 'dstack-job-run-'));
  cleanup.push(() => rm(workRoot, { recursive: true, force: true }));
  const engine = t.server.engine;
  const manifest = JSON.stringify({ files: [] });
  const codeDigest = createHash('sha256').update(manifest).digest('hex');
  await engine.blobs.put(codeDigest, Readable.from([Buffer.from(manifest)]));
  await submitRun(engine, 'admin', {
    workflow: spec.workflow,
    overrides: {},
    repo: { root: '/' },
    codeDigest,
    jobs: [spec],
  });
  const client = new Client({ url: t.server.url, token: await issueToken(engine.store, 'runner', 'r1', false) });
  await client.registerRunner({
    name: 'r1',
    host: hostname(),
    total: { cpu: 2, memory: 1 << 30, gpus: [] },
    jobIds: [],
  });
  const assignment = (await client.claim({ name: 'r1', jobIds: [], waitMs: 5000 }))!;
  const logged: string[] = [];
  const context = {
    client,
    executor: new ProcessExecutor(workRoot),
    workRoot,
    logger: createLogger('test', 'info', (line) => logged.push(line)),
    baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stopGraceMs: 1000,
  };
  return { engine, workRoot, id: assignment.job.id, logged, run: new JobRun(context, assignment) };
}

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
    const { engine, id, run } = await claimedJob(spec, cleanup);
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
    const page = await engine.logs.page(id, {}, { maxEntries: 10_000, maxBytes: 1 << 20 });
    const log = page.entries.map((e) => e.bytes.toString()).join('');
    expect(log).toContain('[dstack] aborted while saving artifacts: none are kept');
    expect(log).not.toContain('saved artifacts');
  });
});
