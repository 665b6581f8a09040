/**
 * A real server app in process (real SQLite and blob store) holding one job claimed by runner
 * `slurm`, and the one-shot runner that runs it with real processes.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { CodeManifest } from '../../src/core/api.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import type { BatchJob } from '../../src/runner/batch-job-state.js';
import { ProcessExecutor } from '../../src/runner/executors/process-executor.js';
import { ReportingClient, runOneShot } from '../../src/runner/one-shot.js';
import { issueToken } from '../../src/server/auth.js';
import type { Engine } from '../../src/server/engine.js';
import { inProcessFetch } from '../../src/server/in-process-fetch.js';
import { claim } from '../../src/server/scheduler.js';
import { testApp } from '../server/app-fixture.js';
import { jobProcesses } from '../services/processes.js';
import { makeJob, makeRun, makeSpec } from '../store/fixtures.js';

export const JOB = 'a1b2c3d4e5f6';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface Setup {
  /** The job's artifact paths (none by default). */
  artifacts?: string[];
  /** Called before each transition the runner reports reaches the server, with its target status. */
  beforeTransition?: (engine: Engine, to: string) => Promise<void>;
  /** A connection that drops under the first transition (the RUNNING report). */
  dropFirstTransition?: boolean;
  /** How long the server takes to answer the runner's own stop of its job (after a SIGTERM), ms. */
  stopAnswerMs?: number;
  /** A server that does not know a log batch's `then` (one from before it): the parameter never reaches it. */
  noThen?: boolean;
  /** The Slurm batch job the runner runs in (none by default: a runner started by hand). */
  batchJob?: BatchJob;
  /** The runner's logger (silent by default). */
  logger?: Logger;
}

/** A server holding one run whose code is `hello.txt`, and its one job claimed by runner `slurm` (DOWNLOADING). */
export async function serverWithJob(commands: string[], network: Setup = {}) {
  const { dir, engine, app } = await testApp('one-shot');
  const put = async (content: Buffer) => {
    const digest = sha(content);
    await engine.blobs.put(digest, Readable.from([content]));
    return digest;
  };
  const hello = Buffer.from('hello from the code\n');
  const manifest: CodeManifest = {
    files: [{ path: 'hello.txt', size: hello.length, mode: 0o644, digest: await put(hello) }],
  };
  const codeDigest = await put(Buffer.from(JSON.stringify(manifest)));
  const run = makeRun('calm-owl-1', { workflow: 'lat', codeDigest });
  const job = makeJob(run, 'lat', { id: JOB, spec: makeSpec('lat', { commands, artifacts: network.artifacts ?? [] }) });
  await engine.store.createRun(run, [job], 'test');
  await engine.store.upsertRunner({
    name: 'slurm',
    host: 'slurm',
    total: { cpu: 4, memory: 1 << 30, gpus: [] },
    status: 'ACTIVE',
    updatedAt: Date.now(),
    registeredAt: Date.now(),
  });
  expect((await claim(engine, 'slurm', [], 0))?.job.id).toBe(JOB);
  const requests: string[] = [];
  const send = inProcessFetch(app);
  const client = new ReportingClient({
    url: 'http://dstack.test',
    token: await issueToken(engine.store, 'runner', 'slurm', false),
    fetch: (url, init) => {
      const request = `${init.method ?? 'GET'} ${new URL(url).pathname}`;
      requests.push(request);
      const seen = requests.filter((r) => r === request).length;
      // A connection that drops under the RUNNING report (the network, below the client).
      if (network.dropFirstTransition && request.endsWith('/transition') && seen === 1)
        return Promise.reject(new TypeError('fetch failed', { cause: new Error('ECONNRESET') }));
      if (network.beforeTransition && request.endsWith('/transition')) {
        const { to } = JSON.parse(String(init.body)) as { to: string };
        return network.beforeTransition(engine, to).then(() => send(url, init));
      }
      if (network.noThen && request.endsWith('/logs')) return send(url.split('?')[0]!, init);
      if (network.stopAnswerMs && request.endsWith('/stop'))
        return new Promise((r) => setTimeout(r, network.stopAnswerMs)).then(() => send(url, init));
      return send(url, init);
    },
  });
  const workRoot = join(dir, 'work');
  const oneShot = (assignment = client.runnerAssignment(JOB)) =>
    runOneShot({
      client,
      jobId: JOB,
      assignment,
      workRoot,
      executor: new ProcessExecutor(workRoot),
      logger: network.logger ?? silentLogger,
      ...(network.batchJob ? { batchJob: network.batchJob } : {}),
      baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stopGraceMs: 2000,
    });
  return { engine, dir, codeDigest, manifest, client, requests, oneShot };
}

export const statuses = async (engine: Engine) => (await engine.store.events(JOB)).map((e) => e.to);

export const logged = async (engine: Engine) => {
  const lines: string[] = [];
  for await (const entry of engine.logs.entries(JOB)) lines.push(entry.bytes.toString());
  return lines.join('\n');
};

/** What a scancel does: SIGTERM to the job's processes and to the runner (this process) alike. */
export function sigtermAsScancel(): void {
  sigtermJobProcesses();
  process.emit('SIGTERM');
}

/** SIGTERM to the job's processes alone: slurmstepd signals the deepest processes first, the runner last. */
export function sigtermJobProcesses(): void {
  for (const pid of jobProcesses(JOB)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; // a `sleep` or `touch` that just ended
    }
  }
}
