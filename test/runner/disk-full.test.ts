/**
 * A runner whose disk fills up (a real tmpfs of a few MB as its work dir): its jobs still send
 * their output, end as they would have, obey stop, and give the space back; a download that
 * cannot be written fails the job saying the disk is full.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stopJobs } from '../../src/server/control.js';
import { jobProcesses } from '../services/processes.js';
import { mountTmpfs } from '../fixtures/small-disk.js';
import { makeSpec } from '../store/fixtures.js';
import { claimedJob, testRunner } from './claimed-job.js';

const execFileAsync = promisify(execFile);

/** `run` settled within `ms`, or an error saying what the job was doing then. */
async function endsWithin(run: Promise<unknown>, ms: number, what: () => Promise<string>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const ended = await Promise.race([run.then(() => true), late]);
  clearTimeout(timer);
  if (!ended) throw new Error(`the job did not end within ${ms / 1000} s: ${await what()}`);
}

/** The runner's `jobs` folder: a job's folder is gone once its space is given back. */
const jobFolders = (workRoot: string) => readdir(join(workRoot, 'jobs')).catch(() => [] as string[]);

/** The runner's log says once that the spool could not be written, however many writes failed. */
const SPOOL_WARNING = /WARN .*the job's log could not be spooled to disk .*; its lines are sent from memory/;

