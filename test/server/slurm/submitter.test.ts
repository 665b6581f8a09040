/**
 * The submitter on the real engine over SQLite, with a scripted Slurm behind the port: a
 * slurmctld that does not answer for a while (a restart, a failover) is tried again.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../src/core/errors.js';
import type { JobRecord } from '../../../src/core/records.js';
import { createLogger } from '../../../src/logger.js';
import { SlurmSubmitter } from '../../../src/server/backends/slurm/submitter.js';
import { TrackedJobs } from '../../../src/server/backends/slurm/tracked-jobs.js';
import {
  SlurmUnreachableError,
  type SlurmCommands,
  type SlurmJobState,
  type SlurmNode,
} from '../../../src/server/backends/slurm/types.js';
import { seedRun } from '../../store/fixtures.js';
import { testApp } from '../app-fixture.js';

const NODE: SlurmNode = { name: 'n1', cpus: 8, memory: 32e9, gpus: [], state: 'idle' };
const UNREACHABLE = "slurmctld is unreachable: sbatch at 'sbatch' said: Unable to contact slurm controller";

/** sbatch as the test scripts it: the errors it gives first, in order, then job ids. */
class ScriptedSlurm implements SlurmCommands {
  failures: Error[] = [];
  submitted = 0;
  onSubmit: () => Promise<void> = async () => {};
  async check(): Promise<void> {}
  async submit(): Promise<string> {
    this.submitted++;
    await this.onSubmit();
    const failure = this.failures.shift();
    if (failure) throw failure;
    return '42';
  }
  async states(): Promise<Map<string, SlurmJobState>> {
    return new Map();
  }
  async cancel(): Promise<void> {}
  async nodes() {
    return [NODE];
  }
  async partitions() {
    return ['debug'];
  }
}

async function setUp(nodes: SlurmNode[] = [NODE]) {
  const { dir, store, engine } = await testApp('submitter');
  const slurm = new ScriptedSlurm();
  const tracked = await TrackedJobs.open(store, 'slurm');
  const submitter = new SlurmSubmitter({
    engine,
    slurm,
    tracked,
    options: {
      name: 'slurm',
      paths: { sbatch: 'sbatch', squeue: 'squeue', sacct: 'sacct', scancel: 'scancel', sinfo: 'sinfo' },
      workDir: join(dir, 'work'),
      serverUrl: 'http://127.0.0.1:1',
      sbatchArgs: [],
      pollMs: 1000,
      docker: false,
      queueDepth: 1,
      stopGraceMs: 10_000,
    },
    token: 'dst_runner',
    nodes: () => nodes,
    logger: createLogger('test', 'error', () => {}),
    retry: { forMs: 2000, firstMs: 20, maxMs: 100 },
  });
  const { jobs } = await seedRun(store, 'calm-owl-1', ['train']);
  await engine.transition(jobs[0]!.id, 'SUBMITTED', 'DOWNLOADING', { runner: 'slurm' }, 'runner:slurm');
  const job = async (): Promise<JobRecord> => (await store.getJob(jobs[0]!.id))!;
  return { engine, slurm, tracked, submitter, job: await job(), read: job };
}

describe('Slurm submitter', () => {
  it('submits a job that only a drained node could run, to wait for it in Slurm, and fails one no node could', async () => {
    // It fitted the usable nodes' sum of CPUs but no usable node: FAILED `no node has 4 CPUs (the
    // most is 2)`, where docs/slurm.md promises that it waits for the node.
    const nodes: SlurmNode[] = [
      { ...NODE, name: 'small', cpus: 2 },
      { ...NODE, name: 'big', cpus: 8, state: 'drained' },
    ];
    const waits = await setUp(nodes);
    const resources = { cpu: 4, memory: 0, gpu: 0 };
    await waits.submitter.submit({ ...waits.job, spec: { ...waits.job.spec, resources } });
    expect(waits.slurm.submitted).toBe(1);
    expect(await waits.read()).toMatchObject({ status: 'DOWNLOADING' });
    expect(waits.tracked.get(waits.job.id)).toMatchObject({ slurmId: '42' });

    const fails = await setUp(nodes);
    await fails.submitter.submit({ ...fails.job, spec: { ...fails.job.spec, resources: { ...resources, cpu: 9 } } });
    expect(fails.slurm.submitted).toBe(0);
    expect(await fails.read()).toMatchObject({ status: 'FAILED', reason: 'slurm: no node has 9 CPUs (the most is 8)' });
  });

  it('tries an unreachable slurmctld again, saying so in the job, and submits once it answers', async () => {
    const { slurm, tracked, submitter, job, read } = await setUp();
    slurm.failures = [new SlurmUnreachableError(UNREACHABLE), new SlurmUnreachableError(UNREACHABLE)];
    const reasons: (string | undefined)[] = [];
    slurm.onSubmit = async () => void reasons.push((await read()).reason);
    await submitter.submit(job);
    expect(slurm.submitted).toBe(3);
    expect(reasons).toEqual([
      undefined,
      `slurm: ${UNREACHABLE}; trying again in 0.02 s`,
      `slurm: ${UNREACHABLE}; trying again in 0.04 s`,
    ]);
    expect(await read()).toMatchObject({ status: 'DOWNLOADING' });
    expect((await read()).reason).toBeUndefined();
    expect(tracked.get(job.id)).toMatchObject({ slurmId: '42' });
  });

  it('fails the job once slurmctld has not answered for the whole while, and at once for other errors', async () => {
    const first = await setUp();
    first.slurm.failures = Array.from({ length: 100 }, () => new SlurmUnreachableError(UNREACHABLE));
    await first.submitter.submit(first.job);
    expect(await first.read()).toMatchObject({ status: 'FAILED', reason: `slurm: ${UNREACHABLE}` });
    expect(first.slurm.submitted).toBeGreaterThan(3);

    const other = await setUp();
    other.slurm.failures = [new UnavailableError("sbatch not found at 'sbatch': set its path with --slurm-sbatch")];
    await other.submitter.submit(other.job);
    expect(other.slurm.submitted).toBe(1);
    expect(await other.read()).toMatchObject({
      status: 'FAILED',
      reason: "slurm: sbatch not found at 'sbatch': set its path with --slurm-sbatch",
    });
  });

  it('ends a job stopped while it waits for slurmctld as asked, without submitting it', async () => {
    const { engine, slurm, submitter, job, read, tracked } = await setUp();
    slurm.failures = Array.from({ length: 100 }, () => new SlurmUnreachableError(UNREACHABLE));
    slurm.onSubmit = async () => {
      if (slurm.submitted === 2)
        await engine.transition(
          job.id,
          'DOWNLOADING',
          'STOPPING',
          { stopRequest: 'stop', reason: 'stopped by user' },
          'user:ada',
        );
    };
    await submitter.submit(job);
    expect(slurm.submitted).toBe(2);
    expect(await read()).toMatchObject({ status: 'STOPPED', reason: 'stopped by user' });
    expect(tracked.get(job.id)).toBeUndefined();
  });
});
