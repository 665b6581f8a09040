/**
 * A job its runner no longer has does not stay RUNNING: a registered runner's heartbeats list
 * every job it holds, and one they leave out (its final report gave up on a server whose log
 * storage stayed full) fails, saying so. First through the routes, then with a real runner,
 * a real job process and a log store whose writes get ENOSPC.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RunnerClient } from '../../src/client/runner-client.js';
import { RUNNER_DROPPED } from '../../src/core/job-status.js';
import { createLogger } from '../../src/logger.js';
import { RunnerAgent } from '../../src/runner/agent.js';
import { ProcessExecutor } from '../../src/runner/executors/process-executor.js';
import { LogShipper } from '../../src/runner/log-shipper.js';
import { issueToken } from '../../src/server/auth.js';
import type { Engine } from '../../src/server/engine.js';
import { submitRun } from '../../src/server/submit.js';
import { startTestServer } from '../services/server.js';
import { makeJob, makeRun, makeSpec } from '../store/fixtures.js';
import { callApi, testApp, type TestApp } from './app-fixture.js';

const total = { cpu: 2, memory: 1 << 30, gpus: [] };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a heartbeat that leaves out a job the server has running on its runner', () => {
  let app: TestApp;
  let engine: Engine;
  let token: string;
  const beat = (jobIds: string[], session: string | undefined = 's1') =>
    callApi(app, token, 'POST', '/api/runner/heartbeat', { name: 'r1', session, jobIds, waitMs: 0 });
  const status = async (id: string) => (await engine.store.getJob(id))!;

  /** A job on r1 in `status`, as its runner's reports left it. */
  const jobOnRunner = async (id: string, to: 'RUNNING' | 'UPLOADING' | 'DOWNLOADING' = 'RUNNING') => {
    const run = makeRun(`run-${id}`);
    await engine.store.createRun(run, [makeJob(run, 'a', { id })], 'test');
    await engine.transition(id, 'SUBMITTED', 'DOWNLOADING', { runner: 'r1' }, 'test');
    if (to !== 'DOWNLOADING') await engine.transition(id, 'DOWNLOADING', 'RUNNING', {}, 'test');
    if (to === 'UPLOADING') await engine.transition(id, 'RUNNING', 'UPLOADING', {}, 'test');
  };

  beforeEach(async () => {
    ({ engine, app } = await testApp('dropped-jobs'));
    engine.heartbeatMs = 200;
    token = await issueToken(engine.store, 'runner', 'r1', false);
    const r = await callApi(app, token, 'POST', '/api/runner/register', {
      name: 'r1',
      session: 's1',
      host: 'h1',
      total,
      jobIds: [],
    });
    expect(r.status).toBe(200);
  });

  it('fails it once heartbeats a heartbeat interval apart have left it out, saying the runner no longer has it', async () => {
    await jobOnRunner('aaaaaaaaaaa1');
    await jobOnRunner('aaaaaaaaaaa2', 'UPLOADING');
    expect((await beat([])).status).toBe(200);
    expect((await beat([])).status).toBe(200); // at once: a heartbeat sent before the runner had them could say as much
    expect((await status('aaaaaaaaaaa1')).status).toBe('RUNNING');
    await sleep(250);
    expect(await beat([])).toEqual({ status: 200, json: { commands: [] } });
    for (const id of ['aaaaaaaaaaa1', 'aaaaaaaaaaa2']) {
      expect(await status(id)).toMatchObject({ status: 'FAILED', reason: RUNNER_DROPPED });
    }
    expect(RUNNER_DROPPED).toBe(
      "runner no longer has the job: how it ended never reached the server; see the runner's log",
    );
  });

  it('keeps a job that a heartbeat between lists: the one that left it out was sent before the runner had it', async () => {
    await jobOnRunner('bbbbbbbbbbb1');
    await beat([]);
    await beat(['bbbbbbbbbbb1']);
    await sleep(250);
    await beat([]); // a first miss again, not the second
    expect((await status('bbbbbbbbbbb1')).status).toBe('RUNNING');
  });

  it("leaves a job in DOWNLOADING to the runner's next claim, and a heartbeat without a session (one job's runner exec) fails nothing", async () => {
    await jobOnRunner('ccccccccccc1', 'DOWNLOADING');
    await jobOnRunner('ccccccccccc2');
    await beat([], undefined); // a `runner exec` of another job of r1: it lists its own job only
    await beat([]);
    await sleep(250);
    await beat([]);
    expect((await status('ccccccccccc1')).status).toBe('DOWNLOADING');
    expect((await status('ccccccccccc2')).status).toBe('FAILED');
  });
});

describe('a job whose final report cannot land on a server whose log storage is full', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('ends FAILED once the runner gives up reporting it, not RUNNING for good', async () => {
    const t = await startTestServer();
    cleanup.push(() => t.stop());
    const { engine } = t.server;
    engine.heartbeatMs = 300;
    const manifest = JSON.stringify({ files: [] });
    const codeDigest = createHash('sha256').update(manifest).digest('hex');
    await engine.blobs.put(codeDigest, Readable.from([Buffer.from(manifest)]));
    const run = await submitRun(engine, 'admin', {
      workflow: 'a',
      overrides: {},
      repo: { root: '/' },
      codeDigest,
      jobs: [makeSpec('a', { commands: ['sleep 0.5', 'echo finished'] })],
    });
    const id = run.jobs[0]!.id;
    // Its log's every write is refused as a full disk's: /dev/full answers each with ENOSPC.
    await mkdir(join(t.dataDir, 'logs'), { recursive: true });
    await symlink('/dev/full', join(t.dataDir, 'logs', `${id}.log`));

    const workRoot = await mkdtemp(join(tmpdir(), 'dstack-dropped-'));
    cleanup.push(() => rm(workRoot, { recursive: true, force: true }));
    const logged: string[] = [];
    const logger = createLogger('test', 'info', (line) => logged.push(line));
    // How long the runner tries to report the job's end, made short: each request is retried for
    // two minutes and a job's last output for five, then its FAILED for five more.
    const close = LogShipper.prototype.close;
    vi.spyOn(LogShipper.prototype, 'close').mockImplementation(function (this: LogShipper, _timeoutMs, last) {
      return close.call(this, 300, last);
    });
    cleanup.push(async () => vi.restoreAllMocks());
    const agent = new RunnerAgent({
      client: new RunnerClient({
        url: t.server.url,
        token: await issueToken(engine.store, 'runner', 'r1', false),
        retry: { forMs: 300 },
      }),
      name: 'r1',
      workRoot,
      capacity: total,
      executor: new ProcessExecutor(workRoot),
      logger,
      baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stopGraceMs: 1000,
    });
    await agent.start();
    cleanup.push(() => agent.stop());

    let job = await engine.store.getJob(id);
    for (let waited = 0; job?.status !== 'FAILED' && waited < 20_000; waited += 100) {
      await sleep(100);
      job = await engine.store.getJob(id);
    }
    expect(job).toMatchObject({ status: 'FAILED', reason: RUNNER_DROPPED, startedAt: expect.any(Number) });
    // The runner's log says why: the server's storage was full.
    expect(logged.join('\n')).toContain("the server's storage is full (no space left on device)");
  }, 30_000);
});
