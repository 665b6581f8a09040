/**
 * A `dstack runner start` killed (SIGKILL) while its job prints fast, and started again on its
 * work dir: the job's log keeps every line the runner had read, once, in order, with no gap.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../services/server.js';
import { waitUntil } from './harness.js';
import { RemoteProject } from './remote.js';
import { RunnerProcesses } from './runner-processes.js';

// Numbered lines as fast as python prints them (about 200,000 a second here).
const PRINTER = `python3 -u -c "import itertools, sys; [sys.stdout.write(f'{i}\\n') for i in itertools.count(1)]"`;

describe('a runner killed while its job prints fast', () => {
  let t: TestServer;
  let project: RemoteProject;
  let work: string;
  let runners: RunnerProcesses | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dstack-killed-logs-'));
    t = await startTestServer();
    runners = new RunnerProcesses(t, { home: join(work, 'home'), cpu: 2, env: { DSTACK_STOP_GRACE: '2' } });
    project = await RemoteProject.create({ url: t.server.url, token: t.token });
    await project.write({
      '.dstack/workflows.yaml': `workflows:\n  - name: chatty\n    commands:\n      - ${JSON.stringify(PRINTER)}\n`,
    });
  }, 60_000);
  afterEach(() => runners?.killAll());
  afterAll(async () => {
    await t?.stop();
    await project?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('keeps every line its runner read, once and in order, once started again', async () => {
    const workDir = join(work, 'runner');
    const first = await runners!.start('chatty', workDir);
    const submitted = await project.dstack(['run', 'chatty', '--no-cache', '-d']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const run = submitted.stdout.trim();
    const jobOf = async () => (await t.server.engine.store.jobsOfRuns([run]))[0]!;
    await waitUntil(async () => (await jobOf()).status === 'RUNNING', 30_000);
    await sleep(3000);
    first.child.kill('SIGKILL');
    await runners!.start('chatty', workDir);
    const ended = await waitUntil(async () => {
      const job = await jobOf();
      return ['STOPPED', 'FAILED', 'DONE'].includes(job.status) && job;
    }, 60_000);
    const logs = await project.dstack(['logs', ended.id], 300_000);
    const numbers = logs.stdout
      .split('\n')
      .filter((l) => /^\d+$/.test(l))
      .map(Number);
    expect(ended.status).toBe('STOPPED');
    expect(numbers.length).toBeGreaterThan(10_000);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
  }, 240_000);
});