describe('a runner whose disk is full', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('sends every line of a job that filled it, ends it with its own exit code, and frees the space', async () => {
    const workRoot = await mountTmpfs(4, cleanup);
    const spec = makeSpec('filldisk', {
      commands: ['seq 1 1000', 'head -c 100000000 /dev/zero > junk.bin || echo "DISK FULL"', 'seq 1001 3000', 'exit 3'],
      artifacts: ['junk.bin'],
    });
    const { engine, id, run, log, logged } = await claimedJob(spec, cleanup, { workRoot });
    // Whether the job's workspace is still there as its end is reported (its spool stays until then): that report lets the
    // runner take its next job, which needs the room.
    const folderAtEnd: boolean[] = [];
    const transition = engine.store.transition.bind(engine.store);
    engine.store.transition = (jobId, from, to, ...rest) => {
      if (jobId === id && to === 'FAILED') folderAtEnd.push(existsSync(join(workRoot, 'jobs', id, 'workspace')));
      return transition(jobId, from, to, ...rest);
    };
    const status = async () =>
      `${JSON.stringify(await engine.store.getJob(id))}\n${await log(id)}\n${logged.join('\n')}`;
    await endsWithin(run.run(), 60_000, status);

    const job = await engine.store.getJob(id);
    expect([job?.status, job?.reason, job?.exitCode]).toEqual(['FAILED', 'exit code 3', 3]);
    expect((await engine.store.events(id)).map((e) => e.to)).toEqual([
      'SUBMITTED',
      'DOWNLOADING',
      'RUNNING',
      'UPLOADING',
      'FAILED',
    ]);
    const text = await log(id);
    const lines = text.split('\n');
    expect(lines).toContain('DISK FULL');
    expect(text).toMatch(/No space left on device/);
    const numbers = lines.filter((l) => /^\d+$/.test(l)).map(Number);
    expect(numbers).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1)); // every one, once, in order
    // Its artifact, what the disk took of it, is saved as any failed job's.
    expect((await engine.store.getArtifacts(id))?.artifacts[0]?.files.map((f) => f.path)).toEqual(['junk.bin']);
    expect(folderAtEnd).toEqual([false]);
    expect(await jobFolders(workRoot)).toEqual([]);
    expect(logged.filter((l) => SPOOL_WARNING.test(l))).toHaveLength(1);
    expect(logged.filter((l) => l.includes('failed in the runner'))).toEqual([]);
  }, 90_000);

  it.each([
    ['stop', 'stop', 'STOPPED', 'stopped by user'],
    ['stop --abort', 'abort', 'ABORTED', 'aborted by user'],
  ] as const)(
    'ends a job that filled it as dstack %s does, its output sent',
    async (_, action, status, reason) => {
      const workRoot = await mountTmpfs(4, cleanup);
      const spec = makeSpec('fillwait', {
        commands: ['head -c 100000000 /dev/zero > junk.bin || echo filled', 'seq 1 500', 'sleep 600'],
      });
      const { engine, id, run, log, logged } = await claimedJob(spec, cleanup, { workRoot });
      const ran = run.run();
      const seen = async () =>
        `${JSON.stringify(await engine.store.getJob(id))}\n${await log(id)}\n${logged.join('\n')}`;
      // Its lines reach the server while it runs on the full disk.
      await vi.waitFor(async () => expect((await log(id)).split('\n'), await seen()).toContain('500'), {
        timeout: 30_000,
        interval: 100,
      });
      // What `dstack stop` (or `--abort`) does, and what the runner's heartbeat then hears.
      await stopJobs(engine, [(await engine.store.getJob(id))!], { abort: action === 'abort', actor: 'user:admin' });
      run.request(action);
      await endsWithin(ran, 30_000, seen);

      const job = await engine.store.getJob(id);
      expect([job?.status, job?.reason]).toEqual([status, reason]);
      expect((await log(id)).split('\n')).toContain('filled');
      expect(jobProcesses(id)).toEqual([]);
      expect(await jobFolders(workRoot)).toEqual([]);
    },
    60_000,
  );

  it('runs a job that needs no room of it to its end, though its pid file cannot be written', async () => {
    const workRoot = await mountTmpfs(1, cleanup);
    // Full to the last page before the job is claimed: head writes until the disk refuses.
    await execFileAsync('sh', ['-c', `head -c 2000000 /dev/zero > ${join(workRoot, 'ballast')} || true`]);
    const spec = makeSpec('compute', { commands: ['echo computed', 'exit 0'] });
    const { engine, id, run, log, logged } = await claimedJob(spec, cleanup, { workRoot });
    const status = async () => `${(await engine.store.getJob(id))?.status}\n${logged.join('\n')}`;
    await endsWithin(run.run(), 30_000, status);

    const job = await engine.store.getJob(id);
    expect([job?.status, job?.reason, job?.exitCode]).toEqual(['DONE', 'exit code 0', 0]);
    expect((await log(id)).split('\n')).toContain('computed');
    expect(logged.join('\n')).toMatch(
      new RegExp(
        `WARN .*job ${id}: its pid file could not be written \\(ENOSPC: no space left on device, write\\); ` +
          'it runs on, but a runner restarted after a crash will not take it up',
      ),
    );
  }, 60_000);

  it('fails a job whose dependency’s artifacts do not fit, saying the disk is full, and frees the space', async () => {
    const workRoot = await mountTmpfs(8, cleanup);
    const dep = makeSpec('big', { commands: ['head -c 5000000 /dev/urandom > data.bin'], artifacts: ['data.bin'] });
    const user = makeSpec('user', { dependsOn: [{ ref: 'big' }], commands: ['echo RAN'] });
    const runner = await testRunner([dep, user], cleanup, { workRoot });
    const big = await runner.claim();
    await big.run.run();
    expect((await runner.engine.store.getJob(big.id))?.status).toBe('DONE');
    // Its dependent finds the disk nearly full: 5 MB do not fit in what is left.
    await writeFile(join(workRoot, 'ballast'), Buffer.alloc(5 << 20));
    cleanup.push(() => rm(join(workRoot, 'ballast'), { force: true }));
    const { id, run } = await runner.claim();
    const status = async () => `${(await runner.engine.store.getJob(id))?.status}\n${runner.logged.join('\n')}`;
    await endsWithin(run.run(), 60_000, status);

    const job = await runner.engine.store.getJob(id);
    // The step that met the full disk says what it was doing and which folder filled (refused-write.ts).
    const reason =
      `the disk holding ${join(workRoot, 'jobs', id, 'workspace')} is full (no space left on device) ` +
      `while downloading 5.0MB of artifacts of big (${big.id}): free space on it`;
    expect([job?.status, job?.reason]).toEqual(['FAILED', reason]);
    expect(job?.commandsStarted).toBe(false);
    const text = await runner.log(id);
    expect(text).toContain(`[dstack] ${reason}`);
    expect(text).not.toContain('RAN');
    expect(runner.logged.join('\n')).toContain(`ERROR [test] job ${id} failed in the runner: ${reason}`);
    expect(await jobFolders(workRoot)).toEqual([]);
  }, 90_000);
});
