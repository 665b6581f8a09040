/**
 * Moving a Slurm server to a new data folder (storage.md: same database and storage), on the
 * real Slurm of scripts/slurm.sh: a job running in Slurm goes on and ends DONE under the new
 * server, whose batch jobs, with `--host 0.0.0.0`, reach it by this machine's hostname.
 */
import { mkdtemp } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord, RunView } from '../../src/core/records.js';
import { ensureSlurm, skipSlurm } from '../services/slurm.js';
import { Sandbox, waitUntil } from './harness.js';
import { DstackServer, endSlurmJobs } from './slurm-harness.js';

const WORKFLOWS = `workflows:
  - name: long
    commands:
      - echo started
      - sleep 12
      - echo finished
  - name: quick
    commands:
      - echo quick
`;

describe.skipIf(skipSlurm)('a Slurm server moved to a new data folder', () => {
  let sb: Sandbox;
  let server: DstackServer;
  let base: string;
  const jobs: JobRecord[] = [];
  const onSlurm = (args: string[], timeoutMs?: number) =>
    sb.dstack(args, { env: server.env(), ...(timeoutMs ? { timeoutMs } : {}) });
  const jobOf = async (name: string): Promise<JobRecord> => {
    const r = await onSlurm(['status', name, '--json']);
    if (r.code !== 0) throw new Error(r.stderr + server.output);
    const job = (JSON.parse(r.stdout) as RunView[])[0]!.jobs[0]!;
    if (!jobs.some((j) => j.id === job.id)) jobs.push(job);
    return job;
  };

  beforeAll(async () => {
    await ensureSlurm();
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
    server = await DstackServer.create();
    base = await mkdtemp(join(tmpdir(), 'dstack-slurm-move-'));
  }, 300_000);
  afterAll(async () => {
    await endSlurmJobs(jobs);
    await server?.stop();
    await sb?.dispose();
  });

  it('keeps its running Slurm job, which ends DONE, and its batch jobs reach it by hostname', async () => {
    // The database and storage outlive the data folder, as on a team server.
    const shared = ['--database', `sqlite:${join(base, 'dstack.db')}`, '--storage', join(base, 'storage')];
    await server.start('slurm', shared);
    const long = (await onSlurm(['run', 'long', '-d'])).stdout.trim();
    await waitUntil(async () => (await onSlurm(['logs', long])).stdout.includes('started'), 60_000);
    expect((await jobOf(long)).status).toBe('RUNNING');

    await server.stop();
    server.dataDir = join(base, 'data-2');
    await server.start('slurm', [...shared, '--host', '0.0.0.0']);
    // The log (stderr) may come after the start line (stdout).
    await waitUntil(async () => server.output.includes('server listening on'), 10_000);
    expect(server.output).toContain(
      "runner 'slurm' has older tokens (a start on a new data folder): they stay valid until " +
        'the 1 batch jobs submitted before this start have ended',
    );
    await waitUntil(
      async () => ['DONE', 'FAILED'].includes((await jobOf(long)).status),
      60_000,
      async () => JSON.stringify(await jobOf(long)) + server.output,
    );
    expect(await jobOf(long), server.output).toMatchObject({ status: 'DONE' });
    expect((await onSlurm(['logs', long])).stdout).toContain('finished');
    await waitUntil(async () => server.output.includes("revoked 1 older token(s) of runner 'slurm'"), 10_000);

    // A job submitted by the moved server: its batch job is told this machine's name, not 0.0.0.0.
    expect(server.output).toContain(
      `the server listens on every address (0.0.0.0): batch jobs reach it at http://${hostname()}:${server.port}`,
    );
    const quick = await onSlurm(['run', 'quick'], 120_000);
    expect(quick.stdout + quick.stderr).toContain('quick');
    expect(quick.code).toBe(0);
  }, 300_000);
});
