/**
 * Waiting jobs too big for the partition, on the real engine over SQLite: the nodes are
 * sinfo's data, the other runners rows of the store.
 */
import { describe, expect, it } from 'vitest';
import type { ResourceRequest } from '../../../src/core/resources.js';
import type { JobRecord } from '../../../src/core/records.js';
import type { SlurmNode } from '../../../src/server/backends/slurm/types.js';
import { failUnfittable } from '../../../src/server/backends/slurm/unfittable.js';
import { explainWaiting } from '../../../src/server/monitor.js';
import { makeJob, makeRun, makeRunner, makeSpec } from '../../store/fixtures.js';
import { testApp } from '../app-fixture.js';

const GB = 1e9;
const NODES: SlurmNode[] = [
  { name: 'c1', cpus: 2, memory: 8 * GB, gpus: [], state: 'idle' },
  { name: 'c2', cpus: 16, memory: 64 * GB, gpus: [], state: 'drained' },
];

/** A run of SUBMITTED jobs asking for these resources, and the Slurm runner registered. */
async function waiting(requests: Record<string, Partial<ResourceRequest>>, fields: Partial<JobRecord> = {}) {
  const { engine, store } = await testApp('unfittable');
  const run = makeRun('calm-owl-1');
  const jobs = Object.entries(requests).map(([ref, r]) =>
    makeJob(run, ref, { spec: makeSpec(ref, { resources: { cpu: 1, memory: 0, gpu: 0, ...r } }), ...fields }),
  );
  await store.createRun(run, jobs, 'test');
  await store.upsertRunner(makeRunner('slurm', { total: { cpu: 4, memory: 16 * GB, gpus: [] } }));
  const job = async (ref: string) => (await store.getJob(`calm-owl-1-${ref}`))!;
  return { engine, store, job };
}

describe('waiting jobs no Slurm node could run', () => {
  it('fail with the reason the submitter gives; those a node could run, even a drained one, wait', async () => {
    const { engine, job } = await waiting({
      huge: { cpu: 64 },
      gpu: { gpu: 1 },
      memory: { memory: 100 * GB },
      both: { cpu: 17, memory: 100 * GB },
      small: { cpu: 2 },
      drained: { cpu: 16 },
    });
    await failUnfittable(engine, 'slurm', NODES);
    expect(await job('huge')).toMatchObject({
      status: 'FAILED',
      reason: 'slurm: no node has 64 CPUs (the most is 16)',
    });
    expect(await job('gpu')).toMatchObject({ status: 'FAILED', reason: 'slurm: no node has 1 GPU (the most is 0)' });
    expect(await job('memory')).toMatchObject({
      status: 'FAILED',
      reason: 'slurm: no node has 100GB of memory (the most is 64GB)',
    });
    // Every part no node has, not the CPUs alone.
    expect(await job('both')).toMatchObject({
      status: 'FAILED',
      reason: 'slurm: no node has 17 CPUs (the most is 16) and 100GB of memory (the most is 64GB)',
    });
    expect((await job('small')).status).toBe('SUBMITTED');
    expect((await job('drained')).status).toBe('SUBMITTED'); // the node comes back
  });

  it('wait while another registered runner could run them, even an offline or lost one, and fail once it is deleted', async () => {
    const { engine, store, job } = await waiting({ gpu: { gpu: 1 }, huge: { cpu: 64 } });
    await store.upsertRunner(makeRunner('gpu-box')); // 8 CPUs, an A100
    await failUnfittable(engine, 'slurm', NODES);
    expect((await job('gpu')).status).toBe('SUBMITTED');
    // Why no runner can, not why Slurm's nodes cannot: gpu-box is too small too.
    expect(await job('huge')).toMatchObject({ status: 'FAILED', reason: 'no runner has 64 CPUs' });
    // Being restarted: it comes back, and the job waits for it as it would without Slurm.
    for (const status of ['OFFLINE', 'LOST'] as const) {
      await store.setRunnerStatus('gpu-box', status);
      await failUnfittable(engine, 'slurm', NODES);
      await explainWaiting(engine);
      // Named as the one that could take it, not left for an admin to think no runner has a GPU.
      expect(await job('gpu')).toMatchObject({
        status: 'SUBMITTED',
        reason: expect.stringMatching(
          new RegExp(
            `^no online runner has 1 GPU; gpu-box \\(${status.toLowerCase()} since [-0-9: ]+ UTC\\) could take it$`,
          ),
        ) as string,
      });
    }
    await store.deleteRunner('gpu-box');
    await failUnfittable(engine, 'slurm', NODES);
    expect(await job('gpu')).toMatchObject({ status: 'FAILED', reason: 'slurm: no node has 1 GPU (the most is 0)' });
  });

  it('fail, beside other runners, saying what each lacks where they differ, Slurm by its nodes', async () => {
    const { engine, store, job } = await waiting({
      both: { gpu: 2, memory: 3 * GB },
      wide: { cpu: 17 },
      bigger: { cpu: 20, memory: 70 * GB },
    });
    // A partition of 18 CPUs in all, no node of which has 17.
    await store.upsertRunner(makeRunner('slurm', { total: { cpu: 18, memory: 72 * GB, gpus: [] } }));
    // 2 GPUs but too little memory, as the tester's cpu-box.
    const gpus = [0, 1].map((index) => ({ index, name: 'T4', memory: 16 * GB }));
    await store.upsertRunner(makeRunner('cpu-box', { total: { cpu: 1, memory: 2 * GB, gpus } }));
    await failUnfittable(engine, 'slurm', NODES);
    expect(await job('both')).toMatchObject({
      status: 'FAILED',
      reason: 'no runner has what it needs (cpu-box: 3.0GB of memory; slurm: 2 GPUs)',
    });
    // Within the partition's sum but on no one node: Slurm's lack is its nodes'.
    expect(await job('wide')).toMatchObject({
      status: 'FAILED',
      reason: 'no runner has what it needs (cpu-box: 17 CPUs; slurm: no node has 17 CPUs (the most is 16))',
    });
    // Beyond the partition's CPUs, within its memory, which no one node has: both are said, not the CPUs alone.
    expect(await job('bigger')).toMatchObject({
      status: 'FAILED',
      reason:
        'no runner has what it needs (cpu-box: 20 CPUs and 70GB of memory; ' +
        'slurm: no node has 20 CPUs (the most is 16) and 70GB of memory (the most is 64GB))',
    });
  });

  it('leave a job that reuses a cached result alone', async () => {
    const { engine, job } = await waiting({ huge: { cpu: 64 } }, { cachedFrom: 'other-job' });
    await failUnfittable(engine, 'slurm', NODES);
    expect((await job('huge')).status).toBe('SUBMITTED');
  });
});
