/**
 * A one-shot runner whose job's commands end while Slurm is ending its batch job (a time limit,
 * a preemption, an admin's scancel). slurmstepd signals the deepest processes first, so a job
 * that traps SIGTERM and exits 0 can end before the runner hears its own SIGTERM: the runner
 * asks the real Slurm, and the job ends STOPPED, resumable, not DONE and cached.
 */
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { ensureSlurm, skipSlurm, slurm } from '../services/slurm.js';
import { JOB, serverWithJob, sigtermJobProcesses, statuses } from './one-shot-fixture.js';

/** A batch job that ignores SIGTERM: once cancelled it stays COMPLETING until KillWait (5 s) runs out. */
async function heldBatchJob(): Promise<string> {
  const id = (await slurm('sbatch', ['--parsable', '--output=/dev/null', "--wrap=trap '' TERM; sleep 300"])).trim();
  await vi.waitFor(async () => expect((await slurm('squeue', ['-h', '-j', id, '-o', '%T'])).trim()).toBe('RUNNING'), {
    timeout: 60_000,
    interval: 200,
  });
  return id;
}

/** A job that saves and exits 0 on SIGTERM; it says when its trap is set. */
async function trappingJob(): Promise<{ script: string; trapSet: string }> {
  const trapSet = join(await mkdtemp(join(tmpdir(), 'dstack-trap-')), 'set');
  const trap = "trap 'echo bye; mkdir -p ck; echo saved > ck/c; exit 0' TERM";
  return { trapSet, script: `${trap}; touch '${trapSet}'; while true; do sleep 0.1 || true; done` };
}

describe.skipIf(skipSlurm)('one-shot runner, Slurm ending its batch job', () => {
  beforeAll(() => ensureSlurm(), 300_000);

  it(
    'stops a job that exited 0 on the SIGTERM of a scancel before the runner heard its own',
    { timeout: 120_000 },
    async () => {
      const batchJob = { id: await heldBatchJob(), squeue: 'squeue' };
      try {
        const { script, trapSet } = await trappingJob();
        const { engine, oneShot } = await serverWithJob([script], { artifacts: ['ck'], batchJob });
        const ended = oneShot();
        await vi.waitFor(() => stat(trapSet), { timeout: 10_000, interval: 20 });
        await slurm('scancel', [batchJob.id]);
        // The job's processes hear it; this process does not (yet): a slow slurmstepd, a loaded node.
        sigtermJobProcesses();
        expect(await ended).toBe('STOPPED');
        expect(await statuses(engine)).toStrictEqual([
          'SUBMITTED',
          'DOWNLOADING',
          'RUNNING',
          'STOPPING',
          'UPLOADING',
          'STOPPED',
        ]);
        const job = (await engine.store.getJob(JOB))!;
        expect(job.reason).toBe('stopped: Slurm ended the batch job (time limit, preemption or scancel)');
        const manifest = await engine.store.getArtifacts(JOB);
        expect(manifest?.artifacts.map((a) => a.files.map((f) => f.path))).toStrictEqual([['ck/c']]);
      } finally {
        await slurm('scancel', ['--signal=KILL', batchJob.id]).catch(() => '');
      }
    },
  );

  it('ends DONE a job that finished of itself while its batch job runs', { timeout: 120_000 }, async () => {
    const batchJob = { id: await heldBatchJob(), squeue: 'squeue' };
    try {
      const { engine, oneShot } = await serverWithJob(['echo done'], { batchJob });
      expect(await oneShot()).toBe('DONE');
      expect((await engine.store.getJob(JOB))?.reason).toBe('exit code 0');
    } finally {
      await slurm('scancel', ['--signal=KILL', batchJob.id]).catch(() => '');
    }
  });

  it('ends a job as its exit says, and warns why, when squeue cannot say whether Slurm is ending it', async () => {
    const lines: string[] = [];
    const logger = createLogger('runner-exec', 'info', (line) => void lines.push(line));
    const batchJob = { id: '4242', squeue: '/opt/nowhere/squeue' };
    const { engine, oneShot } = await serverWithJob(['echo done'], { batchJob, logger });
    expect(await oneShot()).toBe('DONE');
    expect((await engine.store.getJob(JOB))?.status).toBe('DONE');
    expect(lines.filter((l) => l.includes('WARN'))).toEqual([
      expect.stringMatching(
        /WARN \[runner-exec\] job a1b2c3d4e5f6: cannot tell whether Slurm is ending batch job 4242 \(\/opt\/nowhere\/squeue: .*ENOENT/,
      ),
    ]);
  });
});
