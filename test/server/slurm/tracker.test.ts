/**
 * The tracker on the real engine over SQLite, with a scripted Slurm behind the port:
 * the cases a real cluster cannot be made to show on demand (a job Slurm lost, a queue that
 * cannot be read).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../../src/core/records.js';
import { createLogger } from '../../../src/logger.js';
import { attemptDir, outputFile, tokenFile } from '../../../src/server/backends/slurm/batch.js';
import { LAST_WORDS_MS, LOST_AFTER_MS } from '../../../src/server/backends/slurm/reconcile.js';
import { TrackedJobs } from '../../../src/server/backends/slurm/tracked-jobs.js';
import { SlurmTracker } from '../../../src/server/backends/slurm/tracker.js';
import type { SlurmCommands, SlurmJobState } from '../../../src/server/backends/slurm/types.js';
import { Engine } from '../../../src/server/engine.js';
import { LocalBlobStore } from '../../../src/server/storage/local-blob-store.js';
import { LogStore } from '../../../src/server/storage/log-store.js';
import { openSqliteStore } from '../../../src/server/store/sqlite.js';
import { seedRun } from '../../store/fixtures.js';

/** Slurm as the test scripts it: `queue` is what squeue says, or an error. */
class ScriptedSlurm implements SlurmCommands {
  queue: Map<string, SlurmJobState> | Error = new Map();
  cancelled: string[] = [];
  async check(): Promise<void> {}
  async submit(): Promise<string> {
    throw new Error('not used');
  }
  async states(): Promise<Map<string, SlurmJobState>> {
    if (this.queue instanceof Error) throw this.queue;
    return this.queue;
  }
  async cancel(id: string, signal?: 'TERM'): Promise<void> {
    this.cancelled.push(signal ? `${id}:${signal}` : id);
  }
  async nodes() {
    return [];
  }
  async partitions() {
    return ['debug'];
  }
}

async function setUp() {
  const dir = await mkdtemp(join(tmpdir(), 'dstack-tracker-'));
  const store = await openSqliteStore(join(dir, 'db'));
  const engine = new Engine({
    store,
    blobs: new LocalBlobStore(join(dir, 'blobs')),
    logs: new LogStore(join(dir, 'logs')),
    logger: createLogger('test', 'error', () => {}),
  });
  const warnings: string[] = [];
  const slurm = new ScriptedSlurm();
  const tracked = await TrackedJobs.open(store, 'slurm');
  const tracker = new SlurmTracker({
    engine,
    slurm,
    tracked,
    workDir: join(dir, 'work'),
    defaultGraceMs: 10_000,
    logger: createLogger('test', 'warn', (line) => warnings.push(line)),
    actor: 'runner:slurm',
  });
  const { jobs } = await seedRun(store, 'calm-owl-1', ['train']);
  const taken = await engine.transition(jobs[0]!.id, 'SUBMITTED', 'DOWNLOADING', { runner: 'slurm' }, 'runner:slurm');
  if (!taken.ok) throw new Error('could not assign the job');
  await tracked.put({ jobId: jobs[0]!.id, slurmId: '7', submittedAt: Date.now() });
  const job = async (): Promise<JobRecord> => (await store.getJob(jobs[0]!.id))!;
  return { engine, slurm, tracked, tracker, warnings, job, workDir: join(dir, 'work') };
}

