/** A real server and one runner's job runs on it, without the agent around them (no heartbeat: a test tells a run of a stop). */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { RunnerClient } from '../../src/client/runner-client.js';
import type { RetryPolicy } from '../../src/client/retry.js';
import type { JobSpec } from '../../src/core/job-spec.js';
import { createLogger } from '../../src/logger.js';
import { ProcessExecutor } from '../../src/runner/executors/process-executor.js';
import { JobRun } from '../../src/runner/job-run.js';
import { issueToken } from '../../src/server/auth.js';
import { submitRun } from '../../src/server/submit.js';
import { startTestServer } from '../services/server.js';

/**
 * A real server with one run of `specs` (dependencies first) and runner r1 registered: `claim`
 * gives the next job the scheduler hands it, as a job run not yet started. `retry`: the runner's
 * client retries through failures as a runner's does (none by default). `workRoot`: the runner's
 * work dir (a fresh temporary folder by default, removed after). `hostJobs: false`: a runner
 * started with --no-host-jobs, which registered as an older one (what an older server hears).
 */
export async function testRunner(
  specs: JobSpec[],
  cleanup: (() => Promise<unknown>)[],
  options: { retry?: RetryPolicy; workRoot?: string; hostJobs?: boolean } = {},
) {
  const t = await startTestServer();
  cleanup.push(() => t.stop());
  const workRoot = options.workRoot ?? (await mkdtemp(join(tmpdir(), 'dstack-job-run-')));
  if (options.workRoot === undefined) cleanup.push(() => rm(workRoot, { recursive: true, force: true }));
  const engine = t.server.engine;
  const manifest = JSON.stringify({ files: [] });
  const codeDigest = createHash('sha256').update(manifest).digest('hex');
  await engine.blobs.put(codeDigest, Readable.from([Buffer.from(manifest)]));
  await submitRun(engine, 'admin', {
    workflow: specs.at(-1)!.workflow,
    overrides: {},
    repo: { root: '/' },
    codeDigest,
    jobs: specs,
  });
  const token = await issueToken(engine.store, 'runner', 'r1', false);
  const client = new RunnerClient({ url: t.server.url, token, ...(options.retry && { retry: options.retry }) });
  await client.registerRunner({
    name: 'r1',
    host: hostname(),
    total: { cpu: 2, memory: 1 << 30, gpus: [] },
    jobIds: [],
  });
  const logged: string[] = [];
  const context = {
    client,
    executor: new ProcessExecutor(workRoot),
    workRoot,
    logger: createLogger('test', 'info', (line) => logged.push(line)),
    baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stopGraceMs: 1000,
    ...(options.hostJobs === undefined ? {} : { hostJobs: options.hostJobs }),
  };
  const claim = async () => {
    const assignment = (await client.claim({ name: 'r1', jobIds: [], waitMs: 5000 }))!;
    return { id: assignment.job.id, assignment, run: new JobRun(context, assignment) };
  };
  /** The job's log as its reader sees it: each entry's lines, a newline after those that are whole. */
  const log = async (id: string) => {
    const page = await engine.logs.page(id, {}, { maxEntries: 10_000, maxBytes: 1 << 20 });
    return page.entries.map((e) => e.bytes.toString() + (e.partial ? '' : '\n')).join('');
  };
  return { engine, workRoot, logged, claim, log };
}

/**
 * A real server with one submitted job of `spec`, claimed by runner r1: the job's run on this
 * runner, not started, with its id, the server's engine and the runner's log lines.
 */
export async function claimedJob(
  spec: JobSpec,
  cleanup: (() => Promise<unknown>)[],
  options: { workRoot?: string; hostJobs?: boolean } = {},
) {
  const runner = await testRunner([spec], cleanup, options);
  return { ...runner, ...(await runner.claim()) };
}
