/**
 * `dstack runner start` processes as users run them, against what a crash-resilience review
 * found: a runner whose disk fills up (its work dir on a 20 MB tmpfs) reports its job's output
 * and end and goes on to the next job; a runner killed outright keeps the output it had read
 * without its newline yet.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FILLDISK_WORKFLOW, mountTmpfs } from '../fixtures/small-disk.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { waitUntil } from './harness.js';
import { RemoteProject } from './remote.js';
import { RunnerProcesses } from './runner-processes.js';

const WORKFLOWS = `workflows:
${FILLDISK_WORKFLOW}  - name: hello
    commands:
      - echo hello from a runner with room again
  - name: partial
    commands:
      - echo first line; printf 'PARTIAL-XYZ'; sleep 30
`;

describe('a runner process', () => {
  let t: TestServer;
  let project: RemoteProject;
  let work: string;
  let runners: RunnerProcesses | undefined;
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dstack-runner-disk-'));
    t = await startTestServer();
    runners = new RunnerProcesses(t, { home: join(work, 'home'), cpu: 2 });
    project = await RemoteProject.create({ url: t.server.url, token: t.token });
    await project.write({ '.dstack/workflows.yaml': WORKFLOWS });
  }, 120_000);
  afterEach(async () => {
    runners?.killAll();
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  afterAll(async () => {
    await t?.stop();
    await project?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  const jobOf = async (run: string) => (await t.server.engine.store.jobsOfRuns([run]))[0]!;
  /** The run's name in `dstack run`'s output. */
  const runName = (stdout: string) => /\b([a-z]+-[a-z]+-\d+)\b/.exec(stdout)?.[1];

  it('whose disk fills up reports the job’s every line and its exit code, frees the disk, and runs the next job', async () => {
    const disk = await mountTmpfs(20, cleanup);
    const runner = await runners!.start('small-disk', join(disk, 'w'));

    const filled = await project.dstack(['run', 'filldisk', '--no-cache'], 90_000);
    const lines = filled.stdout.split('\n');
    expect(lines).toContain('DISK FULL');
    expect(lines.filter((l) => /^\d+$/.test(l)).map(Number)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    const job = await jobOf(runName(filled.stdout + filled.stderr)!);
    expect([job.status, job.reason, job.exitCode]).toEqual(['FAILED', 'exit code 3', 3]);
    expect(runner.stderr()).toContain("the job's log could not be spooled to disk");
    expect(runner.stderr()).not.toContain('failed in the runner');

    // The job's folder is given back: the next job runs in the space it took.
    const hello = await project.dstack(['run', 'hello', '--no-cache'], 60_000);
    expect(hello.code, hello.stderr).toBe(0);
    expect(hello.stdout).toContain('hello from a runner with room again');
  }, 180_000);

  it('killed outright keeps the output it had read without its newline', async () => {
    const workDir = join(work, 'partial');
    const first = await runners!.start('partial', workDir);
    const submitted = await project.dstack(['run', 'partial', '--no-cache', '-d']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const run = submitted.stdout.trim();
    const { id } = await jobOf(run);
    // The line before it reached the server (its first send, 200 ms after it was read): the
    // partial line, written right after it, waits for its newline or a second to be sent.
    await waitUntil(async () => (await project.dstack(['logs', id])).stdout.includes('first line'), 30_000);
    await new Promise((r) => setTimeout(r, 300));
    first.child.kill('SIGKILL');

    await runners!.start('partial', workDir); // takes the job up: stops it, sending what its spool holds
    await waitUntil(async () => (await jobOf(run)).status === 'STOPPED', 30_000);
    const log = await project.dstack(['logs', id]);
    expect(log.stdout).toMatch(/^first line\nPARTIAL-XYZ/);
  }, 120_000);
});
