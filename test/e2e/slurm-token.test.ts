/**
 * `dstack runners token slurm` on a server with the Slurm backend, on the real Slurm of
 * scripts/slurm.sh: the server keeps the new token (in memory and in its file) and the batch
 * jobs it submits from then on use it, at once and after a restart; the jobs submitted with
 * the old one fail as any runner's do, and Slurm ends them.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import type { JobRecord, RunView } from '../../src/core/records.js';
import { jobDir } from '../../src/server/backends/slurm/batch.js';
import { FINISHED_CANCEL_AFTER_MS } from '../../src/server/backends/slurm/reconcile.js';
import { jobProcesses } from '../services/processes.js';
import { ensureSlurm, skipSlurm, slurm } from '../services/slurm.js';
import { Sandbox, waitUntil } from './harness.js';
import { DstackServer, endSlurmJobs } from './slurm-harness.js';

/** `wide` asks for every CPU of the node: it waits in Slurm's queue while `slow` runs. */
const workflows = (nodeCpus: string) => `workflows:
  - name: quick
    commands:
      - echo quick
  - name: slow
    commands:
      - echo started
      - sleep 300
  - name: wide
    resources:
      cpu: ${nodeCpus}
    commands:
      - echo never
`;

describe.skipIf(skipSlurm)("replacing the Slurm backend's runner token", () => {
  let sb: Sandbox;
  let server: DstackServer;
  const jobs: JobRecord[] = [];
  const onSlurm = (args: string[], timeoutMs?: number) =>
    sb.dstack(args, { env: server.env(), ...(timeoutMs ? { timeoutMs } : {}) });
  const jobOf = async (name: string): Promise<JobRecord> => {
    const r = await onSlurm(['status', name, '--json']);
    if (r.code !== 0) throw new Error(r.stderr);
    const job = (JSON.parse(r.stdout) as RunView[])[0]!.jobs[0]!;
    if (!jobs.some((j) => j.id === job.id)) jobs.push(job);
    return job;
  };
  const tokenFile = () => join(server.dataDir, 'slurm', 'runner-token');
  const runQuick = async () => {
    const r = await onSlurm(['run', 'quick', '--no-cache'], 120_000);
    expect(r.code, r.stdout + r.stderr + server.output).toBe(0);
    expect(r.stdout).toContain('quick');
  };
  /** The Slurm job that runs a dstack job, by the name the backend gives it. */
  const slurmStateOf = async (job: JobRecord) =>
    (await slurm('squeue', ['-h', '-t', 'all', '-n', `dstack-${job.workflow}-${job.id}`, '-o', '%T'])).trim();

  beforeAll(async () => {
    await ensureSlurm();
    sb = await Sandbox.create();
    const nodeCpus = (await slurm('sinfo', ['-h', '-N', '-o', '%c'])).trim();
    await sb.write({ '.dstack/workflows.yaml': workflows(nodeCpus) });
    server = await DstackServer.create();
    await server.start('slurm');
  }, 300_000);
  afterAll(async () => {
    await endSlurmJobs(jobs);
    await server?.stop();
    await sb?.dispose();
  });

  it('new batch jobs use the new token at once and after a restart; those of the old one fail', async () => {
    await runQuick();
    const old = (await readFile(tokenFile(), 'utf8')).trim();

    // A job running in Slurm with the old token, and one waiting in its queue with it.
    const slow = (await onSlurm(['run', 'slow', '-d'])).stdout.trim();
    await jobOf(slow);
    await waitUntil(async () => (await onSlurm(['logs', slow])).stdout.includes('started'), 60_000);
    const wide = (await onSlurm(['run', 'wide', '-d'])).stdout.trim();
    await waitUntil(async () => /^slurm \d+: PENDING/.test((await jobOf(wide)).reason ?? ''), 30_000);

    const deleted = await onSlurm(['runners', 'delete', 'slurm']);
    expect([deleted.code, deleted.stderr]).toEqual([
      1,
      "error: runner 'slurm' is this server's own (its Slurm backend): " +
        'start the server without --backend slurm to submit nothing to Slurm\n',
    ]);
    const r = await onSlurm(['runners', 'token', 'slurm']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      'issued a new token for runner slurm, which the server runs itself (its Slurm backend): the server keeps it ' +
        'and gives it to the batch jobs it submits from now on; the old one no longer works ' +
        '(its 2 jobs failed: runner token replaced)\n',
    );
    expect(r.code).toBe(0);

    // The file holds the new token, which acts as the runner; the old one is refused.
    const fresh = (await readFile(tokenFile(), 'utf8')).trim();
    expect(fresh).toMatch(/^dst_/);
    expect(fresh).not.toBe(old);
    expect(r.stdout).not.toContain(fresh);
    expect((await new Client({ url: server.url, token: fresh }).health()).caller).toBe('slurm');
    await expect(new Client({ url: server.url, token: old }).health()).rejects.toThrow('missing or invalid token');

    // The old token's jobs failed, saying why. The running one's runner aborted it (the server
    // said so at its heartbeat, or refused it) and said why, before Slurm's cancel of a job whose
    // dstack job has ended would have come (30 s).
    const replacedAt = Date.now();
    for (const name of [slow, wide]) {
      const job = await jobOf(name);
      expect(job).toMatchObject({ status: 'FAILED', reason: 'runner token replaced' });
      await waitUntil(
        async () => ['', 'CANCELLED', 'COMPLETED', 'FAILED'].includes(await slurmStateOf(job)),
        20_000,
        async () => `slurm job of ${name}: ${await slurmStateOf(job)}`,
      );
      await waitUntil(async () => jobProcesses(job.id).length === 0, 5_000);
    }
    expect(Date.now() - replacedAt).toBeLessThan(FINISHED_CANCEL_AFTER_MS);
    const slowJob = await jobOf(slow);
    const [output] = await readdir(join(jobDir(join(server.dataDir, 'slurm', 'work'), slowJob.id)), {
      recursive: true,
    }).then((names) => names.filter((n) => n.endsWith('.out')));
    expect(await readFile(join(jobDir(join(server.dataDir, 'slurm', 'work'), slowJob.id), output!), 'utf8')).toMatch(
      new RegExp(
        [
          "the server refuses the token of runner 'slurm': it was replaced \\(dstack runners token\\) or deleted " +
            `\\(dstack runners delete\\)\\. Aborting job ${slowJob.id}, which the server has failed already`,
          `job ${slowJob.id} ended here unreported: the server refuses this runner's token, which was replaced ` +
            '\\(dstack runners token\\) or deleted \\(dstack runners delete\\)',
        ].join('|'),
      ),
    );

    // A new job gets the new token: no restart needed.
    await runQuick();
    expect(server.output).not.toContain(fresh);

    // The restarted server keeps it.
    await server.start('slurm');
    expect((await readFile(tokenFile(), 'utf8')).trim()).toBe(fresh);
    await runQuick();
  });
});