describe('Slurm tracker', () => {
  it("shows Slurm's reason while the job waits, and ends it FAILED runner lost when Slurm loses it", async () => {
    const { slurm, tracked, tracker, job } = await setUp();
    slurm.queue = new Map([['7', { slurmId: '7', state: 'PENDING', reason: 'Priority' }]]);
    await tracker.tick();
    expect(await job()).toMatchObject({ status: 'DOWNLOADING', reason: 'slurm 7: PENDING (Priority)' });
    slurm.queue = new Map();
    await tracker.tick();
    expect((await job()).status).toBe('DOWNLOADING'); // squeue may lag right after sbatch
    await tracker.tick(Date.now() + LOST_AFTER_MS + 1);
    expect(await job()).toMatchObject({ status: 'FAILED', reason: 'runner lost' });
    expect(tracked.all()).toEqual([]);
  });

  it('cancels a job stopped while it waits in Slurm and ends it STOPPED', async () => {
    const { engine, slurm, tracker, job } = await setUp();
    slurm.queue = new Map([['7', { slurmId: '7', state: 'PENDING', reason: 'Resources' }]]);
    await engine.transition(
      (await job()).id,
      'DOWNLOADING',
      'STOPPING',
      { stopRequest: 'stop', reason: 'stopped by user' },
      'user:ada',
    );
    await tracker.tick();
    expect(slurm.cancelled).toEqual(['7']);
    expect(await job()).toMatchObject({ status: 'STOPPED', reason: 'stopped by user' });
  });

  it("leaves a resumed job to its new attempt: the earlier attempt's Slurm job, ended, is only forgotten", async () => {
    const { engine, slurm, tracked, tracker, job, workDir } = await setUp();
    // The first attempt ran, was stopped, and its runner reported STOPPED; Slurm shows it COMPLETED.
    const id = (await job()).id;
    const attempt = async (slurmId: string, at: number) => {
      const dir = attemptDir(workDir, id, at);
      await mkdir(dir, { recursive: true });
      await writeFile(tokenFile(dir), 'token');
      await tracked.put({ jobId: id, slurmId, submittedAt: at, dir });
      return dir;
    };
    const first = await attempt('7', 1);
    for (const [from, to] of [
      ['DOWNLOADING', 'RUNNING'],
      ['RUNNING', 'STOPPING'],
      ['STOPPING', 'STOPPED'],
      ['STOPPED', 'SUBMITTED'], // resumed before the tracker's next look
    ] as const)
      expect((await engine.transition(id, from, to, {}, 'test')).ok).toBe(true);
    slurm.queue = new Map([['7', { slurmId: '7', state: 'COMPLETED' }]]);
    await tracker.tick();
    expect(await job()).toMatchObject({ status: 'SUBMITTED' });
    expect(tracked.all()).toEqual([]);
    expect(existsSync(first)).toBe(false);

    // Claimed again before the new submission's record replaced the old one: the old one's end is no news.
    const third = await attempt('7', Date.now() - 1000);
    await engine.transition(id, 'SUBMITTED', 'DOWNLOADING', { runner: 'slurm' }, 'runner:slurm');
    await tracker.tick();
    expect(await job()).toMatchObject({ status: 'DOWNLOADING' });
    expect(tracked.all()).toEqual([]);
    expect(existsSync(third)).toBe(false);
    await engine.transition(id, 'DOWNLOADING', 'SUBMITTED', {}, 'test'); // (a way back for the next case)

    // Claimed and submitted again meanwhile: a look that began before that spares the new record and folder.
    await attempt('7', 2);
    await engine.transition(id, 'SUBMITTED', 'DOWNLOADING', { runner: 'slurm' }, 'runner:slurm');
    const states = slurm.states.bind(slurm);
    let second = '';
    slurm.states = async () => {
      second = await attempt('8', 3); // while the tick waits on squeue
      return states();
    };
    await tracker.tick();
    expect(await job()).toMatchObject({ status: 'DOWNLOADING' });
    expect(tracked.all().map((t) => t.slurmId)).toEqual(['8']);
    expect(existsSync(tokenFile(second))).toBe(true);
  });

  it("keeps Slurm's output file of a job that Slurm ended (a scancel from outside) for a post-mortem", async () => {
    const { slurm, tracked, tracker, job, workDir } = await setUp();
    const dir = attemptDir(workDir, (await job()).id, Date.now());
    await mkdir(join(dir, 'work'), { recursive: true });
    await writeFile(outputFile(dir, '7'), 'runner: got SIGTERM\n');
    await tracked.put({ jobId: (await job()).id, slurmId: '7', submittedAt: Date.now(), dir });
    slurm.queue = new Map([['7', { slurmId: '7', state: 'CANCELLED' }]]);
    await tracker.tick();
    await tracker.tick(Date.now() + LAST_WORDS_MS + 1);
    // Killed before it reported (KillWait, a server that did not answer): its own messages say why.
    expect(await job()).toMatchObject({
      status: 'FAILED',
      reason: `slurm 7: CANCELLED; the runner did not report the job's end, see ${outputFile(dir, '7')}`,
    });
    expect(tracked.all()).toEqual([]);
    expect(await readFile(outputFile(dir, '7'), 'utf8')).toBe('runner: got SIGTERM\n');
    expect(existsSync(join(dir, 'work'))).toBe(false);
  });

  it('removes the folder of a job whose runner reported its failure, exit code and all, as of a job done', async () => {
    const { engine, slurm, tracked, tracker, job, workDir } = await setUp();
    const dir = attemptDir(workDir, (await job()).id, Date.now());
    await mkdir(join(dir, 'work'), { recursive: true });
    await writeFile(outputFile(dir, '7'), 'job ended: FAILED\n');
    await tracked.put({ jobId: (await job()).id, slurmId: '7', submittedAt: Date.now(), dir });
    await engine.transition((await job()).id, 'DOWNLOADING', 'RUNNING', {}, 'runner:slurm');
    await engine.transition(
      (await job()).id,
      'RUNNING',
      'FAILED',
      { reason: 'exit code 3', exitCode: 3 },
      'runner:slurm',
    );
    slurm.queue = new Map([['7', { slurmId: '7', state: 'FAILED', exitCode: 1 }]]);
    await tracker.tick();
    expect(await job()).toMatchObject({ status: 'FAILED', reason: 'exit code 3' });
    expect(tracked.all()).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it('changes nothing while the queue cannot be read, and says so once', async () => {
    const { slurm, tracker, warnings, job } = await setUp();
    slurm.queue = new Error('slurmctld is unreachable: squeue said: Unable to contact slurm controller');
    await tracker.tick(Date.now() + LOST_AFTER_MS * 10);
    await tracker.tick(Date.now() + LOST_AFTER_MS * 10);
    expect((await job()).status).toBe('DOWNLOADING');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('cannot read the Slurm queue: slurmctld is unreachable');
  });
});
